"""The import scan: ast only, with each import's dotted name and guards."""

from __future__ import annotations

import ast
import textwrap
import warnings
from pathlib import Path

import pytest

from csci_utils.audit.source_imports import import_statements, imports_in, parse_file


def test_imports_carry_dotted_names_optional_flags_and_guards():
    source = textwrap.dedent("""
        import a.b.c, d
        from e.f import g, h
        from . import sibling
        try:
            import fast
        except ImportError:
            fast = None
        if TYPE_CHECKING:
            import typed
        else:
            import untyped
        def later():
            if sys.version_info < (3, 8):
                from old import thing
    """)
    assert imports_in(ast.parse(source)) == [
        ("a", 2, False, "a.b.c", []), ("d", 2, False, "d", []),
        ("e", 3, False, "e.f.g", []), ("e", 3, False, "e.f.h", []),
        ("fast", 6, True, "fast", []),
        ("typed", 10, False, "typed", [["TYPE_CHECKING", True]]),
        ("untyped", 12, False, "untyped", [["TYPE_CHECKING", False]]),
        ("old", 15, False, "old.thing", [["sys.version_info < (3, 8)", True]]),
    ]


# Every way a line can look like a statement boundary or an import and not be one.
TRICKY = '''"""Module docstring.

import not_this
from neither import this
"""
from __future__ import annotations
import a.b.c, d  # import not_a_comment
from e.f import (
    g,
    h,
)
from x import (y,
    z)
x = 1 + \\
2
DATA = [
1, "import not_in_a_string",
]
TEXT = """
class NotAClass:
    import not_this_either
"""  # and a comment: import nope
RAW = r"\\" import no"  # an escaped quote in a raw string
if TYPE_CHECKING: import inline_guarded
import semi; import colon_after
try:
    import fast
except ImportError:
    fast = None
if sys.version_info < (3, 8):
    import old
elif sys.platform == "win32":
    import windows
else:
    import other


@decorator(
    import_like=1,
)
class Big(
    Base,
):
    """Doc.

import not_in_docstring
"""
    attribute = 1

    def plain(self):
        return 1

    def lazy(self, value=(
            1,
    )):
        import lazy_one
        if TYPE_CHECKING:
            from typed import Thing
        return value

    def topic(self):
        try:
            import topics
        except ImportError:
            return ("""
A line inside a string, at column 0
""" , "")
        return topics

    def signature(
        self,
        value: int = 1,
    ) -> None:
        """A docstring.

        import not_in_this_one
        """
        import after_a_long_signature

    class Inner:
        def deeper(self):
            try:
                import deep
            except (ImportError, ValueError):
                deep = None

    if sys.version_info >= (3, 11):
        def modern(self):
            import tomllib
    else:
        def modern(self):
            import tomli


async def coroutine():
    async with lock:
        import in_async


def unrelated():
    return "import not_here"


match command:
    case "go":
        import matched
'''


def _both_ways(tmp_path, source: bytes):
    (tmp_path / "file.py").write_bytes(source)
    return parse_file(str(tmp_path / "file.py")), imports_in(ast.parse(source))


@pytest.mark.parametrize("line_break", ["\n", "\r\n"])
@pytest.mark.parametrize("indent", ["    ", "\t"])
def test_the_cut_source_gives_what_the_whole_file_gives(tmp_path, line_break, indent):
    source = TRICKY.replace("    ", indent).replace("\n", line_break).encode()
    cut = import_statements(source)
    for left_out in (b"def plain", b"attribute = 1", b"def unrelated", b"DATA", b"TEXT"):
        assert left_out not in cut and left_out in source
    assert cut.count(b"\n") == source.count(b"\n")  # every line where it was
    ast.parse(cut)  # it parses: no boundary was judged wrong
    found, whole = _both_ways(tmp_path, source)
    assert found == whole
    assert {name for name, *_ in whole} >= {"a", "d", "e", "x", "inline_guarded", "semi",
                                             "colon_after", "lazy_one", "typed", "deep", "topics",
                                             "after_a_long_signature",
                                             "tomllib", "tomli", "in_async", "matched"}
    assert not {name for name, *_ in whole if name.startswith(("not", "nei", "nope"))}


def test_the_cut_source_gives_what_the_whole_file_gives_on_the_standard_library(tmp_path):
    """Files nobody wrote for this test: every eighth module of this Python's own library."""
    library = Path(ast.__file__).parent
    modules = sorted(path for path in library.rglob("*.py") if "site-packages" not in path.parts)
    checked = 0
    for path in modules[::8]:
        source = path.read_bytes()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # invalid escapes in old test data
                whole = imports_in(ast.parse(source))
        except (SyntaxError, ValueError):
            continue  # test data that does not parse on purpose
        assert parse_file(str(path)) == whole, path
        checked += 1
    assert checked > 200


def test_a_column_0_line_inside_a_kept_statement_makes_the_whole_file_decide(tmp_path):
    source = b"from a import (\nb,\n)\ndef f():\n    import c\n"
    assert b"import c" in import_statements(source)
    with pytest.raises(SyntaxError):  # the cut ends the first statement at "b,"
        ast.parse(import_statements(source))
    found, whole = _both_ways(tmp_path, source)
    assert found == whole == [("a", 1, False, "a.b", []), ("c", 5, False, "c", [])]


def test_a_syntax_error_elsewhere_does_not_hide_a_files_imports(tmp_path):
    """A module written for a newer Python than the auditor's (PEP 695's ``type``, 3.12),
    or with a broken function: its imports still count."""
    newer = b"import requests\n\ntype Vector = list[float]\n\ndef f():\n    import yaml\n"
    (tmp_path / "newer.py").write_bytes(newer)
    assert [found[0] for found in parse_file(str(tmp_path / "newer.py"))] == ["requests", "yaml"]
    (tmp_path / "broken.py").write_bytes(b"import requests\ndef broken(:\n")
    assert parse_file(str(tmp_path / "broken.py")) == [("requests", 1, False, "requests", [])]


def test_a_file_whose_import_statements_do_not_parse_is_skipped(tmp_path):
    (tmp_path / "bad.py").write_bytes(b"import requests\nfrom broken import (\n")
    assert parse_file(str(tmp_path / "bad.py")) is None
    (tmp_path / "none.py").write_bytes(b'"""import nothing"""\nx = 1  # import\n')
    assert parse_file(str(tmp_path / "none.py")) == []
