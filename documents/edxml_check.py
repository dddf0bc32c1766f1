"""Which rules of QCVN 102:2016 a package breaks (``lienthong edxml check``), every one of them.

The reader (:mod:`documents.edxml_read`) stops at the first thing it cannot take in; a clerk or
an integrator facing a package from another vendor wants the whole list: required elements,
date and timestamp forms, agency-code form, the DocumentId form, the manifest against the
attachments, base64 and the package's shape (the envelope under a root ``edXML``, the ``edXML:``
prefix inside it). Each finding names its rule, where it is, and says it in Vietnamese and English.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from lxml import etree

from documents.edxml_model import NS, XLINK, E
from documents.edxml_read import (
    ParsedPackage,
    UnreadablePackage,
    attachment_nodes,
    content_id,
    parse_package,
)
from documents.errors import EdxmlError
from server.accounts.agencies import CODE_RE

_DOCUMENT_ID = re.compile(r"^(?P<code>[^,]+),(?P<date>\d{4}/\d{2}/\d{2}),(?P<number>.+)$")
_B64 = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")


@dataclass(frozen=True, slots=True)
class Finding:
    """One broken rule."""

    rule: str
    """Short rule id: ``shape``, ``prefix``, ``required``, ``date``, ``timestamp``,
    ``agency_code``, ``document_id``, ``business``, ``manifest``, ``base64``, ``xml``."""
    where: str
    detail: str
    detail_vi: str


@dataclass(frozen=True, slots=True)
class CheckReport:
    """What ``check`` found: the kind of package and every broken rule."""

    kind: str
    """``document``, ``status`` or ``unknown``."""
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return not self.findings

    def to_json(self) -> dict[str, Any]:
        """The report as the CLI's ``--json`` prints it."""
        return {
            "ok": self.ok,
            "kind": self.kind,
            "findings": [asdict(f) for f in self.findings],
        }


class _Findings(list[Finding]):
    def add(self, rule: str, where: str, detail: str, detail_vi: str) -> None:
        self.append(Finding(rule, where, detail, detail_vi))


def _local(node: etree._Element) -> str:
    return str(etree.QName(node).localname)


def _where(node: etree._Element) -> str:
    names = [_local(n) for n in (*reversed(list(node.iterancestors())), node)]
    return "/".join(names)


def _find(node: etree._Element | None, path: str) -> etree._Element | None:
    if node is None:
        return None
    return node.find("/".join(E + p for p in path.split("/")))


def _required(out: _Findings, node: etree._Element | None, path: str, base: str) -> str:
    found = _find(node, path)
    value = (found.text or "").strip() if found is not None else ""
    if not value:
        out.add(
            "required",
            f"{base}/{path}",
            f"{base}/{path} is required and missing or empty",
            f"Thiếu trường bắt buộc {base}/{path} (hoặc để trống).",
        )
    return value


def _date(out: _Findings, value: str, where: str, *, with_time: bool = False) -> None:
    form = "%Y/%m/%d %H:%M:%S" if with_time else "%Y/%m/%d"
    shown = "yyyy/MM/dd HH:mm:ss" if with_time else "yyyy/MM/dd"
    try:
        dt.datetime.strptime(value, form)
    except ValueError:
        out.add(
            "timestamp" if with_time else "date",
            where,
            f"{where}: {value!r} is not {shown}",
            f"{where}: “{value}” không đúng định dạng {shown}.",
        )


def _agency(out: _Findings, value: str, where: str) -> None:
    if value and not CODE_RE.match(value):
        out.add(
            "agency_code",
            where,
            f"{where}: {value!r} is not an agency code XXX.YY.ZZ.Lnn",
            f"{where}: “{value}” không đúng dạng mã định danh cơ quan XXX.YY.ZZ.Lnn.",
        )


