"""The import scan: ast only, with each import's guards; in-process and in its own process."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path

from csci_utils.audit.imports import file_imports, scan_imports, start_parsing
from csci_utils.audit.source_imports import imports_in

REPO = Path(__file__).resolve().parents[3]


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
    assert file_imports(str(tmp_path / "bad.py")) is None


def test_the_parser_process_gives_the_same_scan(tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "main.py").write_text("import requests\ntry:\n    import ujson\n"
                                              "except ImportError:\n    ujson = None\n")
    in_process = scan_imports(tmp_path, frozenset(sys.stdlib_module_names))
    # The same files, parsed by the background process (ast runs there, not here).
    for path in (tmp_path / "app").iterdir():
        path.touch()  # new stamps: nothing parsed above can be reused
    start_parsing(tmp_path)
    assert scan_imports(tmp_path, frozenset(sys.stdlib_module_names)) == in_process
    assert [(site.module, site.optional) for site in in_process] == \
        [("requests", False), ("ujson", True)]


def test_the_parser_process_runs_without_site_packages(tmp_path):
    (tmp_path / "m.py").write_text("import requests\n")
    script = REPO / "csci_utils" / "audit" / "source_imports.py"
    completed = subprocess.run([sys.executable, "-I", "-S", str(script), str(tmp_path)],
                               capture_output=True, text=True, check=True)
    [[path, _size, _mtime, found]] = json.loads(completed.stdout)
    assert path == str(tmp_path / "m.py") and found == [["requests", 1, False, "requests", []]]
