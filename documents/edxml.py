"""edXML per QCVN 102:2016/BTTTT: documents and status messages, to and from XML.

The content (:mod:`documents.edxml_model`), the writer (:mod:`documents.edxml_write`: the wrapped
form the vendors of the national document axis write, the bare envelope on request) and the
reader (:mod:`documents.edxml_read`: both forms, either content-id style, no entities, no DTD,
no network) are kept apart; this module names them in one place for the rest of the package.
"""

from __future__ import annotations

from documents.edxml_model import (
    DS,
    NS,
    XLINK,
    EdxmlAttachment,
    EdxmlDocument,
    EdxmlStatus,
    Organ,
    fmt_date,
    fmt_timestamp,
    parse_date,
    parse_timestamp,
)
from documents.edxml_read import (
    MAX_PACKAGE_BYTES,
    ParsedPackage,
    document_of,
    parse_document,
    parse_package,
    parse_status,
    status_of,
)
from documents.edxml_write import (
    Package,
    build_document,
    build_status,
    document_to_xml,
    status_to_xml,
)

__all__ = [
    "DS",
    "MAX_PACKAGE_BYTES",
    "NS",
    "XLINK",
    "EdxmlAttachment",
    "EdxmlDocument",
    "EdxmlStatus",
    "Organ",
    "Package",
    "ParsedPackage",
    "build_document",
    "build_status",
    "document_of",
    "document_to_xml",
    "fmt_date",
    "fmt_timestamp",
    "parse_date",
    "parse_document",
    "parse_package",
    "parse_status",
    "parse_timestamp",
    "status_of",
    "status_to_xml",
]
