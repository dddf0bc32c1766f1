"""Built-in channel rules and channel-name helpers.

A rule is ``async (principal, channel) -> bool``; the hub asks every rule whose prefix matches the
channel and allows the subscription when one of them says yes.  Domains write their own (a council
session's channel is open to the people invited to it) and register them with
:meth:`~server.realtime.hub.Hub.add_channel_rule`.
"""

from __future__ import annotations

from server.auth.principal import Principal

USER_PREFIX = "user:"
AGENCY_PREFIX = "agency:"


def user_channel(user_id: int) -> str:
    """The private channel of one official (``user:42``): their notifications, other devices."""
    return f"{USER_PREFIX}{user_id}"


def agency_channel(agency_code: str) -> str:
    """The channel of one agency (``agency:000.00.00.H30``): its incoming documents, its clerks."""
    return f"{AGENCY_PREFIX}{agency_code}"


async def own_user_channel(principal: Principal, channel: str) -> bool:
    """Allow ``user:<id>`` only to that user."""
    return channel == user_channel(principal.user_id)


async def own_agency_channel(principal: Principal, channel: str) -> bool:
    """Allow ``agency:<code>`` only to the people of that agency (cơ quan)."""
    return channel == agency_channel(principal.agency_code)
