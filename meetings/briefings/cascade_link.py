"""The signaling side of a cascade link: this node joins a briefing on the node above it.

The district node connects to the province's signaling socket with the API token of its hall
(invited there like any endpoint), sends the :class:`~.sfu.cascade.RelayPeer`'s offer and applies
the answer; the province hall then appears in the local room as its chair.  If the link drops it
is made again (with a fresh peer) until the local briefing ends or the upstream one does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

import aiohttp

from meetings.briefings.sfu.room import Room
from server import jsonstrict

log = logging.getLogger(__name__)
RELAY_ID = "upstream"
RETRY = (0.5, 1.0, 2.0, 3.0)


def signal_url(base: str, briefing_id: int) -> str:
    url = f"{base.rstrip('/')}/api/v1/briefings/{briefing_id}/signal"
    return "ws" + url[4:] if url.startswith("http") else url


async def run_link(room: Room, base: str, briefing_id: int, token: str, name: str) -> str:
    """Keep the link up; returns why it stopped (``ended``, ``replaced``, ``refused``, ``closed``)."""
    url = signal_url(base, briefing_id)
    try:
        return await _loop(room, url, token, name)
    finally:
        # the relay leaves only at the end: between attempts it keeps the local room alive
        with contextlib.suppress(KeyError):
            room.leave(room.participants[RELAY_ID])


async def _loop(room: Room, url: str, token: str, name: str) -> str:
    attempt = 0
    async with aiohttp.ClientSession() as http:
        while not room.ended:
            relay = room.add_relay(RELAY_ID, name)
            try:
                async with http.ws_connect(
                    url, headers={"Authorization": f"Bearer {token}"}, heartbeat=20
                ) as ws:
                    await ws.send_str(json.dumps({"type": "offer", "sdp": await relay.offer()}))
                    async for msg in ws:
                        if msg.type != aiohttp.WSMsgType.TEXT:
                            continue
                        frame = jsonstrict.loads(msg.data)
                        if frame.get("type") == "answer":
                            await relay.answered(str(frame["sdp"]))
                            attempt = 0
                        elif frame.get("type") in ("ended", "replaced"):
                            return str(frame["type"])
            except aiohttp.WSServerHandshakeError as exc:
                if exc.status in (401, 403, 404, 409):
                    log.warning("cascade link to %s refused: %s", url, exc.status)
                    return "refused"
            except (aiohttp.ClientError, OSError, ValueError, KeyError) as exc:
                log.info("cascade link to %s dropped: %r", url, exc)
            await asyncio.sleep(RETRY[min(attempt, len(RETRY) - 1)])
            attempt += 1
    return "closed"
