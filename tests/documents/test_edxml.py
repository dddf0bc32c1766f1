"""edXML (QCVN 102:2016): prefixed elements, date formats, base64 attachments by cid, status
messages; round trips through the module and through the API."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from lxml import etree

from documents.dates import VN
from documents.edxml import (
    NS,
    EdxmlAttachment,
    EdxmlDocument,
    EdxmlStatus,
    Organ,
    document_to_xml,
    parse_document,
    parse_status,
    status_to_xml,
)
from documents.errors import EdxmlError
from server.auth.principal import Role
from tests.conftest import People, bearer
from tests.documents.conftest import AGENCY_A, AGENCY_B, PROVINCE, SignedFiles, send

SAMPLES = Path(__file__).parent / "samples"


def _sample(pdf: bytes = b"%PDF-1.7 test") -> EdxmlDocument:
    return EdxmlDocument(
        sender=Organ("000.00.10.H98", "Sở Nội vụ", email="snv@example.vn"),
        to=(Organ("000.00.11.H98", "Sở Tài chính"), Organ("000.00.00.H98", "UBND tỉnh")),
        code_number="15",
        code_notation="QĐ-SNV",
        promulgation_date=dt.date(2026, 11, 23),
        subject="Về việc tổ chức hội nghị tổng kết năm 2026",
        attachments=(
            EdxmlAttachment("quyet-dinh.pdf", pdf),
            EdxmlAttachment("phu-luc.xlsx", b"\x00\x01binary", "application/octet-stream"),
        ),
        place="Thành phố Thử nghiệm",
        doc_type=2,
        type_name="Quyết định",
        signer_competence="Giám đốc",
        signer_position="Giám đốc",
        signer_name="Nguyễn Văn An",
        due_date=dt.date(2026, 12, 31),
        priority=2,
        page_amount=1,
        business_type=3,
        business_reason="Thay thế văn bản ban hành nhầm",
        replaces=("000.00.10.H98,2026/11/20,14/QĐ-SNV",),
        sent_at=dt.datetime(2026, 11, 23, 9, 15, 2, tzinfo=VN),
    )


def test_document_round_trip_and_every_element_prefixed() -> None:
    doc = _sample()
    xml = document_to_xml(doc)
    assert parse_document(xml) == doc
    text = xml.decode("utf-8")
    # the vendors' shape: a root edXML (default namespace), the envelope, then the files
    root = etree.fromstring(xml)
    assert root.tag == f"{{{NS}}}edXML" and root.prefix is None
    assert [(c.tag, c.prefix) for c in root] == [
        (f"{{{NS}}}edXMLEnvelope", "edXML"),
        (f"{{{NS}}}AttachmentEncoded", None),
    ]
    # every tag of the envelope carries the edXML: prefix (strict receivers reject others)
    envelope = text[text.index("<edXML:edXMLEnvelope") : text.index("</edXML:edXMLEnvelope>")]
    tags = re.findall(r"</?([A-Za-z_][\w.:-]*)", envelope)
    assert tags and all(t.startswith("edXML:") for t in tags), {
        t for t in tags if not t.startswith("edXML:")
    }
    assert all(el.tag.startswith(f"{{{NS}}}") for el in root.iter())
    assert "<edXML:PromulgationDate>2026/11/23</edXML:PromulgationDate>" in text
    assert "<edXML:Timestamp>2026/11/23 09:15:02</edXML:Timestamp>" in text
    assert "<edXML:DocumentId>000.00.10.H98,2026/11/23,15/QĐ-SNV</edXML:DocumentId>" in text
    assert 'href="cid:' in text
    assert base64.b64encode(b"%PDF-1.7 test").decode() in text


@pytest.mark.parametrize(
    "files",
    [
        (),
        (EdxmlAttachment("rong.pdf", b""),),
        (EdxmlAttachment("a.pdf", bytes(range(256)) * 4099), EdxmlAttachment("b.bin", b"\xff")),
        # a file whose bytes spell a marker-like text must not confuse the splice
        (EdxmlAttachment("m.txt", b"lt-splice-0-0 lt-splice", "text/plain"),),
    ],
)
def test_spliced_base64_is_byte_identical_to_lxml(files: tuple[EdxmlAttachment, ...]) -> None:
    """The files' base64 is written into the bytes rather than through lxml: same output."""
    doc = dataclasses.replace(_sample(), attachments=files)
    spliced = document_to_xml(doc)
    assert spliced == document_to_xml(doc, splice=False)
    etree.fromstring(spliced)  # well-formed
    back = parse_document(spliced)
    assert [(a.name, a.data) for a in back.attachments] == [(a.name, a.data) for a in files]


