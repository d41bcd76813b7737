"""CI configuration from a Pipfile (jinja2 templates) and the pinned "Travis versions".

``ci_plan`` decides what CI runs; ``render_ci`` and ``render_pins`` only turn
data into text. Secrets appear by name only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from .models import Inventory, Pipfile
from .tree import BOOTSTRAP_DISTRIBUTIONS

CI_KINDS = ("travis", "github")
# A [scripts] entry is a test job when its name is one of these or its command runs a test
# runner; any other script (a server, a deploy, a coverage upload) runs on CI only when
# listed in ci_scripts (luigi.cfg [audit] ci_scripts).
TEST_SCRIPT_NAMES = frozenset({"test", "tests", "pytest", "unittest", "check", "tox", "nox"})
TEST_RUNNERS = re.compile(r"(?:^|[\s/;&|])(?:py\.?test|tox|nox|nosetests|"
                          r"(?:python[\d.]*\s+)?-m\s+(?:pytest|unittest|nose2?))(?:\s|$)")
PINS_FILE = "requirements-ci.txt"
REGENERATE = ("luigi --module csci_utils.tasks.audit UpdateCIFile --local-scheduler "
              "--project-dir .")


@dataclass(frozen=True)
class CiJob:
    name: str
    command: str
    default_branch_only: bool


@dataclass(frozen=True)
class CiPlan:
    ci: str
    python_version: str
    install: tuple[str, ...]
    jobs: tuple[CiJob, ...]
    secrets: tuple[str, ...]
    default_branch: str
    cache_dependency_path: str  # GitHub's setup-python pipenv cache key file
    regenerate: str
    apt_packages: tuple[str, ...] = ()  # installed before anything else


def is_test_script(name: str, command: str) -> bool:
    """Whether a [scripts] entry runs the tests: by its name, or by the runner it calls."""
    return name.lower() in TEST_SCRIPT_NAMES or bool(TEST_RUNNERS.search(command))


def ci_plan(pipfile: Pipfile, venv: Inventory, *, ci: str = "travis", secrets=(),
            default_branch: str = "master", pin: bool = False, has_lock: bool = False,
            apt_packages=(), ci_scripts=()) -> CiPlan:
    """What CI should do for this Pipfile.

    The test scripts (none: ``python -m pytest``) run on every branch; the other
    ``[scripts]`` entries named in ``ci_scripts`` run on ``default_branch`` alone (a name
    the Pipfile lacks is ignored). With ``pin`` CI also installs ``PINS_FILE``;
    ``apt_packages`` are system packages (a browser for UI tests, say), installed first.
    """
    if ci not in CI_KINDS:
        raise ValueError(f"ci must be one of {CI_KINDS}, not {ci!r}")
    python_version = (pipfile.requires.get("python_full_version")
                      or pipfile.requires.get("python_version") or venv.python_version)
    install = ["pip install pipenv", "pipenv install --dev"]
    if pin:
        install.append(f"pipenv run pip install -r {PINS_FILE}")
    tests = [name for name, command in pipfile.scripts.items() if is_test_script(name, command)]
    jobs = [CiJob(name, f"pipenv run {name}", False) for name in tests] or [
        CiJob("test", "pipenv run python -m pytest", False)]
    jobs += [CiJob(name, f"pipenv run {name}", True) for name in pipfile.scripts
             if name in ci_scripts and name not in tests]
    return CiPlan(ci, python_version, tuple(install), tuple(jobs), tuple(sorted(secrets)),
                  default_branch, "Pipfile.lock" if has_lock else "Pipfile", REGENERATE,
                  tuple(apt_packages))


def _yaml_string(value: str) -> str:
    # A JSON string is a valid double-quoted YAML scalar, and unlike jinja's
    # own tojson it leaves & < > alone.
    return json.dumps(str(value))


def render_ci(plan: CiPlan) -> str:
    """The .travis.yml (or GitHub Actions workflow) text for ``plan``."""
    import jinja2  # only rendering needs it; keep `import csci_utils.audit` light

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("csci_utils.audit", "templates"),
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
        trim_blocks=True, lstrip_blocks=True, autoescape=False)
    environment.filters["yaml_string"] = _yaml_string
    return environment.get_template(f"{plan.ci}.yml.j2").render(plan=plan)


def render_pins(venv: Inventory, declared=()) -> str:
    """requirements-ci.txt: ``name==version`` for what CI's copy of the venv holds
    (``Inventory.ci_copy``); pip, setuptools and wheel only when declared. Installs from
    a folder or version control have no version to pin and become comments; a wheel
    installed from a file is pinned like any other."""
    lines = [f"# The versions installed in the Pipenv venv (Python {venv.version}), so that CI",
             "# installs exactly what works at home. Rendered by RenderTravis.", ""]
    for name, dist in sorted(venv.ci_copy(declared).items()):
        if name in BOOTSTRAP_DISTRIBUTIONS and name not in declared:
            continue
        origin = dist.direct_url or {}
        if dist.editable or "dir_info" in origin or "vcs_info" in origin:
            lines.append(f"# {dist.display_name} {dist.version}: installed from "
                         f"{'version control' if 'vcs_info' in origin else 'a folder'}, not pinned")
        else:
            lines.append(f"{dist.display_name}=={dist.version}")
    return "\n".join(lines) + "\n"
