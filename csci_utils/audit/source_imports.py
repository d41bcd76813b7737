"""The project's Python files and the absolute imports in each, found with ``ast``.

Nothing is executed: the files are only parsed, and only their statements that
hold imports (``import_statements``).

Each import carries the conditions it sits under (``if TYPE_CHECKING:``,
``if sys.version_info < (3, 8):`` ...) as source text, so the audit can tell
imports that never run on the target interpreter (``guards.py``).
"""

from __future__ import annotations

import ast
import bisect
import os
import re

# Folders that hold someone else's code or generated files, never the project's.
SKIPPED_DIRS = frozenset({".git", ".hg", ".svn", ".audit", ".tox", ".nox", ".venv", "venv",
                          "env", "node_modules", "__pycache__", "build", "dist", "site-packages",
                          ".mypy_cache", ".pytest_cache", ".eggs"})
STATEMENT_LISTS = ("body", "orelse", "finalbody", "handlers", "cases")


def project_python_file_names(project_dir) -> list[str]:
    """The project's .py files, leaving out virtualenvs (anything with a pyvenv.cfg) and caches."""
    found = []
    for folder, dirs, files in os.walk(project_dir):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.endswith(".egg-info")
                         and not os.path.exists(os.path.join(folder, d, "pyvenv.cfg")))
        found.extend(os.path.join(folder, f) for f in sorted(files) if f.endswith(".py"))
    return found


def _is_import_error_guard(handler: ast.ExceptHandler) -> bool:
    caught = handler.type
    names = caught.elts if isinstance(caught, ast.Tuple) else [caught]
    return caught is None or any(
        isinstance(n, ast.Name) and n.id in {"ImportError", "ModuleNotFoundError", "Exception"}
        for n in names)


Import = tuple  # (top-level module, line, optional, dotted name, guards)


