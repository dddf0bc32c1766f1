"""Request bodies declared once (issue 10): each JSON body of ``/api/v1/documents`` is read
through its model, a wrong or unknown field answers 422 naming it, and the OpenAPI schema is the
model's; realtime failures after a commit are dropped only when the backend is down."""

from __future__ import annotations

import logging
from typing import Any, cast

import pytest
from aiohttp.test_utils import TestClient

from documents.services import Services
from server.auth.principal import Role
from server.realtime import BackendUnavailable
from server.realtime.errors import InvalidEvent
from tests.conftest import People, bearer
from tests.documents.conftest import AGENCY_A, AGENCY_B, SignedFiles, send, send_form


async def _problem(resp: Any) -> dict[str, Any]:
    body: dict[str, Any] = await resp.json()
    assert resp.status == 422, body
    assert resp.content_type == "application/problem+json"
    return body


async def test_json_bodies_refuse_unknown_and_wrong_fields(
    client: TestClient[Any, Any], people: People, pdfs: SignedFiles
) -> None:
    await people.add("vt_a", Role.CLERK, agency=AGENCY_A)
    await people.add("vt_b", Role.CLERK, agency=AGENCY_B)
    ta, tb = await people.token("vt_a"), await people.token("vt_b")
    doc_id = await send(client, ta, pdfs.signed, to=[AGENCY_B])
    url = f"/api/v1/documents/{doc_id}"

    unknown = await client.post(
        f"{url}/status", json={"code": "03", "colour": "red"}, headers=bearer(tb)
    )
    assert (await _problem(unknown))["field"] == "colour"
    wrong = await client.post(f"{url}/status", json={"code": 3}, headers=bearer(tb))
    assert (await _problem(wrong))["field"] == "code"
    late = await client.post(
        f"{url}/status", json={"code": "04", "assignee": "x", "due_date": 7}, headers=bearer(tb)
    )
    assert (await _problem(late))["field"] == "due_date"
    # a rule between fields keeps its own sentence
    refusal = await client.post(f"{url}/status", json={"code": "02"}, headers=bearer(tb))
    assert (await _problem(refusal))["detail_vi"] == "Từ chối tiếp nhận cần nêu lý do."

    urgency = await client.post(
        f"{url}/update", json={"reason": "x", "urgency": "khẩn"}, headers=bearer(ta)
    )
    assert (await _problem(urgency))["field"] == "urgency"
    blank = await client.post(f"{url}/revoke", json={"reason": "  "}, headers=bearer(ta))
    problem = await _problem(blank)
    assert problem["field"] == "reason" and "reason" in problem["detail_vi"]

    # nothing above changed the document
    view = await (await client.get(url, headers=bearer(tb))).json()
    assert [e["code"] for e in view["recipients"][0]["timeline"]] == ["01"]


async def test_send_metadata_is_the_declared_model(
    client: TestClient[Any, Any], people: People, pdfs: SignedFiles
) -> None:
    await people.add("vt_a", Role.CLERK, agency=AGENCY_A)
    token = await people.token("vt_a")
    resp = await client.post(
        "/api/v1/documents",
        data=send_form(pdfs.signed, to=[AGENCY_B], colour="red"),
        headers=bearer(token),
    )
    assert (await _problem(resp))["field"] == "colour"
    resp = await client.post(
        "/api/v1/documents",
        data=send_form(pdfs.signed, to=[AGENCY_B], urgency=9),
        headers=bearer(token),
    )
    assert (await _problem(resp))["field"] == "urgency"


async def test_openapi_schemas_come_from_the_models(client: TestClient[Any, Any]) -> None:
    spec = await (await client.get("/api/v1/openapi.json")).json()
    paths = spec["paths"]

    def body_of(path: str) -> dict[str, Any]:
        schema: dict[str, Any] = paths[path]["post"]["requestBody"]["content"]["application/json"][
            "schema"
        ]
        return schema

    status = body_of("/api/v1/documents/{id}/status")
    assert status["additionalProperties"] is False
    assert status["properties"]["code"]["enum"] == ["02", "03", "04", "05", "06", "15", "16"]
    assert status["required"] == ["code"]
    assert body_of("/api/v1/documents/{id}/revoke")["required"] == ["reason"]
    assert set(body_of("/api/v1/documents/{id}/update")["properties"]) == {
        "reason",
        "subject",
        "due_date",
        "urgency",
    }


class _Hub:
    def __init__(self, error: Exception) -> None:
        self.error = error

    async def publish(self, channel: str, type: str, data: dict[str, Any]) -> int:
        raise self.error


def _services(hub: _Hub) -> Services:
    none = cast(Any, None)
    return Services(db=none, store=none, checker=none, hub=cast(Any, hub))


async def test_publish_drops_only_an_unavailable_backend(caplog: pytest.LogCaptureFixture) -> None:
    """A committed step stands when the realtime backend is down; a bad event (a bug) is not
    swallowed any more."""
    down = _services(_Hub(BackendUnavailable("down", detail_vi="mất kết nối")))
    with caplog.at_level(logging.WARNING, logger="documents.services"):
        await down.publish([("agency:A", "document.sent", {"id": "x"})])
    assert "realtime publish to agency:A failed" in caplog.text
    buggy = _services(_Hub(InvalidEvent("bad event", detail_vi="sự kiện sai")))
    with pytest.raises(InvalidEvent):
        await buggy.publish([("agency:A", "document.sent", {"id": "x"})])


class _Db:
    def __init__(self) -> None:
        self.writes: list[str] = []

    async def write(self, name: str, fn: Any) -> None:
        self.writes.append(name)


async def test_delivery_retries_known_failures_and_raises_bugs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A failure a later attempt may not meet is kept on the row and retried; anything else is
    kept on the row too, and raised to the worker (which logs it) instead of passing as one."""
    import types

    import aiohttp

    from documents.federation import outbound
    from documents.federation.runtime import Federation
    from documents.outbox import Claimed

    peer = types.SimpleNamespace(name="tinh-b", token="t", url="http://127.0.0.1:1")
    config = types.SimpleNamespace(
        peer_named=lambda name: peer, max_backoff=1.0, server_id="tinh-a"
    )
    db = _Db()
    svc = Services(db=cast(Any, db), store=cast(Any, None), checker=cast(Any, None))
    fed = Federation(config=cast(Any, config), seal=cast(Any, None), session=cast(Any, object()))
    msg = Claimed(1, "ab" * 16, "tinh-b", "status", {"ref": "x"}, 1)

    async def offline(*args: Any) -> tuple[bytes, str]:
        raise aiohttp.ClientConnectionError("refused")

    monkeypatch.setattr(outbound, "message_body", offline)
    assert await outbound.deliver(svc, fed, msg) is False
    assert db.writes == ["outbox_failed"]

    async def bug(*args: Any) -> tuple[bytes, str]:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(outbound, "message_body", bug)
    with pytest.raises(ZeroDivisionError):
        await outbound.deliver(svc, fed, msg)
    assert db.writes == ["outbox_failed", "outbox_failed"]
