"""The import scan: ast only, with each import's dotted name and guards."""

from __future__ import annotations

import ast
import textwrap

from csci_utils.audit.source_imports import imports_in, parse_file


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


def test_a_file_that_does_not_parse_is_skipped(tmp_path):
    (tmp_path / "bad.py").write_bytes(b"import requests\ndef broken(:\n")
    assert parse_file(str(tmp_path / "bad.py")) is None
