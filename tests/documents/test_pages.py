"""The documents pages over HTTP with a browser session: compose and send, inbox, register,
assign, timeline; other agencies get the not-found page."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import FormData
from aiohttp.test_utils import TestClient

from server.auth.principal import Role
from tests.conftest import People
from tests.documents.conftest import AGENCY_A, AGENCY_B, PROVINCE, SignedFiles
from tests.platform.test_auth import login

HTML = {"Accept": "text/html"}


async def _csrf(client: TestClient[Any, Any], path: str) -> str:
    text = await (await client.get(path, headers=HTML)).text()
    match = re.search(r'name="csrf_token" value="([^"]+)"', text)
    assert match is not None, text[:500]
    return match.group(1)


async def _logout(client: TestClient[Any, Any]) -> None:
    client.session.cookie_jar.clear()


async def test_pages_send_register_assign(
    client: TestClient[Any, Any], people: People, pdfs: SignedFiles
) -> None:
    await people.add("vt_a", Role.CLERK, agency=AGENCY_A)
    await people.add("vt_b", Role.CLERK, Role.LEADER, agency=AGENCY_B)
    await people.add("cv_b", Role.OFFICIAL, agency=AGENCY_B, name="Lê Văn Xử")
    await people.add("vt_p", Role.CLERK, agency=PROVINCE)

    assert (await login(client, "vt_a")).status == 302
    home = await (await client.get("/", headers=HTML)).text()
    assert 'href="/documents"' in home  # the tile is live now
    compose = await (await client.get("/documents/new", headers=HTML)).text()
    assert "Soạn và gửi" in compose and AGENCY_B in compose
    csrf = await _csrf(client, "/documents/new")

    form = FormData()
    for key, value in {
        "csrf_token": csrf,
        "number": "21",
        "notation": "SNV-VP",
        "subject": "Về việc cử cán bộ dự tập huấn",
        "urgency": "2",
        "confidentiality": "0",
    }.items():
        form.add_field(key, value)
    form.add_field("to", AGENCY_B)
    form.add_field("main", pdfs.unsigned, filename="cv.pdf", content_type="application/pdf")
    refused = await client.post("/documents/new", data=form, headers=HTML)
    text = await refused.text()
    assert refused.status == 422 and "chưa có chữ ký số hợp lệ" in text
    assert 'value="Về việc cử cán bộ dự tập huấn"' in text  # the form keeps what was typed

    form = FormData()
    for key, value in {"csrf_token": csrf, "number": "21", "subject": "Về việc cử cán bộ"}.items():
        form.add_field(key, value)
    form.add_field("to", AGENCY_B)
    form.add_field("main", pdfs.signed, filename="cv.pdf", content_type="application/pdf")
    sent = await client.post("/documents/new", data=form, headers=HTML, allow_redirects=False)
    assert sent.status == 302
    doc_path = sent.headers["Location"].split("?")[0]
    view = await (await client.get(sent.headers["Location"], headers=HTML)).text()
    assert "Đã gửi văn bản." in view
    assert "Đã đến" in view and "hợp lệ" in view
    outbox = await (await client.get("/documents/outbox", headers=HTML)).text()
    assert doc_path.rsplit("/", 1)[1] in outbox

    await _logout(client)
    assert (await login(client, "vt_b")).status == 302
    inbox = await (await client.get("/documents", headers=HTML)).text()
    assert "Về việc cử cán bộ" in inbox and "Đã đến" in inbox
    csrf = await _csrf(client, doc_path)
    done = await client.post(
        f"{doc_path}/status", data={"csrf_token": csrf, "code": "03"}, headers=HTML
    )
    text = await done.text()
    assert done.status == 200 and "Đã vào sổ" in text and "Số đến 1/" in text
    again = await client.post(
        f"{doc_path}/status", data={"csrf_token": csrf, "code": "03"}, headers=HTML
    )
    assert again.status == 409 and "đã được vào sổ" in await again.text()
    assigned = await client.post(
        f"{doc_path}/status",
        data={"csrf_token": csrf, "code": "04", "assignee": "cv_b", "due_date": "2026-12-15"},
        headers=HTML,
    )
    assert "Giao Lê Văn Xử, hạn 2026-12-15" in await assigned.text()

    await _logout(client)
    assert (await login(client, "vt_a")).status == 302
    csrf = await _csrf(client, doc_path)
    revoked = await client.post(
        f"{doc_path}/revoke", data={"csrf_token": csrf, "reason": "Gửi nhầm"}, headers=HTML
    )
    assert "Đề nghị thu hồi: Gửi nhầm" in await revoked.text()
    await _logout(client)
    assert (await login(client, "vt_b")).status == 302
    csrf = await _csrf(client, doc_path)
    page = await (await client.get(doc_path, headers=HTML)).text()
    assert 'data-testid="accept"' in page
    answered = await client.post(
        f"{doc_path}/status", data={"csrf_token": csrf, "code": "15"}, headers=HTML
    )
    text = await answered.text()
    assert "Đồng ý thu hồi" in text and 'data-testid="accept"' not in text

    await _logout(client)
    assert (await login(client, "vt_p")).status == 302
    other = await client.get(doc_path, headers=HTML)
    assert other.status == 404 and "Không tìm thấy văn bản" in await other.text()
    assert "Về việc cử cán bộ" not in await (await client.get("/documents", headers=HTML)).text()


async def test_anonymous_is_sent_to_login(client: TestClient[Any, Any]) -> None:
    resp = await client.get("/documents", headers=HTML, allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"].startswith("/login?next=/documents")