@pytest.mark.parametrize(
    ("encoded", "expected"),
    [
        ("QUJD", b"ABC"),
        ("QU\nJD\r\n", b"ABC"),  # whitespace: the general path
        ("  QUI= ", b"AB"),
        ("QQ==", b"A"),
        ("", b""),
    ],
)
def test_base64_with_or_without_whitespace(encoded: str, expected: bytes) -> None:
    xml = document_to_xml(_sample()).replace(base64.b64encode(b"%PDF-1.7 test"), encoded.encode())
    assert parse_document(xml).attachments[0].data == expected


@pytest.mark.parametrize(
    "encoded", ["QUJD=", "QQ=", "QQ==QQ==", "QUJD!", "=", "Q", "QUJD\t", "=QUJD", "QQ=\n="]
)
def test_base64_verdicts_are_those_of_the_validating_decoder(encoded: str) -> None:
    """The one-pass strict decoder only takes a shortcut: every text gets the verdict (and
    bytes) of ``b64decode(validate=True)`` over the text without whitespace, as before."""
    xml = document_to_xml(_sample()).replace(base64.b64encode(b"%PDF-1.7 test"), encoded.encode())
    try:
        expected: bytes | None = base64.b64decode("".join(encoded.split()), validate=True)
    except ValueError:
        expected = None
    if expected is None:
        with pytest.raises(EdxmlError, match="base64"):
            parse_document(xml)
    else:
        assert parse_document(xml).attachments[0].data == expected


def test_status_round_trip() -> None:
    status = EdxmlStatus(
        document_id="000.00.10.H98,2026/11/23,15/QĐ-SNV",
        sender_code="000.00.10.H98",
        code_number="15",
        code_notation="QĐ-SNV",
        promulgation_date=dt.date(2026, 11, 23),
        from_organ=Organ("000.00.11.H98", "Sở Tài chính"),
        status_code="03",
        description="Đã vào sổ, số đến 12",
        timestamp=dt.datetime(2026, 11, 23, 10, 0, 0, tzinfo=VN),
        staff_name="Trần Thị Bình",
        department="Văn phòng",
    )
    xml = status_to_xml(status)
    assert parse_status(xml) == status
    assert b"<edXML:StatusCode>03</edXML:StatusCode>" in xml
    assert b"<edXML:Timestamp>2026/11/23 10:00:00</edXML:Timestamp>" in xml


def test_foreign_sample_with_wrapper_and_unprefixed_attachments() -> None:
    raw = (SAMPLES / "foreign_wrapper.edxml").read_text(encoding="utf-8")
    xml = raw.replace("@PDF@", base64.b64encode(b"%PDF-1.4 sample").decode()).encode("utf-8")
    doc = parse_document(xml)
    assert doc.document_id == "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT"
    assert doc.sender.organ_name == "Văn phòng Chính phủ"
    assert doc.attachments[0].name == "7816-VPCP.pdf"
    assert doc.attachments[0].data == b"%PDF-1.4 sample"
    assert doc.due_date == dt.date(2015, 10, 10)
    assert parse_document(document_to_xml(doc)) == doc


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (
            lambda x: x.replace(
                b"2026/11/23</edXML:PromulgationDate>", b"23-11-2026</edXML:PromulgationDate>"
            ),
            "yyyy/MM/dd",
        ),
        (lambda x: x.replace(NS.encode(), b"urn:other"), "namespace"),
        (lambda x: x[:200], "XML"),
        (lambda x: re.sub(rb"<edXML:Subject>[^<]*</edXML:Subject>", b"", x), "Subject"),
        (
            lambda x: re.sub(
                rb"<ContentTransferEncoded>[^<]*",
                b"<ContentTransferEncoded>@@@",
                x,
                count=1,
            ),
            "base64",
        ),
        (
            lambda x: re.sub(rb"<Attachment>.*?</Attachment>", b"", x, count=1, flags=re.S),
            "tham chiếu",
        ),
    ],
)
def test_bad_messages_are_refused_with_a_reason(mutate: Any, needle: str) -> None:
    with pytest.raises(EdxmlError) as err:
        parse_document(mutate(document_to_xml(_sample())))
    assert needle in err.value.detail_vi or needle in err.value.detail


