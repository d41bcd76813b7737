"""The project's Python files and the absolute imports in each, found with ``ast``.

Standard library only, so that it also runs as a script in a process of its
own (``python -I -S source_imports.py PROJECT_DIR``): parsing a project is the
audit's biggest piece of pure-Python work, and ``ast.parse`` holds the GIL.
The script prints ``[[path, size, mtime_ns, imports or null], ...]`` as JSON.
Nothing is executed: the files are only parsed.

Most of a file holds no import, so only the top-level statements that do are
given to ``ast``: a small lexer tells code from strings and comments, finds
the ``import`` keywords (a reserved word: outside strings and comments it only
ever starts or continues an import statement) and the lines where top-level
statements start. Any doubt (a chunk that does not parse, an unusual
encoding, Python 3.12's nested f-string quotes) falls back to parsing the
whole file, so the answer is always what ``ast`` says.
"""

from __future__ import annotations

import ast
import bisect
import json
import os
import re
import sys

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


def imports_in(tree: ast.Module) -> list[tuple[str, int, bool]]:
    """(top-level module, line, optional) for each absolute import in a module.

    Imports are statements, so only statement lists are walked (function and
    class bodies, branches, handlers), not every expression node.
    """
    found = []

    def walk(statements: list, optional: bool) -> None:
        for node in statements:
            if isinstance(node, ast.Import):
                found.extend((alias.name.split(".")[0], node.lineno, optional)
                             for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level == 0 and node.module:
                    found.append((node.module.split(".")[0], node.lineno, optional))
            elif isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
                walk(node.body, optional or any(_is_import_error_guard(h) for h in node.handlers))
                for name in ("handlers", "orelse", "finalbody"):
                    walk(getattr(node, name), optional)
            else:
                for name in STATEMENT_LISTS:
                    children = getattr(node, name, None)
                    if isinstance(children, list):
                        walk(children, optional)

    walk(tree.body, False)
    return found


# Comments, string literals (Python <= 3.11 rules: escapes and line
# continuations inside; a prefix such as r or f changes nothing about where a
# literal ends) and the import keyword; one pass, left to right.
_LEXEME = re.compile(r"""
    \#[^\r\n]*
  | (?P<string>
        (?: '''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*'''
          | \"\"\"[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*\"\"\"
          | '[^'\\\r\n]*(?:\\.[^'\\\r\n]*)*'
          | "[^"\\\r\n]*(?:\\.[^"\\\r\n]*)*"
        )
    )
  | (?P<keyword>import\b)
""", re.VERBOSE | re.DOTALL)  # every branch starts with a literal: the engine skips ahead fast
# A line that may start a top-level statement: not indented, not blank, not a
# comment, not the tail of a bracket, and not a clause of the statement above.
_TOP_LEVEL_LINE = re.compile(r"^(?![\s#)\]}]|(?:except|else|elif|finally)\b)", re.MULTILINE)
_CODING = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.MULTILINE)
_PEP_701 = sys.version_info >= (3, 12)  # f-strings may nest their own quotes: no lexing them
_F_STRING = re.compile(r"(?<![\w])(?:[fF][rR]?|[rR][fF])['\"]")


def _decoded(source: bytes) -> str | None:
    """The source as text, or None when only ``ast`` should decode it."""
    head = b"\n".join(source.split(b"\n", 2)[:2])
    cookie = _CODING.search(head)
    if cookie and cookie.group(1).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8"):
        return None
    try:
        text = source.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    if "\r" in text:  # Python counts a lone CR as a line end too
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _PEP_701 and _F_STRING.search(text):
        return None
    return text


def _import_chunks(text: str) -> list[tuple[int, int]] | None:
    """(start, end) of each top-level statement that holds an import keyword."""
    keywords, in_strings = [], []
    for match in _LEXEME.finditer(text):
        if match.lastgroup == "keyword":
            start = match.start()
            if start == 0 or not (text[start - 1].isalnum() or text[start - 1] == "_"):
                keywords.append(start)  # the word import, not the end of a longer name
        elif match.lastgroup == "string" and "\n" in match.group():
            in_strings.append(match.span())
    if not keywords:
        return []
    starts = [0]
    string_index = 0
    for match in _TOP_LEVEL_LINE.finditer(text):
        position = match.start()
        while string_index < len(in_strings) and in_strings[string_index][1] <= position:
            string_index += 1
        if string_index < len(in_strings) and in_strings[string_index][0] < position:
            continue  # a line inside a multi-line string
        if position >= 2 and text[position - 2] == "\\":
            continue  # the previous line ends in a backslash: a continuation
        starts.append(position)
    starts.append(len(text))
    chunks = []
    for keyword in keywords:
        index = bisect.bisect_right(starts, keyword) - 1
        chunk = (starts[index], starts[index + 1])
        if not chunks or chunks[-1] != chunk:
            chunks.append(chunk)
    return chunks


def source_imports(source: bytes, path: str = "<source>") -> list[tuple[str, int, bool]]:
    """``imports_in(ast.parse(source))``, parsing only the statements that hold imports.

    Raises SyntaxError or ValueError as ``ast.parse`` does when the file does
    not parse and the lexer could not tell the imports apart.
    """
    text = _decoded(source)
    if text is not None:
        found = []
        for start, end in _import_chunks(text):
            # Blank lines in front keep the line numbers of the whole file.
            padded = "\n" * text.count("\n", 0, start) + text[start:end]
            try:
                found.extend(imports_in(ast.parse(padded, filename=path)))
            except (SyntaxError, ValueError):
                break  # something the lexer did not foresee: ask ast about the whole file
        else:
            return found
    return imports_in(ast.parse(source, filename=path))


def parse_file(path: str) -> tuple[tuple[str, int, int], list[tuple[str, int, bool]] | None] | None:
    """((path, size, mtime_ns), its imports or None if it does not parse), or None if unreadable.

    The stat is taken before the read: a file changed in between is parsed
    again next time, under its new stamp.
    """
    try:
        stat = os.stat(path)
        with open(path, "rb") as handle:
            source = handle.read()
    except OSError:
        return None
    key = (path, stat.st_size, stat.st_mtime_ns)
    try:
        return key, source_imports(source, path)
    except (SyntaxError, ValueError):
        return key, None


def main() -> None:
    parsed = []
    for path in project_python_file_names(sys.argv[1]):
        found = parse_file(path)
        if found is not None:
            parsed.append([*found[0], found[1]])
    sys.stdout.write(json.dumps(parsed))


if __name__ == "__main__":
    main()
