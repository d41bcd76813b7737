"""Whether an import runs on the target interpreter: ``if TYPE_CHECKING:`` and dead branches.

An import under ``if TYPE_CHECKING:`` never runs; one under ``if sys.version_info < (3, 8):``
or ``if sys.platform == "win32":`` runs only where the condition holds. The condition is
evaluated for the venv's interpreter (its version and PEP 508 marker variables); anything
else it might say (a feature flag, a call) cannot be decided and counts as "it runs".
"""

from __future__ import annotations

import ast
import operator

from .models import Inventory

TYPE_ONLY = "type-only"
DEAD = "dead"
_COMPARE = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt,
            ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
            ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b}


class Undecidable(Exception):
    pass


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    raise Undecidable


def _value(node: ast.AST, venv: Inventory):
    environment = venv.marker_environment
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Tuple):
        return tuple(_value(element, venv) for element in node.elts)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return not _value(node.operand, venv)
    if isinstance(node, ast.BoolOp):
        values = [_value(v, venv) for v in node.values]
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.Compare):
        left = _value(node.left, venv)
        for op, right_node in zip(node.ops, node.comparators):
            right = _value(right_node, venv)
            if type(op) not in _COMPARE or not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.Subscript):
        return _value(node.value, venv)[_value(node.slice, venv)]
    if isinstance(node, ast.Slice):
        return slice(*(None if part is None else _value(part, venv)
                       for part in (node.lower, node.upper, node.step)))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and not node.keywords:
        if node.func.attr in ("startswith", "endswith"):
            subject = _value(node.func.value, venv)
            if isinstance(subject, str):
                return getattr(subject, node.func.attr)(*(_value(a, venv) for a in node.args))
        if _dotted(node.func) in ("platform.system",) and not node.args:
            return environment.get("platform_system", "")
        raise Undecidable
    name = _dotted(node)
    if name.split(".")[-1] == "TYPE_CHECKING":
        return False
    if name == "sys.version_info":
        return tuple(int(part) for part in venv.version.split(".")[:3])
    if name == "sys.platform":
        return environment.get("sys_platform", "")
    if name == "os.name":
        return environment.get("os_name", "")
    raise Undecidable


def verdict(guards, venv: Inventory) -> tuple[str, str] | None:
    """(TYPE_ONLY or DEAD, the condition) when an import never runs in ``venv``; else None."""
    for condition, holds in guards:
        try:
            tree = ast.parse(condition, mode="eval").body
        except SyntaxError:
            continue
        if holds and any(getattr(n, "id", getattr(n, "attr", None)) == "TYPE_CHECKING"
                         for n in ast.walk(tree)):
            return TYPE_ONLY, condition
        try:
            if bool(_value(tree, venv)) != holds:
                return DEAD, condition if holds else f"not ({condition})"
        except (Undecidable, TypeError, ValueError, IndexError, KeyError):
            continue
    return None