def imports_in(tree: ast.Module) -> list[Import]:
    """(top-level module, line, optional, dotted name, guards) for each absolute import.

    ``optional``: inside ``try: ... except ImportError``. ``dotted``: the longest
    module path the statement may name (``from a.b import c`` gives ``a.b.c``;
    whether ``c`` is a module is decided later, against what is installed).
    ``guards``: ``[condition source, holds]`` for each enclosing ``if``; ``holds``
    is False in its ``else`` branch. Imports are statements, so only statement
    lists are walked (function and class bodies, branches, handlers).
    """
    found = []

    def walk(statements: list, optional: bool, guards: list) -> None:
        for node in statements:
            if isinstance(node, ast.Import):
                found.extend((alias.name.split(".")[0], node.lineno, optional, alias.name, guards)
                             for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level == 0 and node.module:
                    found.extend((node.module.split(".")[0], node.lineno, optional,
                                  f"{node.module}.{alias.name}" if alias.name != "*"
                                  else node.module, guards) for alias in node.names)
            elif isinstance(node, ast.If):
                test = ast.unparse(node.test)
                walk(node.body, optional, [*guards, [test, True]])
                walk(node.orelse, optional, [*guards, [test, False]])
            elif isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
                walk(node.body, optional or any(_is_import_error_guard(h) for h in node.handlers),
                     guards)
                for name in ("handlers", "orelse", "finalbody"):
                    walk(getattr(node, name), optional, guards)
            else:
                for name in STATEMENT_LISTS:
                    children = getattr(node, name, None)
                    if isinstance(children, list):
                        walk(children, optional, guards)

    walk(tree.body, False, [])
    return found


# A string or a comment, with the code before it. Possessive, so that a match never
# backtracks and the scan stays linear; a lone quote is an unterminated string.
_LITERAL = re.compile(rb"""([^"'#]*+)("""
                      rb'''"""(?:[^"\\]++|\\[\s\S]|"(?!""))*+"""'''
                      rb"""|'''(?:[^'\\]++|\\[\s\S]|'(?!''))*+'''"""
                      rb'''|"(?:[^"\\\n]++|\\[\s\S])*+"'''
                      rb"""|'(?:[^'\\\n]++|\\[\s\S])*+'"""
                      rb"""|#[^\r\n]*+|["']|\Z)""")
# For bytes.translate: every byte but a line break, and a table that makes each a space.
_NOT_LINE_BREAKS = bytes(byte for byte in range(256) if byte not in b"\r\n")
_SPACES = bytes(byte if byte in b"\r\n" else 32 for byte in range(256))
_KEYWORD = re.compile(rb"import\b(?<!\wimport)")
# A class or def header (to the first line that ends with a colon), and the indentation of
# its body's first statement (blank and ``#`` lines skipped).
_HEADER = re.compile(rb"(?:class|def|async[ \t]+def)\b(?:[^\r\n]*\r?\n)*?[^\r\n]*:[ \t]*\r?\n"
                     rb"(?=(?:[ \t\f]*(?:#[^\r\n]*)?\r?\n)*([ \t]+)[^\s#])")


def _statement_starts(indent: bytes) -> re.Pattern:
    """A line at ``indent`` that starts a statement: not after a backslash continuation,
    not a closing bracket, not a clause of the statement before (else, except ...)."""
    return re.compile(rb"\n(?<!\\\n)(?<!\\\r\n)" + indent
                      + rb"(?=[^\s#)\]}])(?!(?:else|elif|except|finally)\b)")


def _blank(match: re.Match) -> bytes:
    """The code, then the literal as spaces; a line that starts inside it starts with ``#``
    (as a comment line would), so that it never looks like a statement's start."""
    return match[1] + match[2].translate(_SPACES).replace(b"\n ", b"\n#")


def _kept(code: bytes, keywords: list[int], low: int, high: int, indent: bytes,
          kept: list[tuple[int, int]]) -> None:
    """Add to ``kept`` the statements at ``indent`` in code[low:high] that hold a keyword;
    of a class or def, its header and, the same way, the statements of its body."""
    lines = _statement_starts(indent).finditer(code, low, high)
    starts = [low, *(line.start() + 1 for line in lines), high]
    for index in sorted({bisect.bisect_right(starts, at) - 1 for at in
                         keywords[bisect.bisect_left(keywords, low):
                                  bisect.bisect_left(keywords, high)]}):
        start, end = starts[index], starts[index + 1]
        header = _HEADER.match(code, start + len(indent), end)
        if header and len(header[1]) > len(indent) and header[1].startswith(indent):
            kept.append((start, header.end()))
            _kept(code, keywords, header.end(), end, header[1], kept)
        else:
            kept.append((start, end))


def import_statements(source: bytes) -> bytes | None:
    """``source`` with only the statements that hold the word ``import`` outside strings
    and comments, and the headers of the classes and functions around them; the rest is
    cut down to its line breaks. None when no statement holds the word.

    What is kept stays on its lines, and each statement whole, so ``ast`` finds the same
    imports, guards and line numbers as in the whole file, for a fraction of the cost:
    most of a file is code without imports. A boundary judged wrong (a line inside
    brackets, say) leaves a bracket unclosed or closed twice, or a block without its
    header, so the cut source does not parse and ``parse_file`` parses the whole file.
    """
    code = _LITERAL.sub(_blank, source)
    keywords = [match.start() for match in _KEYWORD.finditer(code)]
    if not keywords:
        return None
    kept: list[tuple[int, int]] = []
    _kept(code, keywords, 0, len(code), b"", kept)
    pieces, end = [], 0
    for start, stop in kept:
        pieces += [source[end:start].translate(None, _NOT_LINE_BREAKS), source[start:stop]]
        end = stop
    pieces.append(source[end:].translate(None, _NOT_LINE_BREAKS))
    return b"".join(pieces)


def parse_file(path: str) -> list[Import] | None:
    """``imports_in`` of one file's import statements (``import_statements``), or None
    when it cannot be read or they do not parse.

    A syntax error elsewhere does not hide a file's imports: the file may be written for
    a newer Python than the auditor's (``type Alias = ...``), or be a template.
    """
    try:
        with open(path, "rb") as handle:
            source = handle.read()
        statements = import_statements(source)
        if statements is None:
            return []
        try:
            return imports_in(ast.parse(statements, filename=path))
        except SyntaxError:  # a boundary judged wrong, or a real error: the whole file decides
            return imports_in(ast.parse(source, filename=path))
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return None
