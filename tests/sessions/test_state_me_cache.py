"""The caller's own part of the page state is kept per person and event number
(statecache.MineCache): an unchanged reload reads no database, and whatever changes one's part
(one's own vote, one's attendance) is seen by the next reload."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from meetings.sessions.service import SERVICE_KEY
from tests.conftest import People
from tests.sessions.helpers import Client, make_council, next_op
from tests.sessions.test_scale import get_state


async def test_me_is_kept_and_moves_with_ones_own_changes(
    client: Client, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = await make_council(client, people)
    svc = client.app[SERVICE_KEY]
    reads: list[str] = []
    real_read = svc.read

    async def counting(desc: str, fn: Callable[[Any], Awaitable[Any]]) -> Any:
        reads.append(desc)
        return await real_read(desc, fn)

    monkeypatch.setattr(svc, "read", counting)

    status, etag, body = await get_state(c, "db1")
    assert status == 200 and json.loads(body)["me"]["attendance"] is None
    reads.clear()
    hits = svc.mine_cache.hits
    assert (await get_state(c, "db1", etag))[0] == 304
    assert "session_me" not in reads and svc.mine_cache.hits == hits + 1  # no database read
    # another person's part is their own
    status, _e2, body = await get_state(c, "db2")
    assert (
        status == 200
        and json.loads(body)["me"]["user_id"]
        != json.loads((await get_state(c, "db1"))[2])["me"]["user_id"]
    )

    # one's attendance, marked by the desk (an event on the session channel)
    await c.call("POST", "/attendance", "thuky", {"login": "db1", "status": "hall"}, 200)
    status, etag, body = await get_state(c, "db1", etag)
    assert status == 200 and json.loads(body)["me"]["attendance"]["status"] == "hall"

    # a change that is not one's own: the kept part is served again under the new number
    await c.call("POST", "/agenda", "thuky", {"title": "Tờ trình số 2"}, 201)
    reads.clear()
    status, _etag, body = await get_state(c, "db1", etag)
    assert status == 200 and "session_me" in reads  # the numbers moved: read once ...
    reads.clear()
    assert (await get_state(c, "db1"))[0] == 200 and "session_me" not in reads  # ... then kept


async def test_own_vote_moves_the_version_before_the_ack(
    client: Client, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = await make_council(client, people)
    svc = client.app[SERVICE_KEY]
    status, _etag, body = await get_state(c, "db1")
    me = json.loads(body)["me"]
    before = svc.mine_cache.version(me["user_id"])
    poll = await c.call("POST", "/polls", "thuky", {"title": "Thông qua", "item_id": c.item}, 201)
    await c.call("POST", f"/polls/{poll['id']}/open", "thuky", None, 200)
    await c.call("POST", "/attendance", "db1", {"status": "hall"}, 200)
    # stop the desk's count from moving the key: only the version can show the vote
    monkeypatch.setattr(svc, "_publish_tallies", _nothing)
    status, etag, body = await get_state(c, "db1")
    assert json.loads(body)["me"]["voted"] == []
    assert (await get_state(c, "db1", etag))[0] == 304
    ws = await c.ws("db1")
    await ws.send_json({"op": "vote", "poll": poll["id"], "choice": "yes", "ref": "v"})
    assert (await next_op(ws, "vote.ack"))["status"] == "recorded"
    await ws.close()
    assert svc.mine_cache.version(me["user_id"]) == before + 1
    status, _etag, body = await get_state(c, "db1", etag)
    assert status == 200 and json.loads(body)["me"]["voted"] == [poll["id"]]


async def _nothing(_touched: Any) -> None:
    return None
