"""The dependency audit as Luigi tasks; the work is done by ``csci_utils.audit``.

    luigi --module csci_utils.tasks.audit Diagnose --local-scheduler --project-dir DIR
    luigi --module csci_utils.tasks.audit RenderTravis --local-scheduler --project-dir DIR \\
        [--main-python PY] [--ci travis|github] [--pin]

Every output lives under ``DIR/.audit/<Task>-<fingerprint>/``. The fingerprint
hashes the task's inputs (the interpreters' site dirs, the Pipfile and its
lock, the project's sources, the parameters), so a rerun with nothing changed
finds its outputs and does no work, and any change gives fresh results next
to the old ones. Writes go through ``SuffixPreservingLocalTarget``.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import hashlib
import json
import logging
import os
import sys
from pathlib import Path

import luigi

from csci_utils.audit.diagnose import diagnose
from csci_utils.audit.env_file import secret_names
from csci_utils.audit.errors import AuditError
from csci_utils.audit.imports import LAYOUT_FILES, scan_imports
from csci_utils.audit.interpreter import (
    base_python,
    environment_fingerprint,
    inspect_interpreter,
    probe,
    resolve_python,
)
from csci_utils.audit.locate import locate
from csci_utils.audit.models import WILL_BREAK_ON_CI, Inventory, PipenvProject, from_dict, to_json
from csci_utils.audit.pipenv_venv import locate_pipenv_venv
from csci_utils.audit.pipfile import (
    parse_pipfile,
    pip_configuration_stamp,
    read_lock,
    read_pipfile,
    resolve_path_entries,
)
from csci_utils.audit.render_ci import CI_KINDS, PINS_FILE, ci_plan, render_ci, render_pins
from csci_utils.audit.render_report import render_diagnosis, render_tree_mermaid, render_tree_text
from csci_utils.audit.source_imports import project_python_file_names
from csci_utils.audit.tree import venv_tree
from csci_utils.cli import apply_default_retcodes
from csci_utils.luigi.failure import OneLineFailure
from csci_utils.luigi.target import SuffixPreservingLocalTarget

# Bump when an output's format changes, so old files are not read as new ones.
FORMAT_VERSION = "2"
UNAVAILABLE = "unavailable"
CI_FILES = {"travis": ".travis.yml", "github": ".github/workflows/ci.yml"}


def short_hash(*parts: object) -> str:
    payload = json.dumps([FORMAT_VERSION, *parts], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def read_json(target: luigi.LocalTarget, kind: type) -> object:
    """A ``kind`` (models' dataclass) from the JSON ``write_json`` wrote."""
    with target.open("r") as handle:
        return from_dict(kind, json.load(handle))


def write_text(target: luigi.LocalTarget, text: str) -> None:
    with target.open("w") as handle:
        handle.write(text)


def write_json(target: luigi.LocalTarget, data: object) -> None:
    write_text(target, to_json(data) + "\n")


class FingerprintedOutput:
    """Outputs in ``output_root / <Task>-<fingerprint>/``; complete when that folder's files are.

    The fingerprint (see the module docstring) is computed once per completeness check
    and once per run. A subclass gives ``output_root`` and ``fingerprint()``, and does its
    work in ``audit()``.
    """

    output_root: Path
    # The fingerprint while a completeness check or a run is under way (see holding_key).
    _held_key: tuple[str, AuditError | None] | None = None

    def fingerprint(self) -> str:
        """A hash of everything this task's output depends on."""
        raise NotImplementedError

    def _key(self) -> tuple[str, AuditError | None]:
        # output() must not raise (luigi would log a traceback from its
        # completeness check): a problem gives a key that never exists, and
        # run() raises it as the task's one-line failure.
        if self._held_key is not None:
            return self._held_key
        try:
            return self.fingerprint(), None
        except AuditError as error:
            return UNAVAILABLE, error

    @contextlib.contextmanager
    def holding_key(self):
        """Compute the fingerprint once for one completeness check or one run."""
        held, self._held_key = self._held_key, self._key()
        try:
            yield
        finally:
            self._held_key = held

    def target(self, file_name: str) -> SuffixPreservingLocalTarget:
        key, _ = self._key()
        return SuffixPreservingLocalTarget(str(self.output_root / f"{type(self).__name__}-{key}"
                                               / file_name))

    def complete(self) -> bool:
        """Whether this fingerprint's output exists: a query; it starts no task and writes
        nothing (the fingerprint may probe an interpreter, read-only)."""
        with self.holding_key():
            return super().complete()

    def run(self) -> None:
        with self.holding_key():
            _, error = self._key()
            if error is not None:
                raise error
            self.audit()

    def audit(self) -> None:
        raise NotImplementedError


class AuditTask(FingerprintedOutput, OneLineFailure, luigi.Task):
    """The audit's shared parameters; outputs under ``--audit-dir`` (default PROJECT/.audit)."""

    EXPECTED_ERRORS = (AuditError,)  # the user's problem: its one-line message is enough

    # A base: luigi leaves it out of its registry (so off every command line it parses);
    # the audit steps, its subclasses, are in it.
    _visible_in_registry = False

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        cls._visible_in_registry = True

    project_dir = luigi.Parameter(default=".", description="the Pipenv project to audit")
    audit_dir = luigi.Parameter(default="", description="where outputs go "
                                "(default: PROJECT_DIR/.audit)")

    @property
    def project(self) -> Path:
        return Path(self.project_dir).resolve()

    @property
    def output_root(self) -> Path:
        return Path(self.audit_dir).resolve() if self.audit_dir else self.project / ".audit"


class PipenvParameters:
    pipenv = luigi.Parameter(default="", description="the pipenv command (default: on PATH)")


class MainParameters:
    main_python = luigi.Parameter(default="", description="the MAIN interpreter (default: the "
                                  "base Python behind the current environment)")

    @property
    def main(self) -> str:
        return resolve_python(self.main_python) if self.main_python else base_python()


class ScanMain(MainParameters, AuditTask):
    """Inventory of the MAIN interpreter: where people pip-install globally."""

    def fingerprint(self) -> str:
        return short_hash(self.main, environment_fingerprint(self.main, self.output_root))

    def output(self):
        return self.target("inventory.json")

    def audit(self) -> None:
        write_json(self.output(), inspect_interpreter(self.main, self.output_root))


class ScanPipenv(PipenvParameters, AuditTask):
    """Inventory of the project's Pipenv venv, with its Pipfile and Pipfile.lock."""

    @property
    def venv(self):
        return locate_pipenv_venv(self.project, cache_dir=self.output_root,
                                  pipenv=self.pipenv or None)

    def fingerprint(self) -> str:
        pipfile = self.project / "Pipfile"
        data = parse_pipfile(pipfile)  # missing or malformed: said before pipenv is asked
        lock = self.project / "Pipfile.lock"
        venv = self.venv
        # Without [[source]] the lock's hash check depends on pip's configured indexes.
        pip_config = pip_configuration_stamp() if lock.is_file() and "source" not in data else None
        return short_hash(hashlib.sha256(pipfile.read_bytes()).hexdigest(),
                          hashlib.sha256(lock.read_bytes()).hexdigest() if lock.is_file() else None,
                          venv.venv, environment_fingerprint(venv.python, self.output_root),
                          pip_config)

    def output(self):
        return self.target("pipenv.json")

    def audit(self) -> None:
        venv = self.venv
        lock = self.project / "Pipfile.lock"
        pipfile = read_pipfile(self.project / "Pipfile", compute_hash=lock.is_file())
        inventory = inspect_interpreter(venv.python, self.output_root)
        project = PipenvProject(
            project_dir=str(self.project), venv=venv.venv,
            system_site_packages=venv.system_site_packages, inventory=inventory,
            pipfile=resolve_path_entries(pipfile, inventory, self.project),
            lock=read_lock(lock, pipfile))
        write_json(self.output(), project)


class OnBothScans(MainParameters, PipenvParameters):
    """A step on both inventories, MAIN's and the venv's."""

    def requires(self):
        return {"main": self.clone(ScanMain), "pipenv": self.clone(ScanPipenv)}

    def scans(self) -> dict[str, str]:
        """The inventories' paths, for the fingerprint. Both interpreters are probed at the
        same time first, not one after the other; problems are left to ScanMain and
        ScanPipenv to report, in their order."""
        with contextlib.suppress(AuditError):
            probe(self.main, self.clone(ScanPipenv).venv.python, cache_dir=self.output_root)
        return {name: task.output().path for name, task in self.requires().items()}


class LocatePaths(OnBothScans, AuditTask):
    """Where each distribution and module lives in MAIN and the venv; shadowing."""

    def fingerprint(self) -> str:
        return short_hash(self.scans())

    def output(self):
        return self.target("locations.json")

    def audit(self) -> None:
        inputs = self.input()
        write_json(self.output(), locate(read_json(inputs["main"], Inventory),
                                         read_json(inputs["pipenv"], PipenvProject).inventory))


class BuildTree(PipenvParameters, AuditTask):
    """The venv's dependency tree (pipdeptree), as JSON, text and mermaid."""

    def requires(self):
        return self.clone(ScanPipenv)

    def fingerprint(self) -> str:
        return short_hash(self.requires().output().path)

    def output(self):
        return {"json": self.target("tree.json"), "text": self.target("tree.txt"),
                "mermaid": self.target("tree.mmd")}

    def audit(self) -> None:
        project = read_json(self.input(), PipenvProject)
        tree = venv_tree(project.inventory, project.pipfile)
        outputs = self.output()
        write_text(outputs["text"], render_tree_text(tree))
        write_text(outputs["mermaid"], render_tree_mermaid(tree))
        write_json(outputs["json"], tree)  # last: the completeness check looks at all three


class RenderParameters(PipenvParameters):
    ci = luigi.ChoiceParameter(choices=CI_KINDS, default="travis",
                               description="travis (.travis.yml) or github (Actions workflow)")
    pin = luigi.BoolParameter(default=False, description=f"make CI install {PINS_FILE} too")
    default_branch = luigi.Parameter(default="master", description="where the non-test "
                                     "[scripts] jobs run")
    secrets = luigi.ListParameter(default=(), description="more secret variable names "
                                  "(the .env file's names are always included)")
    # Also read from luigi.cfg [audit] apt_packages, so that RenderTravis,
    # UpdateCIFile and the dogfood test all render the same file.
    apt_packages = luigi.ListParameter(
        default=(), config_path={"section": "audit", "name": "apt_packages"},
        description="system packages CI installs first (apt names, e.g. a browser for UI tests)")
    ci_scripts = luigi.ListParameter(
        default=(), config_path={"section": "audit", "name": "ci_scripts"},
        description="[scripts] entries other than the tests that CI runs (default branch only)")


class RenderTravis(RenderParameters, AuditTask):
    """A CI configuration rendered from the Pipfile, and the venv's pinned versions."""

    def requires(self):
        return self.clone(ScanPipenv)

    def _secret_names(self) -> list[str]:
        return sorted({*secret_names(self.project), *self.secrets})

    def fingerprint(self) -> str:
        return short_hash(self.requires().output().path, self.ci, self.pin, self.default_branch,
                          self._secret_names(), list(self.apt_packages), list(self.ci_scripts))

    def output(self):
        return {"ci": self.target(Path(CI_FILES[self.ci]).name), "pins": self.target(PINS_FILE)}

    def audit(self) -> None:
        project = read_json(self.input(), PipenvProject)
        plan = ci_plan(project.pipfile, project.inventory, ci=self.ci,
                       secrets=self._secret_names(), default_branch=self.default_branch,
                       pin=self.pin, has_lock=project.lock is not None,
                       apt_packages=self.apt_packages, ci_scripts=self.ci_scripts)
        outputs = self.output()
        write_text(outputs["pins"], render_pins(project.inventory, project.pipfile.declared()))
        write_text(outputs["ci"], render_ci(plan))


class UpdateCIFile(RenderParameters, AuditTask):
    """Copy RenderTravis's output into the project (.travis.yml or .github/workflows/ci.yml)."""

    def requires(self):
        return self.clone(RenderTravis)

    def output(self):  # the project's own file: no fingerprint, complete when it is current
        return SuffixPreservingLocalTarget(str(self.project / CI_FILES[self.ci]))

    def complete(self) -> bool:
        rendered = self.requires()
        if not rendered.complete() or not self.output().exists():
            return False
        return Path(self.output().path).read_bytes() == \
            Path(rendered.output()["ci"].path).read_bytes()

    def run(self) -> None:
        with self.input()["ci"].open("r") as handle:
            write_text(self.output(), handle.read())


class Diagnose(OnBothScans, AuditTask):
    """What will break on CI, and why: the summary on stdout, the details as JSON."""

    strict = luigi.BoolParameter(default=False, description="fail when anything will break on CI")

    def _sources(self) -> list:
        root = len(os.path.join(str(self.project), ""))  # the files' common prefix, cut as text
        layout = [str(self.project / name) for name in LAYOUT_FILES
                  if (self.project / name).is_file()]
        return [(path[root:].replace(os.sep, "/"), stat.st_size, stat.st_mtime_ns)
                for path in [*project_python_file_names(self.project), *layout]
                for stat in [os.stat(path)]]

    def fingerprint(self) -> str:
        return short_hash(self.scans(), self._sources(), self.strict)

    def output(self):
        return {"json": self.target("diagnosis.json"), "text": self.target("diagnosis.txt")}

    def audit(self) -> None:
        main = read_json(self.input()["main"], Inventory)
        project = read_json(self.input()["pipenv"], PipenvProject)
        sites = scan_imports(self.project, frozenset(project.inventory.stdlib_modules))
        diagnosis = diagnose(main, project, sites)
        summary = render_diagnosis(diagnosis)
        print(summary, end="")
        breaking = diagnosis.of(WILL_BREAK_ON_CI)
        if self.strict and breaking:
            # No output: a rerun must fail again until the Pipfile is fixed.
            raise AuditError(f"{len(breaking)} import(s) will break on CI: "
                             f"{', '.join(f.name for f in breaking)}; add them to the Pipfile "
                             f"({self.project / 'Pipfile'})")
        outputs = self.output()
        write_text(outputs["text"], summary)
        write_json(outputs["json"], diagnosis)


@Diagnose.event_handler(luigi.Event.DEPENDENCY_PRESENT)
def _print_stored_summary(task: Diagnose) -> None:
    """A warm Diagnose runs nothing; it still prints its summary, the one stored with it."""
    if isinstance(task, Diagnose):
        with task.output()["text"].open("r") as handle:
            print(handle.read(), end="")


class AuditAll(MainParameters, PipenvParameters, luigi.WrapperTask):
    """Every audit output at once: Diagnose, LocatePaths, BuildTree and RenderTravis."""

    project_dir = AuditTask.project_dir
    audit_dir = AuditTask.audit_dir

    def requires(self):
        return [self.clone(Diagnose), self.clone(LocatePaths), self.clone(BuildTree),
                self.clone(RenderTravis)]


# --- the `luigi` command line -------------------------------------------------------------
# These tasks are usually run as `luigi --module csci_utils.tasks.audit ...` from some
# other project's folder, where this repo's luigi.cfg is not read. There, importing this
# module is the only entry point: setup_luigi_command_line() makes that command behave
# like our other CLIs (leaving explicit settings alone). Any other import changes nothing.

# The [retcode] options the `luigi` command gets by default (luigi's own default is 0).
LUIGI_CLI_RETCODES = ("task_failed", "scheduling_error", "missing_data", "unhandled_exception")


def _no_traceback_for_audit_errors(record: logging.LogRecord) -> bool:
    """AuditError is the user's problem, not ours: its message is enough."""
    if record.exc_info and isinstance(record.exc_info[1], AuditError):
        record.exc_info, record.exc_text = None, None
    return True


def quiet_audit_errors() -> None:
    """Log an AuditError without its traceback (once: addFilter skips one it already has)."""
    logging.getLogger("luigi-interface").addFilter(_no_traceback_for_audit_errors)


def _print_audit_error(task: AuditTask, exception: BaseException) -> None:
    if isinstance(exception, AuditError):
        print(f"audit: error: {exception}", file=sys.stderr)


def setup_luigi_command_line() -> None:
    """[retcode] defaults, quiet AuditErrors and one ``audit: error:`` line per failure.

    And ``gc.freeze`` at exit, as ``python -m csci_utils.audit`` does: the process ends
    there, and Python's last collection would walk every object the run made (measured,
    cold: 1.18x the wall time of ``python -m csci_utils.audit`` without it, 0.99x with it).
    """
    atexit.register(gc.freeze)
    apply_default_retcodes(LUIGI_CLI_RETCODES)
    quiet_audit_errors()
    AuditTask.event_handler(luigi.Event.FAILURE)(_print_audit_error)  # a set: added once


if os.path.basename(sys.argv[0]) == "luigi":  # imported by `luigi --module ...`
    setup_luigi_command_line()
