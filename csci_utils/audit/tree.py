"""The venv's dependency tree from pipdeptree 4.x, annotated with what the Pipfile declares.

pipdeptree 4.x's Python API is ``pipdeptree.render(...) -> str``; these calls
are the CLI's ``--python <venv python> -o json`` and ``--summary -o json``,
made in-process so that no extra interpreter has to start.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys

from . import background
from .errors import AuditError
from .models import DependencyTree, Edge, Inventory, Pipfile, TreeNode
from .pipfile import canonical_name
from .validate import find_conflicts, find_cycles

# Installed by venv/virtualenv itself; nobody declares them in a Pipfile.
BOOTSTRAP_DISTRIBUTIONS = frozenset({"pip", "setuptools", "wheel", "distribute"})
REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*([^;]*)")


def _render(python: str, **options) -> str:
    try:
        import pipdeptree
    except ImportError:
        raise AuditError("pipdeptree is not installed: pip install 'pipdeptree>=4' "
                         "(it is in csci-utils[audit])") from None
    try:
        # extras="active": an extra counts when its requirements are installed,
        # so `pip install -e .[all]` shows what [all] pulled in.
        return pipdeptree.render(python=python, warn="silence", extras="active", **options)
    except (ValueError, OSError, RuntimeError) as error:
        raise AuditError(f"pipdeptree could not read {python}: {error}") from None


# The summary stats every installed file (a few tenths of a second with torch
# installed) while holding the GIL, so it runs in a process of its own while
# this one builds the tree. -I: ``-c`` would put the working directory first on
# sys.path, and a project's pipdeptree.py would run.
_SUMMARY_IN_A_PROCESS = (
    "import sys, pipdeptree\n"
    "sys.stdout.write(pipdeptree.render(python=sys.argv[1], warn='silence', extras='active',"
    " output_format='json', summary=True))\n")
SUMMARY_TIMEOUT_S = 300


def _installed(entry: dict) -> str | None:
    version = entry.get("installed_version")
    return None if version in (None, "", "?") else str(version)


def build_tree(flat: list[dict], summary: dict, pipfile: Pipfile,
               keep: frozenset[str] | None = None,
               extra_edges: dict[str, tuple[Edge, ...]] | None = None) -> DependencyTree:
    """Nodes, roots, and the roots the Pipfile declares, from pipdeptree's JSON.

    ``keep``: the distributions CI's venv will hold (a ``--system-site-packages``
    venv also sees its base's, which CI will not have); None keeps all.
    Requirements are checked against everything the venv sees. ``extra_edges``:
    requirements pipdeptree does not read (an egg-info's requires.txt), by name.
    """
    declared = pipfile.declared()
    extra_edges = extra_edges or {}
    nodes = []
    for entry in flat:
        package = entry["package"]
        name = canonical_name(package["key"])
        if keep is not None and name not in keep:
            continue
        nodes.append(TreeNode(
            name=name,
            display_name=package.get("package_name", name),
            version=str(package.get("installed_version")),
            # The same requirement reached through two extras is one edge.
            dependencies=tuple(dict.fromkeys(
                Edge(canonical_name(dep["key"]), str(dep.get("required_version") or "Any"),
                     _installed(dep))
                for dep in entry.get("dependencies", ()))) or extra_edges.get(name, ()),
            declared_in=declared.get(name, ()),
        ))
    nodes.sort(key=lambda node: node.name)
    required = {edge.name for node in nodes for edge in node.dependencies}
    roots = tuple(node.name for node in nodes if node.name not in required)
    return DependencyTree(
        nodes=tuple(nodes),
        roots=roots,
        declared_roots=tuple(name for name in roots if name in declared),
        undeclared_roots=tuple(name for name in roots
                               if name not in declared and name not in BOOTSTRAP_DISTRIBUTIONS),
        summary=summary,
        conflicts=tuple(find_conflicts(tuple(nodes))),
        cycles=tuple(find_cycles(tuple(nodes))),
    )


def egg_info_edges(inventory: Inventory) -> dict[str, tuple[Edge, ...]]:
    """Edges from egg-info requirements (requires.txt), which pipdeptree leaves out."""
    active = inventory.active()
    edges = {}
    for name, dist in active.items():
        if not (dist.dist_info or "").endswith(".egg-info") or not dist.requires:
            continue
        found = []
        for requirement in dist.requires:
            if ";" in requirement:
                continue  # an extra or a marker: not what a plain install pulls in
            match = REQUIREMENT.match(requirement)
            if match:
                dep = canonical_name(match.group(1))
                installed = active.get(dep)
                found.append(Edge(dep, match.group(2).strip() or "Any",
                                  installed.version if installed else None))
        edges[name] = tuple(found)
    return edges


def venv_tree(python: str, pipfile: Pipfile, keep: frozenset[str] | None = None,
              inventory: Inventory | None = None) -> DependencyTree:
    """pipdeptree on ``python`` (``--python PY -o json -x active``, and ``--summary``),
    turned into a DependencyTree.

    The summary runs in its own process meanwhile (measured: it and the tree
    take ~0.3 s and ~0.15 s of CPU, so this saves the shorter of the two); where that
    process fails, it runs here.
    """
    command = [sys.executable, "-I", "-c", _SUMMARY_IN_A_PROCESS, python]
    with background.started(command) as [process]:
        tree = build_tree(json.loads(_render(python, output_format="json")), {}, pipfile, keep,
                          egg_info_edges(inventory) if inventory is not None else None)
        try:
            summary = json.loads(background.answer(process, SUMMARY_TIMEOUT_S))
        except (background.NoAnswer, ValueError):
            summary = json.loads(_render(python, output_format="json", summary=True))
    return dataclasses.replace(tree, summary=summary)
