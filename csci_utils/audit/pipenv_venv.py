"""Find a project's Pipenv virtualenv the way ``pipenv --venv`` does.

pipenv takes a second or two to start, so its own rule (``VenvLocator.get_location``:
PIPENV_VENV_IN_PROJECT, ``[pipenv] venv_in_project``, an in-project ``.venv`` folder,
else ``WORKON_HOME/<name>-<hash of the Pipfile path>``) is redone here, and gives
pipenv's answer without starting it (tests compare it with ``pipenv --venv``). In the
cases not redone (a ``.venv`` file, PIPENV_CUSTOM_VENV_NAME, PIPENV_PYTHON,
Windows/macOS file systems) pipenv is asked, and its answer is remembered on disk next
to the audit outputs, under a key made of everything that steers pipenv's choice
(project, the PIPENV_*/WORKON_HOME variables, an in-project ``.venv``), while the
venv's interpreter still exists.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from csci_utils.atomic import atomic_path
from csci_utils.one_line import last_line

from .errors import AuditError
from .interpreter import find_executable
from .pipfile import parse_pipfile

PIPENV_TIMEOUT_S = 120
STEERING_ENV_PREFIXES = ("PIPENV_", "WORKON_HOME", "XDG_DATA_HOME", "HOME")


@dataclass(frozen=True)
class PipenvVenv:
    venv: str
    python: str
    system_site_packages: bool


def find_pipenv(pipenv: str | None = None) -> str:
    """The pipenv executable: ``pipenv`` (--pipenv), else on PATH, else beside this Python."""
    beside_python = Path(sys.executable).parent / ("pipenv.exe" if os.name == "nt" else "pipenv")
    found = find_executable(pipenv) if pipenv else (
        find_executable("pipenv") or find_executable(str(beside_python)))
    if found:
        return found
    if pipenv:
        raise AuditError(f"pipenv not installed: {pipenv!r} (--pipenv) is not an executable; "
                         "pip install pipenv, or pass its path")
    raise AuditError("pipenv not installed: no `pipenv` on PATH; "
                     "pip install pipenv (it is in csci-utils[audit])")


def pipenv_environment(project_dir: Path) -> dict[str, str]:
    # An activated virtualenv (VIRTUAL_ENV) would win over the project's own;
    # the audit is about the project's venv whatever shell it runs from.
    env = {"PIPENV_VERBOSITY": "-1", "PIPENV_NOSPIN": "1", **os.environ,
           "PIPENV_IGNORE_VIRTUALENVS": "1", "PIPENV_PIPFILE": str(project_dir / "Pipfile")}
    env.pop("PIPENV_ACTIVE", None)
    return env


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def system_site_packages(venv: Path) -> bool:
    """Whether the venv sees the base interpreter's packages (pyvenv.cfg)."""
    try:
        lines = (venv / "pyvenv.cfg").read_text().splitlines()
    except OSError:
        return False
    for line in lines:
        key, _, value = line.partition("=")
        if key.strip().lower() == "include-system-site-packages":
            return value.strip().lower() == "true"
    return False


def _ask_pipenv(command: str, project_dir: Path) -> str:
    """``pipenv --venv``'s answer, or an AuditError saying why there is none."""
    try:
        completed = subprocess.run([command, "--venv"], cwd=project_dir, text=True,
                                   env=pipenv_environment(project_dir),
                                   capture_output=True, timeout=PIPENV_TIMEOUT_S)
    except OSError as error:
        raise AuditError(f"pipenv not installed: cannot run {command} ({error.strerror}); "
                         "pip install pipenv") from None
    except subprocess.TimeoutExpired:
        raise AuditError(f"`pipenv --venv` did not answer in {PIPENV_TIMEOUT_S} s "
                         f"in {project_dir}") from None
    answer = last_line(completed.stdout)
    if completed.returncode != 0 or not answer:
        text = (completed.stderr + completed.stdout).lower()
        if "no virtualenv" in text or "virtualenv does not exist" in text or not answer:
            raise AuditError(f"no venv yet for {project_dir}: run `pipenv install` there first")
        raise AuditError(f"`pipenv --venv` failed in {project_dir}: "
                         f"{last_line(completed.stderr, 'no output')}")
    return answer


# The words pipenv's env_to_bool reads (pipenv/utils/constants.py).
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})
# Settings that steer pipenv's choice in ways not redone here: pipenv is asked.
UNMIRRORED = ("PIPENV_CUSTOM_VENV_NAME", "PIPENV_PYTHON")


