"""Reading edXML packages (QCVN 102:2016) from anywhere: the vendors' wrapped form and our older
bare envelope, with either content-id style.

Lenient where writers differ (a root ``edXML`` around the envelope or the envelope as the root,
``AttachmentEncoded`` beside or inside the envelope, prefixed or in the default namespace,
``cid:`` on either side of the manifest), strict about what matters: the namespace, the envelope
under the root, required fields, dates, base64, and every file named once in the manifest. The
parser resolves no entity, loads no DTD, touches no network, and refuses any DOCTYPE and any
package above :data:`MAX_PACKAGE_BYTES`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass

from lxml import etree

from documents.edxml_model import (
    NS,
    XLINK,
    E,
    EdxmlAttachment,
    EdxmlDocument,
    EdxmlStatus,
    Organ,
    parse_date,
    parse_timestamp,
)
from documents.errors import EdxmlError

MAX_PACKAGE_BYTES = 150 * 1024 * 1024
"""The largest package read (the files' base64 included); larger ones are refused unread."""

# huge_tree: a file's base64 is one text node, and libxml2 caps text nodes at 10 MB without it;
# entities are never expanded and a DOCTYPE is refused outright, so no bomb gets through
_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=True,
    remove_comments=True,
    remove_pis=True,
)


@dataclass(frozen=True)
class ParsedPackage:
    """A package's root and its envelope (the same element for a bare envelope)."""

    root: etree._Element
    envelope: etree._Element

    @property
    def wrapped(self) -> bool:
        """True for the vendors' form (a root ``edXML`` around the envelope)."""
        return self.root is not self.envelope


class UnreadablePackage(EdxmlError):
    """Not XML at all, or too large to read: nothing in it can be checked."""


def _refuse(detail: str, detail_vi: str) -> EdxmlError:
    return EdxmlError(detail, detail_vi=detail_vi)


def parse_package(data: bytes) -> ParsedPackage:
    """Parse ``data`` and find the envelope under the root, as a strict reader does."""
    if len(data) > MAX_PACKAGE_BYTES:
        raise UnreadablePackage(
            f"the package is {len(data)} bytes, above the limit of {MAX_PACKAGE_BYTES}",
            detail_vi=f"Gói tin quá lớn ({len(data) // 2**20} MB; "
            f"tối đa {MAX_PACKAGE_BYTES // 2**20} MB).",
        )
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise UnreadablePackage(
            f"not well-formed XML: {exc}", detail_vi="Thông điệp edXML không phải XML hợp lệ."
        ) from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise _refuse(
            "the package declares a DOCTYPE (entities and DTDs are not allowed in edXML)",
            "Gói tin có khai báo DOCTYPE/thực thể; edXML không cho phép.",
        )
    if not isinstance(root.tag, str) or not root.tag.startswith(E):
        raise _refuse(
            f"the root element {root.tag!r} is not in the namespace {NS}",
            f"Phần tử gốc không thuộc không gian tên QCVN 102:2016 ({NS}).",
        )
    if root.tag == E + "edXMLEnvelope":
        return ParsedPackage(root, root)
    env = root.find(E + "edXMLEnvelope")
    if env is None:
        raise _refuse(
            f"no edXML:edXMLEnvelope under the root element (namespace {NS})",
            "Không có phần tử edXML:edXMLEnvelope (đúng không gian tên QCVN 102:2016) "
            "dưới phần tử gốc.",
        )
    return ParsedPackage(root, env)


def _text(node: etree._Element | None, path: str, *, required: str | None = None) -> str:
    found = node.find(path) if node is not None else None
    value = (found.text or "").strip() if found is not None else ""
    if required and not value:
        raise _refuse(f"{required} is missing", f"Thông điệp edXML thiếu trường {required}.")
    return value


def _path(*names: str) -> str:
    return "/".join(E + n for n in names)


def _int(text: str, default: int, where: str) -> int:
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        raise _refuse(f"{where}: {text!r} is not a number", f"{where} phải là số.") from None


