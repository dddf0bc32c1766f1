"""Sentences a document keeps in Vietnamese (the validator's verdict on its signatures, the
envelope's signature line), shown in the page's language.

They are stored as the validator wrote them when the document arrived; on an English page each
known form is read back and written again from the catalogue (``web/documents/texts.py``, whose
Vietnamese text is the same sentence as ``signing.validate`` and ``documents.envelope`` write).
A sentence of another form is shown as stored.
"""

from __future__ import annotations

import re

from web.documents.texts import TEXTS

STORED_KEYS = ("sig.all_ok", "sig.some_bad", "sig.none", "envelope.none", "envelope.ok")


def _pattern(vietnamese: str) -> re.Pattern[str]:
    """The Vietnamese text as a pattern, each ``{name}`` a named group."""
    parts = re.split(r"\{(\w+)\}", vietnamese)
    regex = "".join(
        re.escape(part) if i % 2 == 0 else rf"(?P<{part}>.+?)" for i, part in enumerate(parts)
    )
    return re.compile(rf"\A{regex}\Z", re.S)


_FORMS = [(key, _pattern(TEXTS[key][0])) for key in STORED_KEYS]


def stored_in(text: str, lang: str) -> str:
    """``text`` (a stored Vietnamese sentence) in ``lang``."""
    if lang != "en" or not text:
        return text
    for key, pattern in _FORMS:
        m = pattern.match(text.strip())
        if m:
            return TEXTS[key][1].format(**m.groupdict())
    return text
