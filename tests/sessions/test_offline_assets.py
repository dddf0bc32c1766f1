"""Every script module a session page imports is in the offline cache list.

A tablet that lost the hall's Wi-Fi loads the reader from the service worker's cache; a module
missing from ``STATIC_ASSETS`` (web/static/sessions/common.js) makes the whole page fail to start
offline, with nothing on screen.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

STATIC = Path(__file__).resolve().parents[2] / "web" / "static"
IMPORT = re.compile(r"""^import\s[^;]*?from\s+["']([^"']+)["']""", re.M)


def _imports(url: str) -> set[str]:
    """``url`` and every module it imports, transitively (URLs under /static/)."""
    seen: set[str] = set()
    todo = [url]
    while todo:
        current = todo.pop()
        if current in seen or "/vendor/" in current:
            seen.add(current)
            continue
        seen.add(current)
        source = (STATIC / current.removeprefix("/static/")).read_text(encoding="utf-8")
        for target in IMPORT.findall(source):
            if not target.startswith("/"):
                target = posixpath.normpath(posixpath.join(posixpath.dirname(current), target))
            todo.append(target)
    return seen


def _offline_list() -> set[str]:
    common = (STATIC / "sessions" / "common.js").read_text(encoding="utf-8")
    block = re.search(r"STATIC_ASSETS = \[(.*?)\];", common, re.S)
    assert block is not None
    return set(re.findall(r'"([^"]+)"', block.group(1)))


def test_every_module_of_the_session_pages_is_cached_for_offline() -> None:
    needed = _imports("/static/sessions/session.js") | _imports("/static/sessions/reader.js")
    assert "/static/format.js" in needed  # the walk follows relative imports
    assert needed - _offline_list() == set()
