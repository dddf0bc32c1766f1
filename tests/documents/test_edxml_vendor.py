"""edXML as the vendors of the national document axis write and read it (issue 12).

Packages here are written by a test-local writer that follows the vendors' shape as the issue
describes it (a root ``edXML`` in the default namespace, the envelope, ``AttachmentEncoded`` as
the envelope's sibling, manifest ``cid:<id>`` against the attachment's bare id), not by our
exporter; and our export is read by a test-local strict reader that looks for the envelope under
the root.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from lxml import etree

from documents import edxml_read
from documents.dates import VN
from documents.edxml import (
    NS,
    EdxmlStatus,
    Organ,
    parse_document,
    parse_status,
    status_to_xml,
)
from documents.errors import EdxmlError
from server.auth.principal import Role
from tests.conftest import People, bearer
from tests.documents.conftest import AGENCY_A, AGENCY_B, PROVINCE, SignedFiles, send

XML = {"Content-Type": "application/xml"}
E = f"{{{NS}}}"


def vendor_package(
    files: list[tuple[str, str, bytes]],
    *,
    manifest: list[str] | None = None,
    to: str = "000.00.00.H98",
    sender: str = "000.00.00.G22",
    namespace: str = NS,
    envelope: bool = True,
    encoded: dict[str, str] | None = None,
    header_extra: str = "",
) -> bytes:
    """A package as a vendor writes it: ``files`` are (content id, name, bytes); ``manifest``
    the ids the manifest names (all by default); ``encoded`` replaces a file's base64 text."""
    names = {cid: name for cid, name, _data in files}
    refs = "".join(
        f"""
        <edXML:Reference>
          <edXML:ContentId>cid:{cid}</edXML:ContentId>
          <edXML:AttachmentName>{names.get(cid, cid + ".pdf")}</edXML:AttachmentName>
          <edXML:ContentType>application/pdf</edXML:ContentType>
        </edXML:Reference>"""
        for cid in (manifest if manifest is not None else list(names))
    )
    attachments = "".join(
        f"""
    <Attachment>
      <ContentType>application/pdf</ContentType>
      <ContentId>{cid}</ContentId>
      <Description>Văn bản</Description>
      <AttachmentName>{name}</AttachmentName>
      <ContentTransferEncoded>{(encoded or {}).get(cid, base64.b64encode(data).decode())}</ContentTransferEncoded>
    </Attachment>"""
        for cid, name, data in files
    )
    env = f"""
  <edXML:edXMLEnvelope xmlns:edXML="{namespace}">
    <edXML:edXMLHeader>
      <edXML:MessageHeader>
        <edXML:From><edXML:OrganId>{sender}</edXML:OrganId>
          <edXML:OrganName>Văn phòng Chính phủ</edXML:OrganName></edXML:From>
        <edXML:To><edXML:OrganId>{to}</edXML:OrganId>
          <edXML:OrganName>UBND tỉnh</edXML:OrganName></edXML:To>
        <edXML:DocumentId>{sender},2026/11/30,812/VPCP-KSTT</edXML:DocumentId>
        <edXML:Code><edXML:CodeNumber>812</edXML:CodeNumber>
          <edXML:CodeNotation>VPCP-KSTT</edXML:CodeNotation></edXML:Code>
        <edXML:PromulgationInfo><edXML:Place>Hà Nội</edXML:Place>
          <edXML:PromulgationDate>2026/11/30</edXML:PromulgationDate></edXML:PromulgationInfo>
        <edXML:DocumentType><edXML:Type>1</edXML:Type>
          <edXML:TypeName>Công văn</edXML:TypeName></edXML:DocumentType>
        <edXML:Subject>V/v kết nối trục liên thông văn bản quốc gia</edXML:Subject>
      </edXML:MessageHeader>
      <edXML:TraceHeaderList>
        <edXML:TraceHeader><edXML:OrganId>{sender}</edXML:OrganId>
          <edXML:Timestamp>2026/11/30 08:00:00</edXML:Timestamp></edXML:TraceHeader>
        <edXML:Bussiness><edXML:BussinessDocType>0</edXML:BussinessDocType></edXML:Bussiness>
      </edXML:TraceHeaderList>{header_extra}
    </edXML:edXMLHeader>
    <edXML:edXMLBody>
      <edXML:edXMLManifest version="1.0">{refs}
      </edXML:edXMLManifest>
    </edXML:edXMLBody>
  </edXML:edXMLEnvelope>"""
    return f"""<?xml version="1.0" encoding="utf-8"?>
<edXML xmlns="{namespace}">{env if envelope else ""}
  <AttachmentEncoded>{attachments}
  </AttachmentEncoded>
</edXML>""".encode()


def strict_envelope(data: bytes) -> etree._Element:
    """As a strict vendor reader does: the envelope is a child of the root ``edXML``."""
    root = etree.fromstring(data)
    assert root.tag == E + "edXML", root.tag
    env = root.find(E + "edXMLEnvelope")
    assert env is not None, "no envelope under the root"
    return env


def strict_files(data: bytes) -> dict[str, bytes]:
    """The files as a strict reader finds them: manifest ``cid:<id>`` ↔ the sibling
    ``AttachmentEncoded``'s bare ids."""
    root = etree.fromstring(data)
    env = strict_envelope(data)
    cids = [r.findtext(E + "ContentId") for r in env.iter(E + "Reference")]
    assert cids and all(c and c.startswith("cid:") for c in cids), cids
    holder = root.find(E + "AttachmentEncoded")
    assert holder is not None and holder.getparent() is root
    files = {
        a.findtext(E + "ContentId"): base64.b64decode(
            a.findtext(E + "ContentTransferEncoded") or ""
        )
        for a in holder.findall(E + "Attachment")
    }
    assert sorted(files) == sorted(c.removeprefix("cid:") for c in cids if c)
    return {k: v for k, v in files.items() if k}


