"""Vietnam's time: the one time zone every date an official sees is counted in.

A server's clock runs in UTC; between 00:00 and 07:00 in Vietnam its ``date.today()`` is still
yesterday, so which agency codes are valid "today" or which date a document bears must come from
here, never from the server's local date.
"""

from __future__ import annotations

import datetime as dt

VN = dt.timezone(dt.timedelta(hours=7))
"""Vietnam's time (UTC+7, no daylight saving)."""


def today_vn() -> dt.date:
    """Today in Vietnam: at 06:30 on the 2nd it is the 2nd, not the server's 1st."""
    return dt.datetime.now(VN).date()