def _read_organ(node: etree._Element | None, where: str) -> Organ:
    if node is None:
        raise _refuse(f"{where} is missing", f"Thông điệp edXML thiếu {where}.")
    return Organ(
        organ_id=_text(node, E + "OrganId", required=f"{where}/OrganId"),
        organ_name=_text(node, E + "OrganName"),
        organization_in_charge=_text(node, E + "OrganizationInCharge"),
        organ_add=_text(node, E + "OrganAdd"),
        email=_text(node, E + "Email"),
        telephone=_text(node, E + "Telephone"),
        fax=_text(node, E + "Fax"),
        website=_text(node, E + "Website"),
    )


def _children(parent: etree._Element, local: str) -> Iterable[etree._Element]:
    """Children named ``local`` in the edXML namespace or, as some peers write, in none."""
    for child in parent:
        if isinstance(child.tag, str) and child.tag in (E + local, local):
            yield child


def _child_text(parent: etree._Element, local: str) -> str:
    for child in _children(parent, local):
        return (child.text or "").strip()
    return ""


def content_id(text: str) -> str:
    """A content id as the manifest (``cid:<id>``, sometimes ``<id>``) or the attachment (the
    bare id) writes it, reduced to the bare id."""
    value = text.strip()
    if value[:4].lower() == "cid:":
        value = value[4:]
    return value.strip().removeprefix("<").removesuffix(">")


def decode_base64(text: str, cid: str) -> bytes:
    """The bytes of an attachment's base64 (whitespace allowed, nothing else)."""
    try:
        # the usual case in one pass: base64 with no whitespace (what we and most peers write);
        # strict mode accepts a subset of what the general path below accepts, with the same
        # result, and is ~2 ms cheaper on 1 MB
        return binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError):
        pass
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise _refuse(
            f"attachment {cid} is not valid base64",
            f"Tệp đính kèm {cid} không đúng mã hoá base64.",
        ) from None


def manifest(env: etree._Element) -> list[tuple[str, tuple[str, str, str]]]:
    """The manifest's references in order: (bare content id, (name, type, description))."""
    out = []
    for ref in env.iter(E + "Reference"):
        cid = content_id(ref.get(f"{{{XLINK}}}href") or _text(ref, E + "ContentId"))
        details = (
            _text(ref, E + "AttachmentName"),
            _text(ref, E + "ContentType"),
            _text(ref, E + "Description"),
        )
        out.append((cid, details))
    return out


def attachment_nodes(package: ParsedPackage) -> list[etree._Element]:
    """``Attachment`` elements of ``AttachmentEncoded`` beside the envelope or inside it."""
    holders = [*_children(package.envelope, "AttachmentEncoded")]
    if package.wrapped:
        holders += _children(package.root, "AttachmentEncoded")
    return [node for holder in holders for node in _children(holder, "Attachment")]


def _attachments(package: ParsedPackage) -> tuple[EdxmlAttachment, ...]:
    refs = manifest(package.envelope)
    names = dict(refs)
    found: dict[str, EdxmlAttachment] = {}
    for node in attachment_nodes(package):
        cid = content_id(_child_text(node, "ContentId"))
        if cid not in names:
            raise _refuse(
                f"attachment {cid!r} is not named in the manifest",
                f"Tệp đính kèm “{cid}” không có trong danh mục (edXMLManifest) của gói tin.",
            )
        if cid in found:
            raise _refuse(f"attachment {cid!r} twice", f"Tệp đính kèm “{cid}” xuất hiện hai lần.")
        ref_name, ref_type, ref_desc = names[cid]
        found[cid] = EdxmlAttachment(
            name=_child_text(node, "AttachmentName") or ref_name or f"{cid}.bin",
            data=decode_base64(_child_text(node, "ContentTransferEncoded"), cid),
            content_type=_child_text(node, "ContentType") or ref_type or "application/octet-stream",
            content_id=cid,
            description=_child_text(node, "Description") or ref_desc,
        )
    missing = [cid for cid, _details in refs if cid not in found]
    if missing:
        raise _refuse(
            f"manifest references missing attachments: {', '.join(missing)}",
            "Danh mục tham chiếu tệp đính kèm không có trong thông điệp: " + ", ".join(missing),
        )
    return tuple(found[cid] for cid, _details in refs)


def parse_document(data: bytes) -> EdxmlDocument:
    """Read an edXML document package; :class:`EdxmlError` names what is wrong."""
    return document_of(parse_package(data))