def test_a_vendor_package_reads_with_either_content_id_style() -> None:
    xml = vendor_package([("f1", "812.pdf", b"%PDF main"), ("f2", "pl.pdf", b"%PDF annex")])
    doc = parse_document(xml)
    assert doc.document_id == "000.00.00.G22,2026/11/30,812/VPCP-KSTT"
    assert [(a.content_id, a.name, a.data) for a in doc.attachments] == [
        ("f1", "812.pdf", b"%PDF main"),
        ("f2", "pl.pdf", b"%PDF annex"),
    ]
    # a writer that puts cid: on the attachment side too is read the same way
    both = xml.replace(b"<ContentId>f1<", b"<ContentId>cid:f1<")
    assert parse_document(both).attachments == doc.attachments


def test_a_status_package_is_wrapped_and_reads_back() -> None:
    status = EdxmlStatus(
        document_id="000.00.00.G22,2026/11/30,812/VPCP-KSTT",
        sender_code="000.00.00.G22",
        code_number="812",
        code_notation="VPCP-KSTT",
        promulgation_date=dt.date(2026, 11, 30),
        from_organ=Organ("000.00.00.H98", "UBND tỉnh"),
        status_code="03",
        description="Đã vào sổ",
        timestamp=dt.datetime(2026, 11, 30, 9, 0, tzinfo=VN),
    )
    xml = status_to_xml(status)
    env = strict_envelope(xml)
    header = env.find(E + "edXMLHeader")
    assert header is not None and header.find(E + "Status") is not None
    assert parse_status(xml) == status
    assert parse_status(status_to_xml(status, wrapped=False)) == status


BAD: list[tuple[str, bytes, str]] = [
    (
        "wrong namespace",
        vendor_package([("f1", "a.pdf", b"%PDF")], namespace="urn:khac"),
        "không gian tên",
    ),
    ("envelope missing", vendor_package([("f1", "a.pdf", b"%PDF")], envelope=False), "Envelope"),
    (
        "manifest names a missing file",
        vendor_package([("f1", "a.pdf", b"%PDF")], manifest=["f1", "f9"]),
        "f9",
    ),
    (
        "file not in the manifest",
        vendor_package([("f1", "a.pdf", b"%PDF"), ("x", "x.pdf", b"%PDF")], manifest=["f1"]),
        "không có trong danh mục",
    ),
    (
        "broken base64",
        vendor_package([("f1", "a.pdf", b"%PDF")], encoded={"f1": "JVBER!!"}),
        "base64",
    ),
    (
        "XML bomb",
        b'<?xml version="1.0"?><!DOCTYPE edXML [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        b'<edXML xmlns="' + NS.encode() + b'"><x>&c;</x></edXML>',
        "DOCTYPE",
    ),
    (
        "external entity",
        b'<?xml version="1.0"?><!DOCTYPE edXML [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b'<edXML xmlns="' + NS.encode() + b'"><x>&e;</x></edXML>',
        "DOCTYPE",
    ),
]


@pytest.mark.parametrize(("data", "needle"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_vendor_packages_are_refused_with_a_clear_reason(data: bytes, needle: str) -> None:
    with pytest.raises(EdxmlError) as err:
        parse_document(data)
    assert needle in err.value.detail_vi or needle in err.value.detail, err.value.detail_vi
    assert "root:" not in err.value.detail


def test_an_oversized_package_is_refused_unread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(edxml_read, "MAX_PACKAGE_BYTES", 4096)
    big = vendor_package([("f1", "a.pdf", b"%PDF" * 2000)])
    with pytest.raises(EdxmlError) as err:
        parse_document(big)
    assert "quá lớn" in err.value.detail_vi


async def test_vendor_import_and_strict_read_of_our_export(
    client: TestClient[Any, Any], people: People, pdfs: SignedFiles
) -> None:
    await people.add("vt_p", Role.CLERK, agency=PROVINCE)
    await people.add("vt_a", Role.CLERK, agency=AGENCY_A)
    await people.add("vt_b", Role.CLERK, agency=AGENCY_B)
    tp, ta, tb = [await people.token(x) for x in ("vt_p", "vt_a", "vt_b")]
    headers = {**bearer(tp), **XML}
    # bad packages are refused over the API with the reason, and nothing is stored
    for _name, data, needle in BAD:
        resp = await client.post("/api/v1/documents/import", data=data, headers=headers)
        problem = await resp.json()
        assert resp.status == 422 and needle in problem["detail_vi"] + problem["detail"], problem
    inbox = await (await client.get("/api/v1/documents/inbox", headers=bearer(tp))).json()
    assert inbox["items"] == []
    # a vendor's package with a signed main file comes in
    xml = vendor_package([("f1", "812.pdf", pdfs.signed)], to=PROVINCE)
    resp = await client.post("/api/v1/documents/import", data=xml, headers=headers)
    assert resp.status == 201, await resp.json()

    # our export, read by a strict reader: envelope under the root, files beside it
    doc_id = await send(client, ta, pdfs.signed, to=[AGENCY_B], attachments=[("pl.pdf", b"%PDF")])
    exported = await (
        await client.get(f"/api/v1/documents/{doc_id}/edxml", headers=bearer(tb))
    ).read()
    env = strict_envelope(exported)
    assert env.findtext(f"{E}edXMLHeader/{E}MessageHeader/{E}From/{E}OrganId") == AGENCY_A
    assert sorted(strict_files(exported).values()) == sorted([pdfs.signed, b"%PDF"])
