"""A manual edXML import cannot pass for a document of an agency that has its own channel, and
what it claims is shown as unverified (issue 9, finding 5)."""

from __future__ import annotations

import dataclasses
from typing import Any

from aiohttp.test_utils import TestClient

from documents.edxml import Organ, document_to_xml, parse_document
from server.auth.principal import Role
from tests.conftest import People, bearer
from tests.documents.conftest import AGENCY_A, AGENCY_B, PROVINCE, SignedFiles, send
from tests.platform.test_auth import login

XML = {"Content-Type": "application/xml"}
UNVERIFIED = "Thông tin văn bản chưa được xác thực (nhập thủ công)"


async def test_an_edited_export_is_refused_or_marked_unverified(
    client: TestClient[Any, Any], people: People, pdfs: SignedFiles
) -> None:
    await people.add("vt_a", Role.CLERK, agency=AGENCY_A)
    await people.add("vt_b", Role.CLERK, agency=AGENCY_B)
    await people.add("vt_p", Role.CLERK, agency=PROVINCE)
    ta, tb, tp = [await people.token(x) for x in ("vt_a", "vt_b", "vt_p")]
    doc_id = await send(client, ta, pdfs.signed, to=[AGENCY_B], number="15")
    sent = await (await client.get(f"/api/v1/documents/{doc_id}", headers=bearer(ta))).json()
    assert sent["metadata_verified"] is True and sent["metadata_note_vi"] == ""

    # B's clerk exports it, changes number and subject, addresses it to the province
    exported = await client.get(f"/api/v1/documents/{doc_id}/edxml", headers=bearer(tb))
    message = parse_document(await exported.read())
    forged = dataclasses.replace(
        message,
        code_number="99",
        subject="Về việc tạm dừng toàn bộ dự án đầu tư công",
        to=(Organ(PROVINCE, "UBND tỉnh"),),
    )
    resp = await client.post(
        "/api/v1/documents/import", data=document_to_xml(forged), headers={**bearer(tp), **XML}
    )
    problem = await resp.json()
    assert resp.status == 403, problem
    assert resp.content_type == "application/problem+json"
    assert problem["detail_vi"].startswith(f"Gói tin khai là của {AGENCY_A} nhưng không đến qua")
    inbox = await (await client.get("/api/v1/documents/inbox", headers=bearer(tp))).json()
    assert inbox["items"] == []

    # the same edit claiming an agency that is neither here nor on a peer is taken in, but its
    # metadata is marked unverified although the PDF's signature is valid
    outside = dataclasses.replace(forged, sender=Organ("000.00.00.G22", "Văn phòng Chính phủ"))
    resp = await client.post(
        "/api/v1/documents/import", data=document_to_xml(outside), headers={**bearer(tp), **XML}
    )
    body = await resp.json()
    assert resp.status == 201, body
    view = await (await client.get(f"/api/v1/documents/{body['id']}", headers=bearer(tp))).json()
    assert view["number"] == "99"
    assert view["metadata_verified"] is False
    assert view["metadata_note_vi"] == UNVERIFIED
    inbox = await (await client.get("/api/v1/documents/inbox", headers=bearer(tp))).json()
    assert [(d["id"], d["metadata_verified"]) for d in inbox["items"]] == [(body["id"], False)]
    # and the page says so next to the signature line
    assert (await login(client, "vt_p")).status == 302
    page = await (
        await client.get(f"/documents/{body['id']}", headers={"Accept": "text/html"})
    ).text()
    assert 'data-testid="doc-unverified"' in page and UNVERIFIED in page
