"""Sentences a document keeps in Vietnamese (the validator's verdict on its signatures, the
envelope's signature line), shown in the page's language.

They are stored as the validator wrote them when the document arrived; on an English page each
known form is read back and written again from the catalogue (``web/documents/texts.py``).  A
sentence of another form is shown as stored.
"""

from __future__ import annotations

import re

from web.documents.texts import TEXTS

_FORMS: list[tuple[str, str]] = [
    ("sig.all_ok", r"Tất cả (?P<n>\d+) chữ ký/dấu thời gian đều hợp lệ\."),
    ("sig.some_bad", r"(?P<bad>\d+)/(?P<n>\d+) chữ ký/dấu thời gian KHÔNG hợp lệ\."),
    ("sig.none", r"Tệp không có chữ ký số nào\."),
    ("envelope.none", r"Chữ ký gói tin: không có"),
    ("envelope.ok", r"Chữ ký gói tin: hợp lệ — (?P<name>.+)"),
]
_COMPILED = [(key, re.compile(rf"\A{pattern}\Z", re.S)) for key, pattern in _FORMS]


def stored_in(text: str, lang: str) -> str:
    """``text`` (a stored Vietnamese sentence) in ``lang``."""
    if lang != "en" or not text:
        return text
    for key, pattern in _COMPILED:
        m = pattern.match(text.strip())
        if m:
            return TEXTS[key][1].format(**m.groupdict())
    return text
