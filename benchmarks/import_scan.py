#!/usr/bin/env python
"""The import scan, cut against whole: the same answers, and the CPU each takes, side by side.

    python3 dev.py run python benchmarks/import_scan.py DIR [DIR ...]

For every .py file under each DIR (the audit's own file walk: virtualenvs and
caches left out), ``ast`` of the whole file (the reference) and
``source_imports.parse_file`` (only the statements that hold imports, the
whole file where the cut does not parse) run one after the other. Prints, per
DIR, the files and bytes read, the CPU of each and their ratio, how many
parseable files gave a different answer (must be 0), how many files the cut
could not parse (the whole file was parsed instead), and how many files that
do not parse as a whole now count by their import statements.
"""

from __future__ import annotations

import ast
import gc
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from csci_utils.audit.source_imports import (  # noqa: E402
    import_statements,
    imports_in,
    parse_file,
    project_python_file_names,
)


def whole(source: bytes):
    try:
        return imports_in(ast.parse(source))
    except (SyntaxError, ValueError, RecursionError):
        return None


def measure(folder: str) -> bool:
    reference = cut = 0.0
    files = size = differ = fell_back = now_read = 0
    for path in project_python_file_names(folder):
        try:
            source = Path(path).read_bytes()
        except OSError:
            continue
        files, size = files + 1, size + len(source)
        started = time.process_time()
        expected = whole(source)
        between = time.process_time()
        found = parse_file(path)
        cut += time.process_time() - between
        reference += between - started
        differ += expected is not None and found != expected
        now_read += expected is None and found is not None
        statements = import_statements(source)
        if expected is not None and statements is not None:
            try:
                ast.parse(statements)
            except SyntaxError:
                fell_back += 1
    print(f"{folder}: {files} files, {size / 1e6:.1f} MB; whole {reference:.2f} s, "
          f"cut {cut:.2f} s of CPU ({cut / max(reference, 1e-9):.2f}x); differ: {differ}; "
          f"cut did not parse (whole file used): {fell_back}; "
          f"not parseable whole, now read: {now_read}")
    return differ == 0


def main() -> int:
    if len(sys.argv) < 2:
        sys.exit(__doc__.splitlines()[2].strip())
    gc.disable()  # the same for both: syntax trees hold no cycles
    warnings.simplefilter("ignore")  # invalid escapes in old files
    return 0 if all([measure(folder) for folder in sys.argv[1:]]) else 1


if __name__ == "__main__":
    sys.exit(main())
