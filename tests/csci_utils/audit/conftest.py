"""Real environments for the audit: wheels built here, venvs made with ``venv``, pip installs.

No network and no ``pipenv lock``: the wheels are written by hand (a wheel is a
zip with a dist-info folder), venvs are created ``--without-pip`` and the
test runner's own pip installs into them with ``pip --python``. The project's
venv is ``PROJECT/.venv``, which ``pipenv --venv`` finds by itself.
"""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import textwrap
import venv
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

HOME_ONLY = "homeonly"  # installed in MAIN only; the project imports it
SHARED = "shared"  # 1.0 in MAIN, 2.0 in the venv; declared in the Pipfile
NEEDED = "needed"  # shared 2.0 requires needed>=5, but 1.0 is installed: a conflict
SECRET_VALUE = "do-not-leak-7f3a9c"
PYTHON_VERSION = f"{sys.version_info[0]}.{sys.version_info[1]}"


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def build_wheel(out_dir: Path, name: str, version: str, files: dict[str, str],
                requires: tuple[str, ...] = ()) -> Path:
    """A pure-Python wheel with ``files`` (path -> text) and no top_level.txt."""
    dist_info = f"{name}-{version}.dist-info"
    metadata = "".join([f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
                        *(f"Requires-Dist: {r}\n" for r in requires)])
    contents = {**files, f"{dist_info}/METADATA": metadata,
                f"{dist_info}/WHEEL": "Wheel-Version: 1.0\nGenerator: audit-tests\n"
                                      "Root-Is-Purelib: true\nTag: py3-none-any\n"}
    record = [f"{path},{_record_hash(text.encode())},{len(text.encode())}"
              for path, text in contents.items()]
    record.append(f"{dist_info}/RECORD,,")
    wheel = out_dir / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in contents.items():
            archive.writestr(path, text)
        archive.writestr(f"{dist_info}/RECORD", "\n".join(record) + "\n")
    return wheel


def make_venv(path: Path) -> Path:
    venv.EnvBuilder(with_pip=False).create(path)
    return path / "bin" / "python"


def pip_install(python: Path, *wheels: Path) -> None:
    """Install with the runner's pip into another interpreter; no index, no config."""
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
                    "--no-index", "--no-deps", "--disable-pip-version-check",
                    *map(str, wheels)],
                   check=True, env={**os.environ, "PIP_CONFIG_FILE": os.devnull})


@dataclass(frozen=True)
class Wheels:
    home_only: Path
    shared_1: Path
    shared_2: Path
    needed: Path


@pytest.fixture(scope="session")
def wheels(tmp_path_factory) -> Wheels:
    out = tmp_path_factory.mktemp("wheels")
    return Wheels(
        home_only=build_wheel(out, HOME_ONLY, "0.3.0",
                              {f"{HOME_ONLY}/__init__.py": "GREETING = 'works at home'\n"}),
        shared_1=build_wheel(out, SHARED, "1.0", {f"{SHARED}.py": "VERSION = 1\n"}),
        shared_2=build_wheel(out, SHARED, "2.0", {f"{SHARED}.py": "VERSION = 2\n"},
                             requires=(f"{NEEDED}>=5",)),
        needed=build_wheel(out, NEEDED, "1.0", {f"{NEEDED}.py": ""}),
    )


@pytest.fixture(scope="session")
def main_python(tmp_path_factory, wheels) -> Path:
    """The "main" interpreter: a venv where homeonly and shared 1.0 were pip-installed."""
    python = make_venv(tmp_path_factory.mktemp("main") / "env")
    pip_install(python, wheels.home_only, wheels.shared_1)
    return python


@dataclass(frozen=True)
class Project:
    dir: Path
    python: Path  # the venv's interpreter

    @property
    def pipfile(self) -> Path:
        return self.dir / "Pipfile"


PIPFILE = f"""\
[packages]
{SHARED} = "*"

[dev-packages]

[requires]
python_version = "{PYTHON_VERSION}"

[scripts]
test = "python -m pytest -q"
"""

APP = f"""\
import json
import {HOME_ONLY}
from {SHARED} import VERSION
from . import sibling
from app import helpers

try:
    import optional_accelerator
except ImportError:
    optional_accelerator = None
"""


def create_project(root: Path, wheels: Wheels) -> Project:
    """A Pipenv project whose code imports homeonly, which its Pipfile lacks."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "Pipfile").write_text(PIPFILE)
    (root / "app").mkdir()
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "main.py").write_text(APP)
    (root / "app" / "sibling.py").write_text("")
    (root / "app" / "helpers.py").write_text("import os\n")
    (root / ".env").write_text(f"AWS_ACCESS_KEY_ID={SECRET_VALUE}\n"
                               f"export AWS_SECRET_ACCESS_KEY={SECRET_VALUE}\n")
    python = make_venv(root / ".venv")
    pip_install(python, wheels.shared_2, wheels.needed)
    return Project(root, python)


@pytest.fixture(scope="session")
def project(tmp_path_factory, wheels) -> Project:
    """Shared, read-only: tests that change the project make their own."""
    return create_project(tmp_path_factory.mktemp("shared-project") / "proj", wheels)


@pytest.fixture(autouse=True)
def isolated_pipenv(monkeypatch, tmp_path_factory):
    # pipenv must find only the projects' in-project .venv folders, never a
    # developer's ~/.local/share/virtualenvs.
    monkeypatch.setenv("WORKON_HOME", str(tmp_path_factory.getbasetemp() / "workon-home"))


def pipenv_oracle_hash(pipfile: Path) -> str:
    """pipenv's own Pipfile hash, for checking ours (pipenv is in the audit extra)."""
    completed = subprocess.run(
        [sys.executable, "-c", "from pipenv.project import Project;"
                               "print(Project(chdir=False).pipfile.calculate_hash())"],
        cwd=pipfile.parent, env={**os.environ, "PIPENV_PIPFILE": str(pipfile)},
        capture_output=True, text=True, check=True)
    return completed.stdout.strip().splitlines()[-1]


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip()


@pytest.fixture(autouse=True)
def fresh_luigi_logging():
    """luigi.build configures its log handlers once per process, on the stderr of the test
    that ran first; later tests (pytest swaps stderr per test) would log into a closed
    stream. Undo it after each test."""
    import logging

    from luigi.setup_logging import InterfaceLogging

    loggers = [logging.getLogger(name) for name in ("luigi", "luigi-interface")]
    before = [list(logger.handlers) for logger in loggers]
    yield
    for logger, handlers in zip(loggers, before):
        logger.handlers[:] = handlers
    InterfaceLogging._configured = False
