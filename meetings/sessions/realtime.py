"""The sessions domain on the realtime hub: who may listen, and votes over the open socket.

Channels: ``session:<id>`` for everyone invited; ``session:<id>:desk`` for the chair and the
secretariat (live counts).  A vote is the client message
``{"op": "vote", "poll": 7, "choice": "yes", "ref": "…"}``; the reply
``{"op": "vote.ack", "poll": 7, "status": "recorded" | "already", "ref": "…"}`` comes once the vote
is committed, or an ``error`` with a ``votes.*`` code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from meetings.sessions.actions.votes import cast
from meetings.sessions.rules import Choice
from meetings.sessions.service import SessionsService, is_desk
from server.auth.principal import Principal
from server.realtime import BadMessage, ChannelCheck, MessageHandler

_CHANNEL = re.compile(r"^session:(\d{1,12})(:desk)?$")


@dataclass(frozen=True, slots=True)
class VoteMessage:
    """``{"op": "vote", "poll": int, "choice": "yes" | "no" | "abstain"}``, checked when built."""

    poll: int
    choice: Choice

    @classmethod
    def parse(cls, message: Mapping[str, Any]) -> VoteMessage:
        poll = message.get("poll")
        if not isinstance(poll, int) or isinstance(poll, bool) or poll <= 0:
            raise BadMessage('"poll" must be a vote id.', detail_vi="Thiếu mã biểu quyết.")
        try:
            choice = Choice(str(message.get("choice")))
        except ValueError:
            raise BadMessage(
                '"choice" must be yes, no or abstain.',
                detail_vi="Lựa chọn phải là Đồng ý, Không đồng ý hoặc Không biểu quyết.",
            ) from None
        return cls(poll, choice)


def make_channel_rule(svc: SessionsService) -> ChannelCheck:
    async def session_channel(principal: Principal, channel: str) -> bool:
        match = _CHANNEL.match(channel)
        if match is None:
            return False
        session_id, desk = int(match.group(1)), match.group(2) is not None
        role = await svc.roles.role(session_id, principal.user_id)
        return role is not None and (not desk or is_desk(role))

    return session_channel


def make_vote_handler(svc: SessionsService) -> MessageHandler:
    async def on_vote(principal: Principal, message: Mapping[str, Any]) -> Mapping[str, Any]:
        vote = VoteMessage.parse(message)
        outcome = await cast(svc, principal, vote.poll, vote.choice)
        return {"op": "vote.ack", "poll": vote.poll, "status": outcome.status}

    return on_vote