def document_of(package: ParsedPackage) -> EdxmlDocument:
    """The document a parsed package carries."""
    env = package.envelope
    mh = env.find(_path("edXMLHeader", "MessageHeader"))
    if mh is None:
        raise _refuse("MessageHeader is missing", "Thông điệp edXML thiếu MessageHeader.")
    to = tuple(_read_organ(n, "To") for n in mh.findall(E + "To"))
    if not to:
        raise _refuse("no To", "Thông điệp edXML không có nơi nhận (To).")
    business = env.find(_path("edXMLHeader", "TraceHeaderList", "Bussiness"))
    trace_time = _text(env, _path("edXMLHeader", "TraceHeaderList", "TraceHeader", "Timestamp"))
    due = _text(mh, E + "DueDate")
    replaces = tuple(
        (n.text or "").strip() for n in env.iter(E + "DocumentId") if _parent_is_replacement(n)
    )
    return EdxmlDocument(
        sender=_read_organ(mh.find(E + "From"), "From"),
        to=to,
        code_number=_text(mh, _path("Code", "CodeNumber"), required="Code/CodeNumber"),
        code_notation=_text(mh, _path("Code", "CodeNotation")),
        promulgation_date=parse_date(
            _text(mh, _path("PromulgationInfo", "PromulgationDate"), required="PromulgationDate"),
            "PromulgationDate",
        ),
        subject=_text(mh, E + "Subject", required="Subject"),
        attachments=_attachments(package),
        place=_text(mh, _path("PromulgationInfo", "Place")),
        doc_type=_int(_text(mh, _path("DocumentType", "Type")), 1, "DocumentType/Type"),
        type_name=_text(mh, _path("DocumentType", "TypeName")),
        content=_text(mh, E + "Content"),
        signer_competence=_text(mh, _path("SignerInfo", "Competence")),
        signer_position=_text(mh, _path("SignerInfo", "Position")),
        signer_name=_text(mh, _path("SignerInfo", "FullName")),
        due_date=parse_date(due, "DueDate") if due else None,
        priority=_int(_text(mh, _path("OtherInfo", "Priority")), 0, "Priority"),
        page_amount=_int(_text(mh, _path("OtherInfo", "PageAmount")), 0, "PageAmount"),
        steering_type=_int(_text(mh, E + "SteeringType"), 0, "SteeringType"),
        business_type=_int(_text(business, E + "BussinessDocType"), 0, "BussinessDocType"),
        business_reason=_text(business, E + "BussinessDocReason"),
        replaces=replaces,
        sent_at=parse_timestamp(trace_time, "TraceHeader/Timestamp") if trace_time else None,
    )


def _parent_is_replacement(node: etree._Element) -> bool:
    parent = node.getparent()
    return parent is not None and parent.tag == E + "ReplacementInfo"


def parse_status(data: bytes) -> EdxmlStatus:
    """Read an edXML status package (``Status`` in the envelope's header)."""
    return status_of(parse_package(data))


def status_of(package: ParsedPackage) -> EdxmlStatus:
    """The status a parsed package carries."""
    st = package.envelope.find(_path("edXMLHeader", "Status"))
    if st is None:
        st = next(package.envelope.iter(E + "Status"), None)
    if st is None:
        raise _refuse("no edXML:Status", "Thông điệp không có phần tử edXML:Status.")
    rf = st.find(E + "ResponseFor")
    code = _text(rf, E + "Code")
    number, _sep, notation = code.partition("/")
    return EdxmlStatus(
        document_id=_text(rf, E + "DocumentId", required="ResponseFor/DocumentId"),
        sender_code=_text(rf, E + "OrganId", required="ResponseFor/OrganId"),
        code_number=number,
        code_notation=notation,
        promulgation_date=parse_date(
            _text(rf, E + "PromulgationDate", required="ResponseFor/PromulgationDate"),
            "PromulgationDate",
        ),
        from_organ=_read_organ(st.find(E + "From"), "From"),
        status_code=_text(st, E + "StatusCode", required="StatusCode"),
        description=_text(st, E + "Description"),
        timestamp=parse_timestamp(_text(st, E + "Timestamp", required="Timestamp"), "Timestamp"),
        staff_name=_text(st, _path("StaffInfo", "Staff")),
        department=_text(st, _path("StaffInfo", "Department")),
    )