def _shape(out: _Findings, package: ParsedPackage) -> None:
    if not package.wrapped:
        out.add(
            "shape",
            _local(package.root),
            "the envelope is the root: strict readers look for it under a root edXML",
            "edXMLEnvelope đang là phần tử gốc; gói tin phải có gốc edXML chứa edXMLEnvelope.",
        )
    bad = sorted(
        {_local(n) for n in package.envelope.iter() if isinstance(n.tag, str) and not n.prefix}
    )
    if bad:
        out.add(
            "prefix",
            "edXMLEnvelope",
            f"elements without the edXML: prefix inside the envelope: {', '.join(bad)}",
            f"Phần tử trong edXMLEnvelope thiếu tiền tố edXML: {', '.join(bad)}.",
        )
    foreign = sorted(
        {
            n.tag
            for n in package.envelope.iter()
            if isinstance(n.tag, str) and not n.tag.startswith(E) and "xmldsig" not in n.tag
        }
    )
    if foreign:
        out.add(
            "prefix",
            "edXMLEnvelope",
            f"elements outside the namespace {NS}: {', '.join(foreign)}",
            f"Phần tử không thuộc không gian tên QCVN 102:2016: {', '.join(foreign)}.",
        )


def _document(out: _Findings, env: etree._Element) -> None:
    base = "MessageHeader"
    mh = _find(env, "edXMLHeader/MessageHeader")
    sender = _required(out, mh, "From/OrganId", base)
    _agency(out, sender, f"{base}/From/OrganId")
    tos = mh.findall(E + "To") if mh is not None else []
    if not tos:
        out.add("required", f"{base}/To", "no To", "Thiếu nơi nhận (MessageHeader/To).")
    for to in tos:
        _agency(out, _required(out, to, "OrganId", f"{base}/To"), f"{base}/To/OrganId")
    number = _required(out, mh, "Code/CodeNumber", base)
    notation_node = _find(mh, "Code/CodeNotation")
    notation = (notation_node.text or "") if notation_node is not None else ""
    date = _required(out, mh, "PromulgationInfo/PromulgationDate", base)
    if date:
        _date(out, date, f"{base}/PromulgationInfo/PromulgationDate")
    _required(out, mh, "Subject", base)
    due = _find(mh, "DueDate")
    if due is not None and (due.text or "").strip():
        _date(out, (due.text or "").strip(), f"{base}/DueDate")
    doc_id = _required(out, mh, "DocumentId", base)
    code = f"{number}/{notation.strip()}" if notation.strip() else number
    if doc_id:
        _document_id(out, doc_id, f"{sender},{date},{code}")
    _trace(out, env)


def _document_id(out: _Findings, value: str, expected: str) -> None:
    where = "MessageHeader/DocumentId"
    match = _DOCUMENT_ID.match(value)
    if match is None:
        out.add(
            "document_id",
            where,
            f"{value!r} is not <agency code>,<yyyy/MM/dd>,<number>/<notation>",
            f"DocumentId “{value}” không đúng dạng <mã cơ quan>,<yyyy/MM/dd>,<số>/<ký hiệu>.",
        )
        return
    _agency(out, match["code"], where)
    if value != expected:
        out.add(
            "document_id",
            where,
            f"{value!r} does not agree with From, Code and PromulgationDate ({expected!r})",
            f"DocumentId “{value}” không khớp với nơi gửi, số/ký hiệu và ngày ban hành "
            f"(“{expected}”).",
        )


def _trace(out: _Findings, env: etree._Element) -> None:
    traces = _find(env, "edXMLHeader/TraceHeaderList")
    base = "TraceHeaderList"
    trace = _find(traces, "TraceHeader")
    _agency(out, _required(out, traces, "TraceHeader/OrganId", base), f"{base}/TraceHeader")
    stamp = _required(out, trace, "Timestamp", f"{base}/TraceHeader")
    if stamp:
        _date(out, stamp, f"{base}/TraceHeader/Timestamp", with_time=True)
    kind = _required(out, traces, "Bussiness/BussinessDocType", base)
    if kind and kind not in ("0", "1", "2", "3"):
        out.add(
            "business",
            f"{base}/Bussiness/BussinessDocType",
            f"BussinessDocType {kind!r} is not 0, 1, 2 or 3",
            f"BussinessDocType “{kind}” phải là 0 (mới), 1 (thu hồi), 2 (cập nhật), 3 (thay thế).",
        )