class NotMirrored(Exception):
    """A case of pipenv's venv rule this module does not redo: ask pipenv."""


def _env_flag(name: str) -> bool | None:
    """pipenv's ``get_from_env``: PIPENV_X, else the negated PIPENV_NO_X, else None."""
    for variable, negate in ((f"PIPENV_{name}", False), (f"PIPENV_NO_{name}", True)):
        if variable in os.environ:
            value = os.environ[variable].lower()
            if value not in TRUE_WORDS | FALSE_WORDS:
                raise NotMirrored
            return (value in TRUE_WORDS) != negate
    return None


def _workon_home() -> Path:
    workon_home = os.environ.get("WORKON_HOME")
    if workon_home and "$" in workon_home:
        raise NotMirrored
    if not workon_home:
        workon_home = str(Path(os.environ.get("XDG_DATA_HOME", "~/.local/share")) / "virtualenvs")
    return Path(workon_home).expanduser().absolute()


def pipenv_venv_name(pipfile: str) -> str:
    """pipenv's ``VenvLocator.name``: the sanitized folder name and a hash of the Pipfile path."""
    clean = re.sub(r'[ &$`!*@"()\[\]\\\r\n\t]', "_", Path(pipfile).parent.name)[0:42]
    digest = base64.urlsafe_b64encode(hashlib.sha256(pipfile.encode()).digest()[:6]).decode()
    return f"{clean}-{digest[:8]}"


def venv_by_pipenvs_rule(project_dir: Path) -> Path:
    """The venv ``pipenv --venv`` names, by pipenv's own rule (``VenvLocator.get_location``);
    NotMirrored in the cases not redone here (see the module docstring)."""
    if any(name in os.environ for name in UNMIRRORED) or os.name == "nt" \
            or sys.platform == "darwin":
        raise NotMirrored
    pipfile = os.path.abspath(project_dir / "Pipfile")  # normalize_pipfile_path
    dot_venv = Path(pipfile).parent / ".venv"
    if dot_venv.exists() and not dot_venv.is_dir():
        raise NotMirrored
    flag = _env_flag("VENV_IN_PROJECT")
    setting = parse_pipfile(Path(pipfile)).get("pipenv", {}).get("venv_in_project")
    setting = None if setting is None else bool(setting)
    in_project = flag if flag is not None else setting if setting is not None \
        else dot_venv.is_dir()
    workon = _workon_home() / pipenv_venv_name(pipfile)
    if not in_project:
        return workon
    if not flag and not setting and workon.exists():
        return workon  # an older pipenv venv wins over a .venv made by hand
    return dot_venv


def _cache_key(project_dir: Path, command: str) -> str:
    steering = {k: v for k, v in os.environ.items() if k.startswith(STEERING_ENV_PREFIXES)}
    in_project = project_dir / ".venv"
    payload = json.dumps([str(project_dir), command, sorted(steering.items()),
                          str(in_project.resolve()) if in_project.exists() else None])
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def locate_pipenv_venv(project_dir: str | os.PathLike, cache_dir: str | os.PathLike,
                       pipenv: str | None = None) -> PipenvVenv:
    """The project's venv as ``pipenv --venv`` reports it (see the module docstring), if it
    has pipenv's ``activate`` script (``virtualenv_exists``) and an interpreter."""
    project_dir = Path(project_dir).resolve()
    parse_pipfile(project_dir / "Pipfile")  # missing or malformed: said before pipenv is asked
    command = find_pipenv(pipenv)
    try:
        venv = venv_by_pipenvs_rule(project_dir)
        if not (venv / "bin" / "activate").is_file():  # bin/: the rule is never redone on Windows
            venv = None
    except NotMirrored:
        cache_file = Path(cache_dir) / f"pipenv-venv-{_cache_key(project_dir, command)}.txt"
        remembered = cache_file.read_text().strip() if cache_file.is_file() else ""
        venv = Path(remembered) if remembered else None
        if venv is None or not venv_python(venv).exists():
            venv = Path(_ask_pipenv(command, project_dir))
            if venv_python(venv).exists():
                with atomic_path(cache_file) as temporary:
                    Path(temporary).write_text(f"{venv}\n")
    if venv is None or not venv_python(venv).exists():
        raise AuditError(f"no venv yet for {project_dir}: run `pipenv install` there first")
    return PipenvVenv(str(venv), str(venv_python(venv)), system_site_packages(venv))
