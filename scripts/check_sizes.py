"""Fail when a module grows past 500 lines or a function past 60, outside migrations.

Small rooms, one concept each (STYLE.md): this keeps them small.  Run by ``make lint``.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGES = ("lienthong", "server", "signing", "documents", "meetings", "web")
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60


def _is_migration(path: Path) -> bool:
    return any(part.startswith("migrations") for part in path.parts)


def _long_functions(tree: ast.AST) -> list[tuple[str, int, int]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                found.append((node.name, node.lineno, length))
    return found


def main(root: Path) -> int:
    problems: list[str] = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            rel = path.relative_to(root)
            if _is_migration(rel):
                continue
            text = path.read_text(encoding="utf-8")
            lines = text.count("\n") + 1
            if lines > MAX_MODULE_LINES:
                problems.append(f"{rel}: {lines} lines (at most {MAX_MODULE_LINES})")
            for name, line, length in _long_functions(ast.parse(text, str(rel))):
                problems.append(
                    f"{rel}:{line} {name}: {length} lines (at most {MAX_FUNCTION_LINES})"
                )
    for line in problems:
        print(line, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(Path(__file__).resolve().parent.parent))
