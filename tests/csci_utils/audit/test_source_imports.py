"""The import scan reads only the statements that hold imports; it must agree with ast."""

from __future__ import annotations

import ast
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

from csci_utils.audit.imports import file_imports, scan_imports, start_parsing
from csci_utils.audit.source_imports import imports_in, project_python_file_names, source_imports

REPO = Path(__file__).resolve().parents[3]
STDLIB = Path(sysconfig.get_paths()["stdlib"])


def by_ast(source: bytes) -> list:
    return imports_in(ast.parse(source))


def corpus() -> list[Path]:
    files = [Path(name) for name in project_python_file_names(REPO)]
    for package in ("email", "json", "asyncio", "unittest", "importlib", "logging", "xml",
                    "idlelib", "multiprocessing", "http", "concurrent", "ctypes", "sqlite3"):
        files += sorted((STDLIB / package).rglob("*.py"))
    return files


def test_agrees_with_ast_on_this_repo_and_part_of_the_standard_library():
    files = corpus()
    assert len(files) > 450
    for path in files:
        source = path.read_bytes()
        assert source_imports(source, str(path)) == by_ast(source), path


CASES = {
    "docstring lines at column 0 are not imports": '''
        """Usage:
        import not_a_module
        from nowhere import thing
        """
        import real
        ''',
    "try/except ImportError makes an import optional": '''
        try:
            import fast
        except ImportError:
            fast = None
        else:
            import after_fast
        finally:
            import always
        ''',
    "imports inside functions, classes and branches": '''
        def f():
            import lazy
        class C:
            if True:
                from pkg.sub import name
        ''',
    "column-0 lines inside brackets and after backslashes": '''
        DATA = [
        "import fake",
        1]
        x = 1 + \\
        2; import after_continuation
        import last
        ''',
    "comments and strings that mention import": '''
        # import commented
        s = 'import quoted'; t = "from x import y"
        u = r"""raw
        import in_raw
        """
        import real
        ''',
    "relative and dotted imports": '''
        from . import sibling
        from .pkg import thing
        import a.b.c, d as e
        from f.g import (h,
            i)
        ''',
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_tricky_sources_agree_with_ast(case):
    source = textwrap.dedent(CASES[case]).lstrip().encode()
    assert source_imports(source) == by_ast(source)
    assert source_imports(source), "every case imports something"


@pytest.mark.parametrize("newline", [b"\r\n", b"\r"])
def test_windows_and_old_mac_line_ends_keep_line_numbers(newline):
    source = newline.join([b"x = 1", b'"""doc', b'import nope"""', b"import yes", b""])
    assert source_imports(source) == by_ast(source) == [("yes", 4, False)]


def test_other_encodings_and_a_bom_are_decoded_as_python_would():
    latin = "# -*- coding: latin-1 -*-\ns = 'caf\xe9'\nimport yes\n".encode("latin-1")
    bom = b"\xef\xbb\xbfimport yes\n"
    assert source_imports(latin) == by_ast(latin) == [("yes", 3, False)]
    assert source_imports(bom) == by_ast(bom) == [("yes", 1, False)]


def test_a_syntax_error_elsewhere_does_not_hide_the_imports(tmp_path):
    source = b"import requests\n\ndef broken(:\n    pass\n"
    with pytest.raises(SyntaxError):
        ast.parse(source)
    assert source_imports(source) == [("requests", 1, False)]
    # A broken import statement itself: ast has the last word, the file is skipped.
    (tmp_path / "bad.py").write_bytes(b"import (\n")
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
    [[path, _size, _mtime, found]] = __import__("json").loads(completed.stdout)
    assert path == str(tmp_path / "m.py") and found == [["requests", 1, False]]
