"""A small hostile PDF cannot tie up signature checking (THREAT_MODEL.md, resource limits).

The corpus (``hostile.py``): a flat ``/Kids`` of thousands of pages (each page used to cost a walk
of the tree from the start: 4,000 pages took minutes), a page tree nested thousands deep, a
``/Kids`` cycle, subtrees shared to multiply the pages, many objects, many updates. Each is refused
with a clear error or checked in time linear in its size; the test timeouts are generous bounds,
never timing assertions. Over HTTP: the refusal is problem+json, a check past its budget is
stopped, a client that leaves stops its check, and one user cannot hold every check slot."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from io import BytesIO
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from server.auth.principal import Role
from signing import pdfinput
from signing.devpki import DevPki
from signing.errors import InvalidPdf
from signing.pdfinput import PdfLimits, PdfTooComplex, open_for_signing, open_reader
from signing.service import SIGNING_KEY
from signing.worker import VerificationWorker
from tests.conftest import People, bearer

from . import hostile

Client = TestClient[Any, Any]
PROBLEM = "application/problem+json"
VERIFY = "/api/v1/signatures/verify"
PDF = {"Content-Type": "application/pdf"}
OPENERS: list[Callable[..., Any]] = [open_reader, open_for_signing]


# -- the structural limits ----------------------------------------------------------------------


@pytest.mark.timeout(120)
@pytest.mark.parametrize("opener", OPENERS, ids=["validate", "sign"])
def test_flat_page_tree_of_8000_pages_is_read_once(opener: Callable[..., Any]) -> None:
    # 8,000 pages under one node: once a walk from the start per page (minutes), now one walk
    opener(hostile.flat(8000))


@pytest.mark.timeout(60)
@pytest.mark.parametrize("opener", OPENERS, ids=["validate", "sign"])
@pytest.mark.parametrize(
    ("name", "data", "limits", "what"),
    [
        ("declared pages", hostile.flat(12_000), None, "pages"),
        ("actual pages", hostile.flat(600, declared=1), PdfLimits(max_pages=500), "pages"),
        ("deep tree", hostile.deep(5_000), None, "page tree levels"),
        ("objects", hostile.many_objects(1_500), PdfLimits(max_objects=1_000), "objects"),
        ("updates", hostile.many_updates(30), PdfLimits(max_revisions=10), "revisions"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_over_a_limit_is_refused_clearly(
    opener: Callable[..., Any], name: str, data: bytes, limits: PdfLimits | None, what: str
) -> None:
    with pytest.raises(PdfTooComplex) as err:
        opener(data, limits)
    assert err.value.code == "signing.pdf_too_complex"
    assert err.value.status == 422
    assert err.value.extra["limit"] == what, name
    assert f"too many {what}" in err.value.detail
    assert err.value.detail_vi.startswith("Tệp PDF có quá nhiều ")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("data", [hostile.cycle(), hostile.shared(40)], ids=["cycle", "shared"])
def test_cycle_and_shared_subtrees_are_refused(data: bytes) -> None:
    for opener in OPENERS:
        with pytest.raises(InvalidPdf) as err:
            opener(data)
        assert "appears twice" in err.value.detail
        assert err.value.detail_vi == "Tệp PDF không dùng được: cây trang của tệp PDF bị hỏng."


def test_the_default_limits_and_ordinary_files() -> None:
    assert PdfLimits(10_000, 500_000, 64, 1_000) == pdfinput.LIMITS
    open_reader(hostile.deep(20))
    open_reader(hostile.many_updates(3))
    # a node with fewer pages than it declares would make pyHanko's page look-up fail later
    with pytest.raises(InvalidPdf, match="fewer pages than its /Count"):
        open_reader(hostile.flat(3, declared=5))


# -- over HTTP ----------------------------------------------------------------------------------


async def _user(client: Client, people: People, pki: DevPki, login: str) -> dict[str, str]:
    """A user of a server that trusts the dev root (added once, by an admin)."""
    if not any(client.app[SIGNING_KEY].store.directory.glob("*.pem")):
        await people.add("quantri", Role.ADMIN)
        admin = bearer(await people.token("quantri"))
        resp = await client.post(
            "/api/v1/trust-roots",
            data=pki.root_pem.read_bytes(),
            headers={**admin, "Content-Type": "application/x-pem-file"},
        )
        assert resp.status == 201, await resp.text()
    await people.add(login, Role.CLERK)
    return bearer(await people.token(login))


async def _problem(resp: aiohttp.ClientResponse, status: int, code: str) -> dict[str, Any]:
    body: dict[str, Any] = await resp.json(content_type=None)
    assert resp.status == status, body
    assert resp.content_type == PROBLEM
    assert body["code"] == code, body
    assert body["detail"] and body["detail_vi"]
    return body


async def _until(condition: Callable[[], bool]) -> None:
    """Poll ``condition`` (the test's timeout bounds the wait)."""
    while True:
        if condition():
            return
        await asyncio.sleep(0.02)


@pytest.mark.timeout(120)
async def test_verify_refuses_the_quadratic_file_with_problem_json(
    client: Client, people: People, pki: DevPki
) -> None:
    user = await _user(client, people, pki, "vanthu")
    resp = await client.post(VERIFY, data=BytesIO(hostile.flat(12_000)), headers={**user, **PDF})
    body = await _problem(resp, 422, "signing.pdf_too_complex")
    assert "quá nhiều trang" in body["detail_vi"]
    assert (body["limit"], body["found"], body["max"]) == ("pages", 12_000, 10_000)
    # 4,000 pages under the limit: checked (no signature), in one walk of the tree
    resp = await client.post(VERIFY, data=hostile.flat(4_000), headers={**user, **PDF})
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["signatures"] == []


@pytest.mark.timeout(120)
async def test_a_check_past_its_budget_is_stopped(
    client: Client, people: People, pki: DevPki
) -> None:
    user = await _user(client, people, pki, "vanthu")
    worker = client.app[SIGNING_KEY].worker
    worker.budget = 0.5  # far less than parsing 9,000 pages takes
    resp = await client.post(VERIFY, data=hostile.flat(9_000), headers={**user, **PDF})
    body = await _problem(resp, 422, "signing.check_too_costly")
    assert "quá phức tạp" in body["detail_vi"]
    assert worker.pids() == []  # the process that ran it was killed
    worker.budget = 60.0
    resp = await client.post(VERIFY, data=hostile.flat(10), headers={**user, **PDF})
    assert resp.status == 200  # the next check gets a fresh process


@pytest.mark.timeout(120)
async def test_a_client_that_leaves_stops_its_check(
    client: Client, people: People, pki: DevPki
) -> None:
    user = await _user(client, people, pki, "vanthu")
    worker: VerificationWorker = client.app[SIGNING_KEY].worker
    post = asyncio.ensure_future(
        client.post(VERIFY, data=hostile.flat(9_000), headers={**user, **PDF})
    )
    await _until(lambda: bool(worker.pids()) and worker.running() == 1)
    [pid] = worker.pids()
    post.cancel()  # the client closes its connection mid-check
    await _until(lambda: worker.in_flight() == 0)
    await _until(lambda: not _alive(pid))
    assert worker.pids() == []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as fh:  # reaped soon; a zombie is not working either
        return fh.read().split(") ")[1][0] != "Z"


@pytest.mark.timeout(120)
async def test_one_user_cannot_take_every_check(
    client: Client, people: People, pki: DevPki
) -> None:
    alice = await _user(client, people, pki, "alice")
    bob = await _user(client, people, pki, "bob")
    worker: VerificationWorker = client.app[SIGNING_KEY].worker
    worker.max_concurrent = 0  # hold every check in the queue: what is counted, not how long
    pdf = hostile.flat(10)

    def post(who: dict[str, str]) -> asyncio.Future[aiohttp.ClientResponse]:
        return asyncio.ensure_future(client.post(VERIFY, data=pdf, headers={**who, **PDF}))

    held = [post(alice), post(alice)]
    await _until(lambda: worker.in_flight() == 2)
    # a third check of alice's is refused at once, with when to try again
    resp = await client.post(VERIFY, data=pdf, headers={**alice, **PDF})
    body = await _problem(resp, 429, "signing.too_many_checks")
    assert resp.headers["Retry-After"] == "5"
    assert "2 lần kiểm tra" in body["detail_vi"]
    # bob is not affected by alice's share
    held.append(post(bob))
    await _until(lambda: worker.in_flight() == 3)
    assert not held[2].done()  # admitted, waiting for its turn like alice's
    # clients that leave drop their queued checks: nothing ran, nothing is left waiting
    for future in held:
        future.cancel()
    await _until(lambda: worker.in_flight() == 0)
    assert worker.pids() == [] and worker.last_run is None
