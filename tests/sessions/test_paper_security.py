"""Papers and their notes against a hostile or careless member: numbers JSON cannot carry, notes
shared past a confidential paper's readers, drawings hidden in ``refinedBy``, cached secrets."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from meetings.sessions.errors import BadInput
from meetings.sessions.papers.api import PAPERS_KEY
from meetings.sessions.papers.models import Annotation
from meetings.sessions.papers.sample import sample_pdf
from server.accounts.users import get_user_txn
from server.auth.principal import Principal, Role
from server.db import Database
from server.http.keys import DB_KEY
from server.realtime import HUB_KEY, user_channel
from tests.conftest import People
from tests.sessions.helpers import Council, make_council, next_op
from tests.sessions.test_ink_invitations import SVG, ink
from tests.sessions.test_papers import upload


def note(page: int = 1, audience: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    shared = {} if audience is None else {"lt:audience": audience}
    return {
        "motivation": "commenting",
        "body": {"type": "TextualBody", "value": "Số liệu trang này", "format": "text/plain"},
        "target": {"source": "paper", "selector": {"type": "FragmentSelector", "value": "p=1"}},
        "lt:page": page,
        **shared,
        **extra,
    }


def strict(text: str) -> Any:
    """Parse as a browser would (``JSON.parse``): no NaN, no Infinity."""

    def refuse(name: str) -> Any:
        raise AssertionError(f"{name} in a JSON answer")

    return json.loads(text, parse_constant=refuse)


async def user_id(c: Council, login: str) -> int:
    invited = (await c.call("GET", "/members?per_page=500", "thuky"))["members"]
    return int(next(u["user_id"] for u in invited if u["login"] == login))


async def principal(c: Council, login: str) -> Principal:
    async def run(session: AsyncSession) -> Principal:
        user = await get_user_txn(session, login)
        return Principal(
            user_id=user.id,
            login=user.login,
            full_name=user.full_name,
            agency_id=user.agency_id,
            agency_code="",
            roles=frozenset({Role.MEMBER}),
            via="token",
        )

    db: Database = c.client.app[DB_KEY]
    return await db.read("test_principal", run)


async def store_raw(c: Council, paper_id: int, owner: int, body: str, audience: list[int]) -> None:
    """A note written straight to the table, as older code could have stored it."""

    async def run(session: AsyncSession) -> None:
        session.add(
            Annotation(
                id=str(uuid.uuid4()),
                paper_id=paper_id,
                user_id=owner,
                page=1,
                body=body,
                audience=json.dumps(audience),
            )
        )

    await c.client.app[DB_KEY].write("test_annotation", run)


async def test_non_finite_numbers_are_refused_before_anything_is_stored(
    client: Any, people: People
) -> None:
    c = await make_council(client, people)
    paper = await upload(c, sample_pdf(3))
    base = f"/api/v1/sessions/{c.sid}/papers/{paper['id']}/annotations"
    headers = {**c.h("db1"), "Content-Type": "application/json"}
    shared = json.dumps(note(audience=["db2"]))
    for raw in (
        shared.replace('"lt:page": 1', '"lt:page": 1, "x": NaN'),
        shared.replace('"value": "p=1"', '"value": "p=1", "x": -Infinity'),
        shared.replace('"value": "p=1"', '"value": "p=1", "x": 1e400'),  # parsed as inf
    ):
        bad = await client.post(base, data=raw, headers=headers)
        assert bad.status == 400, await bad.text()
        assert bad.content_type == "application/problem+json"
    # the domain's own check, whatever the JSON reader in front of it lets through
    svc = client.app[PAPERS_KEY]
    db1 = await principal(c, "db1")
    for value in (float("nan"), float("inf"), -float("inf")):
        body = note(audience=["db2"])
        body["target"]["selector"]["x"] = value
        with pytest.raises(BadInput) as refused:
            await svc.save_annotation(db1, c.sid, paper["id"], body)
        assert refused.value.status == 400 and refused.value.extra["field"] == "target.selector.x"
    too_big = note(audience=["db2"], x=2**60)
    assert (await client.post(base, json=too_big, headers=c.h("db1"))).status == 422
    outside = await client.post(base, json=note(page=4), headers=c.h("db1"))
    assert outside.status == 422 and (await outside.json())["field"] == "lt:page"
    for who in ("db1", "db2"):
        listed = await client.get(base, headers=c.h(who))
        assert listed.status == 200 and strict(await listed.text()) == []  # nothing stored

    # a note stored with NaN before this was refused: left out, the others' list stays JSON
    db2_id = await user_id(c, "db2")
    await store_raw(c, paper["id"], db1.user_id, '{"type": "Annotation", "x": NaN}', [db2_id])
    assert (await client.post(base, json=json.loads(shared), headers=c.h("db1"))).status == 201
    listed = await client.get(base, headers=c.h("db2"))
    assert listed.status == 200
    assert [a["body"]["value"] for a in strict(await listed.text())] == ["Số liệu trang này"]


async def test_a_note_on_a_confidential_paper_reaches_only_its_readers(
    client: Any, people: People
) -> None:
    c = await make_council(client, people)
    paper = await upload(c, sample_pdf(2), confidential="true", readers="db1,db3")
    base = f"/api/v1/sessions/{c.sid}/papers/{paper['id']}/annotations"
    db2 = await user_id(c, "db2")
    ws = await c.ws("db2", user_channel(db2))
    refused = await client.post(base, json=note(audience=["db2"]), headers=c.h("db1"))
    body = await refused.json()
    assert refused.status == 422 and body["field"] == "lt:audience" and body["logins"] == ["db2"]
    mixed = note(audience=["db3", "db2", "khong-co-ai"])
    refused = await client.post(base, json=mixed, headers=c.h("db1"))
    assert refused.status == 422 and (await refused.json())["logins"] == ["db2", "khong-co-ai"]
    assert await (await client.get(base, headers=c.h("db1"))).json() == []  # nothing stored
    ok = await client.post(base, json=note(audience=["db3", "thuky"]), headers=c.h("db1"))
    assert ok.status == 201, await ok.text()
    aid = (await ok.json())["id"].removeprefix("urn:uuid:")
    again = note(audience=["db3", "db2"])
    assert (await client.put(f"{base}/{aid}", json=again, headers=c.h("db1"))).status == 422
    assert [a["id"] for a in await (await client.get(base, headers=c.h("db3"))).json()] == [
        f"urn:uuid:{aid}"
    ]
    assert (await client.get(base, headers=c.h("db2"))).status == 404
    # events on a channel keep their order: had anything reached db2, it would come first
    await client.app[HUB_KEY].publish(user_channel(db2), "test.marker", {})
    assert (await next_op(ws, "annotation.saved", "test.marker"))["type"] == "test.marker"
    await ws.close()
    # an ordinary paper: shared only with people invited to the session
    plain = await upload(c, sample_pdf(2))
    other = f"/api/v1/sessions/{c.sid}/papers/{plain['id']}/annotations"
    outsider = await client.post(other, json=note(audience=["ngoai"]), headers=c.h("db1"))
    assert outsider.status == 422 and (await outsider.json())["logins"] == ["ngoai"]
    shared = await client.post(other, json=note(audience=["db2"]), headers=c.h("db1"))
    assert shared.status == 201


async def test_confidential_file_is_never_cached(client: Any, people: People) -> None:
    c = await make_council(client, people)
    secret = await upload(c, sample_pdf(2), confidential="true", readers="db1")
    plain = await upload(c, sample_pdf(2))
    for who in ("db1", "thuky"):
        path = f"/api/v1/sessions/{c.sid}/papers/{secret['id']}/file"
        for headers in ({}, {"Range": "bytes=0-99"}):
            resp = await client.get(path, headers={**c.h(who), **headers})
            assert resp.status in (200, 206)
            directives = {d.strip() for d in resp.headers["Cache-Control"].split(",")}
            assert "no-store" in directives and not any(d.startswith("max-age") for d in directives)
    resp = await client.get(
        f"/api/v1/sessions/{c.sid}/papers/{plain['id']}/file", headers=c.h("db1")
    )
    assert "max-age=3600" in resp.headers["Cache-Control"]
    assert "no-store" not in resp.headers["Cache-Control"]


async def test_svg_inside_refined_by_is_checked_like_any_drawing(
    client: Any, people: People
) -> None:
    c = await make_council(client, people)
    paper = await upload(c, sample_pdf(2))
    base = f"/api/v1/sessions/{c.sid}/papers/{paper['id']}/annotations"

    def refined(svg: str, depth: int = 1) -> dict[str, Any]:
        body = ink(SVG)
        inner: dict[str, Any] = {"type": "SvgSelector", "value": svg}
        for _ in range(depth - 1):
            inner = {"type": "FragmentSelector", "value": "page=1", "refinedBy": inner}
        body["target"]["selector"][0]["refinedBy"] = inner
        return body

    hostile = (
        SVG.replace("<path", "<script>alert(1)</script><path"),
        SVG.replace("<path", '<circle r="5"/><path'),
        SVG.replace("<path", '<image href="https://x.invalid/a.png"/><path'),
    )
    for svg in hostile:
        for depth in (1, 4):
            bad = await client.post(base, json=refined(svg, depth), headers=c.h("db1"))
            assert bad.status == 422, (svg, depth)
            assert (await bad.json())["field"] == "target.selector", svg
    in_list = ink(SVG)
    in_list["target"]["selector"][0]["refinedBy"] = [{"type": "SvgSelector", "value": hostile[0]}]
    assert (await client.post(base, json=in_list, headers=c.h("db1"))).status == 422
    # past the annotation's own depth (16) but within the platform's JSON nesting (32): 422 here
    deep = await client.post(base, json=refined(SVG, 20), headers=c.h("db1"))
    assert deep.status == 422
    # past the platform's JSON nesting: the body is refused before any domain code runs
    endless = await client.post(base, json=refined(SVG, 40), headers=c.h("db1"))
    assert endless.status == 400
    assert (await endless.json())["code"] == "bad_json"
    assert await (await client.get(base, headers=c.h("db1"))).json() == []
    good = await client.post(base, json=refined(SVG, 3), headers=c.h("db1"))
    assert good.status == 201, await good.text()
