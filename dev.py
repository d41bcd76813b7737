#!/usr/bin/env python3
"""Set up the project environment if needed, then run a command in it.

    python3 dev.py demo            # python -m pset_4 on the embedded default store
    python3 dev.py test [ARGS]     # the whole test suite (pytest ARGS)
    python3 dev.py run CMD [ARGS]  # any command inside the environment

Needs only Python 3.10+. The first call creates ``.venv`` and installs this repo
editable with ``[all]``; later calls reinstall only when setup.py, the Pipfile or the set of
top-level packages changed (their hash is stamped into the venv), so a warm call costs milliseconds.
``.venv`` is also what ``pipenv --venv`` finds for this project directory.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("CSCI_VENV", ROOT / ".venv"))
STAMP = VENV / ".installed-from"
INSTALL_INPUTS = ("setup.py", "Pipfile")
NO_TESTS_RAN = 5  # pytest's exit code when it collected nothing


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def install_fingerprint() -> str:
    digest = hashlib.sha256()
    for name in INSTALL_INPUTS:
        digest.update(name.encode() + b"\0" + (ROOT / name).read_bytes() + b"\0")
    # The editable install maps top-level packages by name, so a new package needs a reinstall.
    packages = sorted(init.parent.name for init in ROOT.glob("*/__init__.py"))
    digest.update("\0".join(packages).encode())
    return digest.hexdigest()


def ensure_environment() -> Path:
    python = venv_python()
    wanted = install_fingerprint()
    if python.exists() and STAMP.exists() and STAMP.read_text().strip() == wanted:
        return python
    if not python.exists():
        print(f"dev.py: creating {VENV}", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print(
        "dev.py: installing -e .[all] (setup.py, Pipfile or the package list changed)",
        file=sys.stderr,
    )
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "-e", f"{ROOT}[all]"],
        check=True,
    )
    # Write a new file and rename it: a venv copied with hard links (cp -al) shares the old
    # stamp's inode with its original, which an in-place write would change too.
    fresh = STAMP.with_name(STAMP.name + ".new")
    fresh.write_text(wanted + "\n")
    fresh.replace(STAMP)
    return python


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help"}:
        print(__doc__.strip())
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    try:
        python = ensure_environment()
    except subprocess.CalledProcessError as error:
        print(
            f"dev.py: installing the environment failed (exit {error.returncode})", file=sys.stderr
        )
        return 1
    env = {**os.environ, "VIRTUAL_ENV": str(VENV),
           "PATH": f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    if command == "demo":
        cmd = [str(python), "-m", "pset_4", *rest]
    elif command == "test":
        cmd = [str(python), "-m", "pytest", *rest]
    elif command == "run" and rest:
        cmd = rest
    else:
        print(f"dev.py: unknown command {command!r}; see python3 dev.py --help", file=sys.stderr)
        return 2
    code = subprocess.run(cmd, cwd=ROOT, env=env).returncode
    if command == "test" and code == NO_TESTS_RAN:
        print("dev.py: ERROR: pytest ran no tests; treating that as a failure", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
