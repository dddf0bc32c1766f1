"""The realtime hub's exceptions.

Errors raised while handling a client's WebSocket message are sent back to that client as an
``{"op": "error", "code", "detail", "detail_vi"}`` frame; the socket stays open.  Errors raised
before the upgrade go through the platform's problem+json middleware like any other.
"""

from __future__ import annotations

from server.errors import LienThongError


class RealtimeError(LienThongError):
    """Base of the hub's errors."""

    status = 400
    code = "realtime.error"
    title = "Realtime error"


class BadMessage(RealtimeError):
    """A client message that is not JSON, not an object, or has a wrong field."""

    status = 400
    code = "realtime.bad_message"
    title = "Malformed realtime message"


class ChannelForbidden(RealtimeError):
    """No channel rule lets this principal subscribe to the channel (deny by default)."""

    status = 403
    code = "realtime.forbidden"
    title = "Channel forbidden"

    def __init__(self, channel: str) -> None:
        super().__init__(
            f"You may not subscribe to the channel {channel!r}.",
            detail_vi=f"Bạn không có quyền theo dõi kênh {channel!r}.",
            extra={"channel": channel},
        )
        self.channel = channel


class InvalidEvent(RealtimeError):
    """A domain tried to publish an event with a bad channel, type or data (a programming error)."""

    status = 500
    code = "realtime.invalid_event"
    title = "Invalid realtime event"


class BackendUnavailable(RealtimeError):
    """The cross-process backend (PostgreSQL or Redis) cannot be reached or did not answer."""

    status = 503
    code = "realtime.unavailable"
    title = "Realtime backend unavailable"