def _status(out: _Findings, st: etree._Element) -> None:
    base = "Status"
    _agency(out, _required(out, st, "ResponseFor/OrganId", base), "Status/ResponseFor/OrganId")
    doc_id = _required(out, st, "ResponseFor/DocumentId", base)
    if doc_id and not _DOCUMENT_ID.match(doc_id):
        out.add(
            "document_id",
            "Status/ResponseFor/DocumentId",
            f"{doc_id!r} is not <agency code>,<yyyy/MM/dd>,<number>/<notation>",
            f"DocumentId “{doc_id}” không đúng dạng <mã cơ quan>,<yyyy/MM/dd>,<số>/<ký hiệu>.",
        )
    date = _required(out, st, "ResponseFor/PromulgationDate", base)
    if date:
        _date(out, date, "Status/ResponseFor/PromulgationDate")
    _agency(out, _required(out, st, "From/OrganId", base), "Status/From/OrganId")
    _required(out, st, "StatusCode", base)
    stamp = _required(out, st, "Timestamp", base)
    if stamp:
        _date(out, stamp, "Status/Timestamp", with_time=True)


def _either(node: etree._Element, local: str) -> str:
    """A child's text in the edXML namespace or in none (as some writers put attachments)."""
    return node.findtext(E + local) or node.findtext(local) or ""


def _files(out: _Findings, package: ParsedPackage) -> None:
    refs = [
        content_id(ref.get(f"{{{XLINK}}}href") or _either(ref, "ContentId"))
        for ref in package.envelope.iter(E + "Reference")
    ]
    nodes = attachment_nodes(package)
    ids = Counter(content_id(_either(n, "ContentId")) for n in nodes)
    for cid in sorted(set(refs) - set(ids)):
        out.add(
            "manifest",
            "edXMLManifest/Reference",
            f"the manifest names {cid!r}, which is not among the attachments",
            f"Danh mục nêu tệp “{cid}” nhưng gói tin không có tệp này.",
        )
    for cid in sorted(set(ids) - set(refs)):
        out.add(
            "manifest",
            "AttachmentEncoded/Attachment",
            f"attachment {cid!r} is not named in the manifest",
            f"Tệp “{cid}” không có trong danh mục (edXMLManifest).",
        )
    for cid, count in sorted(ids.items()):
        if count > 1:
            out.add(
                "manifest",
                "AttachmentEncoded",
                f"attachment {cid!r} appears {count} times",
                f"Tệp “{cid}” xuất hiện {count} lần.",
            )
    for node in nodes:
        text = "".join(_either(node, "ContentTransferEncoded").split())
        if len(text) % 4 or not _B64.match(text):
            cid = content_id(_either(node, "ContentId"))
            out.add(
                "base64",
                f"{_where(node)}[{cid}]",
                f"attachment {cid!r} is not valid base64",
                f"Tệp “{cid}” không đúng mã hoá base64.",
            )


def check_package(data: bytes) -> CheckReport:
    """Every rule ``data`` breaks; :class:`UnreadablePackage` when it is not XML at all (or is
    too large to read), which the CLI answers with exit 2."""
    out = _Findings()
    try:
        package = parse_package(data)
    except UnreadablePackage:
        raise
    except EdxmlError as exc:
        out.add("shape", "edXML", exc.detail, exc.detail_vi or exc.detail)
        return CheckReport("unknown", tuple(out))
    _shape(out, package)
    status = _find(package.envelope, "edXMLHeader/Status")
    if status is not None:
        _status(out, status)
        return CheckReport("status", tuple(out))
    _document(out, package.envelope)
    _files(out, package)
    return CheckReport("document", tuple(out))
