"""axe-core (the copy bundled by the ``axe-playwright-python`` package, no network) run in a page.

The script is added to each context as an init script (Chromium's DevTools protocol injects it
before the page's own scripts), so the pages' Content-Security-Policy stays on: no inline script
is added to the page.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

BLOCKING = ("serious", "critical")
"""Impacts a page may not have (issue 13: 0 serious or critical violations)."""


@cache
def axe_source() -> str:
    return files("axe_playwright_python").joinpath("axe.min.js").read_text(encoding="utf-8")


def violations(page: Any) -> list[dict[str, Any]]:
    """The page's serious and critical axe violations (WCAG 2.x A and AA and best practices)."""
    found: list[dict[str, Any]] = page.evaluate(
        """async () => (await window.axe.run(document, {resultTypes: ['violations']})).violations
            .filter((v) => v.impact === 'serious' || v.impact === 'critical')
            .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                          nodes: v.nodes.map((n) => n.target.join(' ') + ' ' + n.html.slice(0, 160))}))"""
    )
    return found


def report(found: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"  {v['id']} ({v['impact']}): {v['help']}\n" + "\n".join(f"    - {n}" for n in v["nodes"])
        for v in found
    )
