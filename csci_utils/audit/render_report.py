"""Text for people: the diagnosis summary, and the dependency tree as text and mermaid."""

from __future__ import annotations

import re

from .models import CATEGORIES, WILL_BREAK_ON_CI, DependencyTree, Diagnosis, TreeNode


def render_diagnosis(diagnosis: Diagnosis) -> str:
    """The human-readable summary Diagnose prints on stdout."""
    lines = [f"Dependency audit of {diagnosis.project_dir}"]
    if not diagnosis.findings:
        lines.append("  nothing found: what works at home should work on CI")
    for category in CATEGORIES:
        found = diagnosis.of(category)
        if not found:
            continue
        lines.append(f"{category.upper() if category == WILL_BREAK_ON_CI else category} "
                     f"({len(found)}):")
        for finding in found:
            where = ", ".join(finding.where[:3]) + (", ..." if len(finding.where) > 3 else "")
            lines.append(f"  - {finding.name}: {finding.detail}" + (f" [{where}]" if where else ""))
    lines.extend(f"note: {note}" for note in diagnosis.notes)
    return "\n".join(lines) + "\n"


def _label(node: TreeNode | None, name: str) -> str:
    if node is None:
        return f"{name} (missing)"
    declared = f" [Pipfile: {', '.join(node.declared_in)}]" if node.declared_in else ""
    return f"{node.display_name}=={node.version}{declared}"


def render_tree_text(tree: DependencyTree) -> str:
    """One block per root, dependencies indented; a repeated subtree is shown once."""
    by_name = {node.name: node for node in tree.nodes}
    lines: list[str] = []
    shown: set[str] = set()

    def walk(name: str, required: str | None, depth: int, path: tuple[str, ...]) -> None:
        node = by_name.get(name)
        line = f"{'  ' * depth}{'- ' if depth else ''}{_label(node, name)}"
        line += f" [required: {required}]" if required else ""
        if name in path:
            line += " (cycle)"
        elif name in shown and node.dependencies:  # a shown name has a node
            line += " (see above)"
        lines.append(line)
        if node is not None and name not in shown:  # every name on the path is shown
            shown.add(name)
            for edge in node.dependencies:
                walk(edge.name, edge.required, depth + 1, path + (name,))

    for root in tree.roots:
        walk(root, None, 0, ())
    for conflict in tree.conflicts:
        lines.append(f"conflict: {conflict.package} requires {conflict.dependency} "
                     f"{conflict.required}, installed: {conflict.installed or 'nothing'}")
    for cycle in tree.cycles:
        lines.append("cycle: " + " -> ".join((*cycle, cycle[0])))
    return "\n".join(lines) + "\n"


def _mermaid_id(name: str) -> str:
    return "p_" + re.sub(r"[^A-Za-z0-9_]", "_", name)


def render_tree_mermaid(tree: DependencyTree) -> str:
    """A mermaid flowchart; Pipfile-declared packages get their own class."""
    lines = ["flowchart TD", "    classDef declared stroke-width:3px;",
             "    classDef missing stroke-dasharray: 5 5;"]
    names = {node.name for node in tree.nodes}
    for node in tree.nodes:
        style = ":::declared" if node.declared_in else ""
        lines.append(f'    {_mermaid_id(node.name)}["{node.display_name}\\n{node.version}"]{style}')
    for node in tree.nodes:
        for edge in node.dependencies:
            if edge.name not in names:
                lines.append(f'    {_mermaid_id(edge.name)}["{edge.name}\\n(missing)"]:::missing')
                names.add(edge.name)
            label = edge.required.replace('"', "'")
            lines.append(f'    {_mermaid_id(node.name)} -- "{label}" --> {_mermaid_id(edge.name)}')
    return "\n".join(lines) + "\n"
