"""Problems inside one dependency graph: unmet requirements and cycles.

pipdeptree's ``--summary`` only counts them (and under ``-o json`` its warnings
are silent), so the details are worked out here from the tree itself.
"""

from __future__ import annotations

from .models import Conflict, TreeNode

UNCONSTRAINED = "Any"


def satisfies(installed: str, required: str) -> bool:
    if required in ("", UNCONSTRAINED):
        return True
    # Imported here: a run that builds no tree (all outputs there) skips 0.03 s.
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion, Version

    try:
        return SpecifierSet(required).contains(Version(installed), prereleases=True)
    except (InvalidSpecifier, InvalidVersion):
        return True  # cannot judge: do not cry wolf


def find_conflicts(nodes: tuple[TreeNode, ...]) -> list[Conflict]:
    """Requirements that are missing or whose installed version is outside the specifier."""
    conflicts = []
    for node in nodes:
        for edge in node.dependencies:
            if edge.installed is None or not satisfies(edge.installed, edge.required):
                conflicts.append(Conflict(node.name, edge.name, edge.required, edge.installed))
    return conflicts


def find_cycles(nodes: tuple[TreeNode, ...]) -> list[tuple[str, ...]]:
    """Each dependency cycle once, rotated to start at its smallest name."""
    graph = {node.name: [e.name for e in node.dependencies] for node in nodes}
    cycles: set[tuple[str, ...]] = set()
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    path: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        path.append(name)
        for child in graph.get(name, ()):
            if state.get(child) == 1:
                cycle = path[path.index(child):]
                start = cycle.index(min(cycle))
                cycles.add(tuple(cycle[start:] + cycle[:start]))
            elif child not in state:
                visit(child)
        path.pop()
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)
    return sorted(cycles)
