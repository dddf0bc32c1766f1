"""Fail when imports form a cycle, between modules or between the parts of one package.

import-linter checks the layers; this checks what layers cannot: inside a package, no two of its
parts (modules or subpackages) import each other, directly or around a loop.  A part counts as
importing another when any module inside it does.  Run by ``make lint``.
"""

from __future__ import annotations

import sys
from collections import defaultdict

import grimp

ROOTS = ("lienthong", "web", "meetings", "documents", "signing", "server")


def _part(module: str, package: str) -> str | None:
    """The direct child of ``package`` that holds ``module`` (None when outside it)."""
    prefix = package + "."
    if not module.startswith(prefix):
        return None
    return prefix + module[len(prefix) :].split(".", 1)[0]


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def main() -> int:
    graph = grimp.build_graph(*ROOTS, cache_dir=None)
    modules = sorted(graph.modules)
    packages = {m for m in modules if graph.find_children(m)}
    problems: list[str] = []
    for package in sorted(packages):
        edges: dict[str, set[str]] = defaultdict(set)
        for module in graph.find_descendants(package):
            src = _part(module, package)
            for imported in graph.find_modules_directly_imported_by(module):
                dst = _part(imported, package)
                if src and dst and src != dst:
                    edges[src].add(dst)
        for cycle in _cycles(edges):
            problems.append(f"{package}: {' ↔ '.join(cycle)}")
    for line in problems:
        print(f"import cycle in {line}", file=sys.stderr)
    if not problems:
        print(f"no import cycles among {len(modules)} modules and their packages")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
