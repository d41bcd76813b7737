"""The venv's dependency tree from pipdeptree 4.x, annotated with what the Pipfile declares.

pipdeptree 4.x's Python API is ``pipdeptree.render(...) -> str``; these calls
are the CLI's ``--python <venv python> -o json`` and ``--summary -o json``.
"""

from __future__ import annotations

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


# The summary stats every installed file while holding the GIL (measured on this repo's
# venv, torch in it: 0.15-0.54 s, against 0.01-0.02 s for the tree), so it runs in a
# process of its own while this one builds the tree. -I: ``-c`` would put the working
# directory first on sys.path, and a project's pipdeptree.py would run.
_SUMMARY_IN_A_PROCESS = (
    "import sys, pipdeptree\n"
    "sys.stdout.write(pipdeptree.render(python=sys.argv[1], warn='silence', extras='active',"
    " output_format='json', summary=True))\n")
SUMMARY_TIMEOUT_S = 300


def build_tree(flat: list[dict], summary: dict, venv: Inventory,
               pipfile: Pipfile) -> DependencyTree:
    """Nodes, roots, and the roots the Pipfile declares, from pipdeptree's JSON.

    Only what CI's copy of the venv holds is kept (``Inventory.ci_copy``: a
    ``--system-site-packages`` venv also sees its base's); requirements are checked
    against everything the venv sees. An egg-info's requirements (requires.txt),
    which pipdeptree does not read, are edges too.
    """
    declared = pipfile.declared()
    keep, extra_edges = venv.ci_copy(declared), egg_info_edges(venv)
    nodes = []
    for entry in flat:
        package = entry["package"]
        name = canonical_name(package["key"])
        if name not in keep:
            continue
        nodes.append(TreeNode(
            name=name,
            display_name=package.get("package_name", name),
            version=str(package.get("installed_version")),
            # The same requirement reached through two extras is one edge.
            dependencies=tuple(dict.fromkeys(
                Edge(canonical_name(dep["key"]), str(dep.get("required_version") or "Any"),
                     None if dep.get("installed_version") in (None, "", "?")
                     else str(dep["installed_version"]))
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


def venv_tree(venv: Inventory, pipfile: Pipfile) -> DependencyTree:
    """pipdeptree on the venv (``--python PY -o json -x active``; ``--summary`` in its own
    process meanwhile, or here where that process fails), as a DependencyTree."""
    command = [sys.executable, "-I", "-c", _SUMMARY_IN_A_PROCESS, venv.python]
    with background.started(command) as [process]:
        flat = json.loads(_render(venv.python, output_format="json"))
        try:
            summary = json.loads(background.answer(process, SUMMARY_TIMEOUT_S))
        except (background.NoAnswer, ValueError):
            summary = json.loads(_render(venv.python, output_format="json", summary=True))
    return build_tree(flat, summary, venv, pipfile)
