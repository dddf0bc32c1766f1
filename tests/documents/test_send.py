"""Sending within one server: signature checked, recipients' inboxes, statuses back to the sender."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from server.auth.principal import Role
from tests.conftest import People, bearer
from tests.documents.conftest import AGENCY_A, AGENCY_B, PROVINCE, SignedFiles, send, send_form


async def test_send_register_assign_complete_timeline(
    client: TestClient[Any, Any], people: People, pdfs: SignedFiles
) -> None:
    await people.add("vt_a", Role.CLERK, agency=AGENCY_A)
    await people.add("vt_b", Role.CLERK, agency=AGENCY_B)
    await people.add("ld_b", Role.LEADER, agency=AGENCY_B)
    await people.add("cv_b", Role.OFFICIAL, agency=AGENCY_B, name="Lê Chuyên Viên")
    ta, tb, lb, cb = [await people.token(x) for x in ("vt_a", "vt_b", "ld_b", "cv_b")]

    doc_id = await send(
        client,
        ta,
        pdfs.signed,
        to=[AGENCY_B, PROVINCE],
        attachments=[("phu-luc.pdf", pdfs.unsigned)],
    )
    inbox = await (await client.get("/api/v1/documents/inbox", headers=bearer(tb))).json()
    assert [d["id"] for d in inbox["items"]] == [doc_id]
    assert inbox["items"][0]["status"] == "01"

    async def status(token: str, **body: Any) -> Any:
        return await client.post(
            f"/api/v1/documents/{doc_id}/status", json=body, headers=bearer(token)
        )

    resp = await status(tb, code="03")
    reg = await resp.json()
    assert resp.status == 200, reg
    assert reg["incoming_number"] == 1 and reg["status"] == "03"
    assert (await status(tb, code="03")).status == 409  # registered once
    assert (await status(tb, code="04", assignee="cv_b")).status == 403  # a clerk does not assign
    resp = await status(lb, code="04", assignee="cv_b", due_date="2026-12-31")
    assert resp.status == 200, await resp.json()
    assert (await status(cb, code="05", note="Đang soạn báo cáo")).status == 200
    assert (await status(cb, code="06")).status == 200

    view = await (await client.get(f"/api/v1/documents/{doc_id}", headers=bearer(ta))).json()
    assert view["role"] == "sender"
    by_agency = {r["agency_code"]: r for r in view["recipients"]}
    assert [e["code"] for e in by_agency[AGENCY_B]["timeline"]] == ["01", "03", "04", "05", "06"]
    assert by_agency[AGENCY_B]["assignee_name"] == "Lê Chuyên Viên"
    assert [e["code"] for e in by_agency[PROVINCE]["timeline"]] == ["01"]

    main = view["main"]["sha256"]
    got = await client.get(f"/api/v1/documents/{doc_id}/files/{main}", headers=bearer(cb))
    assert got.status == 200 and await got.read() == pdfs.signed  # byte for byte


async def test_send_refused_without_valid_signature(
    client: TestClient[Any, Any], people: People, pdfs: SignedFiles
) -> None:
    await people.add("vt_a", Role.CLERK, agency=AGENCY_A)
    token = await people.token("vt_a")
    for pdf, needle in (
        (pdfs.unsigned, "không có chữ ký"),
        (pdfs.tampered, "KHÔNG hợp lệ"),
        (pdfs.foreign, "không thuộc tổ chức chứng thực tin cậy"),
    ):
        resp = await client.post(
            "/api/v1/documents", data=send_form(pdf, to=[AGENCY_B]), headers=bearer(token)
        )
        body = await resp.json()
        assert resp.status == 422, body
        assert resp.content_type == "application/problem+json"
        assert body["code"] == "documents.signature_rejected"
        assert needle in body["detail_vi"], body["detail_vi"]
    outbox = await (await client.get("/api/v1/documents/outbox", headers=bearer(token))).json()
    assert outbox["items"] == []


async def test_concurrent_sends_of_the_same_file_and_registrations(
    client: TestClient[Any, Any], people: People, pdfs: SignedFiles
) -> None:
    """Regression: on PostgreSQL two sends carrying the same bytes raced on the file row, and
    two first registrations of a year raced on the register counter."""
    import asyncio

    await people.add("vt_a", Role.CLERK, agency=AGENCY_A)
    await people.add("vt_b", Role.CLERK, agency=AGENCY_B)
    ta, tb = await people.token("vt_a"), await people.token("vt_b")
    ids = await asyncio.gather(*(send(client, ta, pdfs.signed, to=[AGENCY_B]) for _ in range(4)))
    assert len(set(ids)) == 4
    answers = await asyncio.gather(
        *(
            client.post(f"/api/v1/documents/{i}/status", json={"code": "03"}, headers=bearer(tb))
            for i in ids
        )
    )
    numbers = sorted([(await r.json())["incoming_number"] for r in answers])
    assert numbers == [1, 2, 3, 4]