def test_entities_are_not_expanded() -> None:
    evil = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b'<edXML:edXMLEnvelope xmlns:edXML="' + NS.encode() + b'"><edXML:edXMLHeader>'
        b"<edXML:MessageHeader><edXML:Subject>&e;</edXML:Subject></edXML:MessageHeader>"
        b"</edXML:edXMLHeader></edXML:edXMLEnvelope>"
    )
    with pytest.raises(EdxmlError) as err:
        parse_document(evil)
    assert "root:" not in err.value.detail


async def test_import_export_through_the_api(
    client: TestClient[Any, Any], people: People, pdfs: SignedFiles
) -> None:
    await people.add("vt_p", Role.CLERK, agency=PROVINCE)
    await people.add("vt_a", Role.CLERK, agency=AGENCY_A)
    await people.add("vt_b", Role.CLERK, agency=AGENCY_B)
    tp, ta, tb = [await people.token(x) for x in ("vt_p", "vt_a", "vt_b")]
    raw = (SAMPLES / "foreign_wrapper.edxml").read_text(encoding="utf-8")
    xml = raw.replace("@PDF@", base64.b64encode(pdfs.signed).decode()).encode("utf-8")
    headers = {**bearer(tp), "Content-Type": "application/xml"}
    first = await client.post("/api/v1/documents/import", data=xml, headers=headers)
    body = await first.json()
    assert first.status == 201, body
    again = await client.post("/api/v1/documents/import", data=xml, headers=headers)
    assert again.status == 200 and (await again.json()) == {"id": body["id"], "created": False}
    inbox = await (await client.get("/api/v1/documents/inbox", headers=bearer(tp))).json()
    assert [d["id"] for d in inbox["items"]] == [body["id"]]
    assert inbox["items"][0]["sender"]["code"] == "000.00.00.G22"
    # not addressed to agency B, and an unsigned main file, are refused
    wrong = await client.post(
        "/api/v1/documents/import",
        data=xml,
        headers={**bearer(tb), "Content-Type": "application/xml"},
    )
    assert wrong.status == 422
    unsigned = raw.replace("@PDF@", base64.b64encode(pdfs.unsigned).decode()).encode("utf-8")
    refused = await client.post("/api/v1/documents/import", data=unsigned, headers=headers)
    assert refused.status == 422
    assert (await refused.json())["code"] == "documents.signature_rejected"

    # a document sent here exports to edXML that parses back to the same content
    doc_id = await send(
        client, ta, pdfs.signed, to=[AGENCY_B], attachments=[("pl.pdf", pdfs.unsigned)]
    )
    exported = await client.get(f"/api/v1/documents/{doc_id}/edxml", headers=bearer(tb))
    assert exported.status == 200
    message = parse_document(await exported.read())
    assert message.sender.organ_id == AGENCY_A and [o.organ_id for o in message.to] == [AGENCY_B]
    assert message.attachments[0].data == pdfs.signed
    assert message.attachments[1].data == pdfs.unsigned
    assert message.code_number == "15" and message.code_notation == "QĐ-UBND"
    hidden = await client.get(f"/api/v1/documents/{doc_id}/edxml", headers=bearer(tp))
    assert hidden.status == 404
