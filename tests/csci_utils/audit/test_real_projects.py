"""Defects found by running the audit on real projects (issue 16), each on a real environment.

Venvs come from pyenv's Pythons or this interpreter (``venv``), packages from wheels written
here and installed by pip; nothing touches the network.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import luigi
import pytest
from luigi.execution_summary import LuigiStatusCode

from csci_utils.audit.interpreter import environment_fingerprint
from csci_utils.audit.models import DependencyTree, from_dict
from csci_utils.tasks.audit import BuildTree, Diagnose, RenderTravis, ScanMain, ScanPipenv

from .conftest import HOME_ONLY, build_wheel, create_project, dedent, make_venv, pip_install

PYENV = Path("/root/.pyenv/versions")
LUIGI = str(Path(sys.executable).parent / "luigi")


def pyenv_python(minor: str) -> Path:
    found = sorted(PYENV.glob(f"{minor}.*/bin/python{minor}"))
    if not found:
        pytest.skip(f"no pyenv Python {minor} on this machine")
    return found[-1]


def old_venv(minor: str, path: Path) -> Path:
    subprocess.run([str(pyenv_python(minor)), "-m", "venv", "--without-pip", str(path)],
                   check=True)
    return path / "bin" / "python"


def build(*tasks: luigi.Task) -> None:
    result = luigi.build(list(tasks), local_scheduler=True, detailed_summary=True,
                         log_level="WARNING")
    assert result.status == LuigiStatusCode.SUCCESS, result.summary_text


def read_json(target) -> dict:
    return json.loads(Path(target.path).read_text())


def run_diagnose(project_dir: Path, main_python: Path, audit_dir: Path, **extra) -> dict:
    task = Diagnose(project_dir=str(project_dir), main_python=str(main_python),
                    audit_dir=str(audit_dir), **extra)
    build(task)
    return read_json(task.output()["json"])


def audit_cli(*args, **options) -> subprocess.CompletedProcess:
    """``python -m csci_utils.audit ARGS``, its output captured."""
    return subprocess.run([sys.executable, "-m", "csci_utils.audit", *map(str, args)],
                          capture_output=True, text=True, timeout=180, **options)


def wheel(tmp_path: Path, name: str, version: str, files: dict[str, str]) -> Path:
    out = tmp_path / "wheels"
    out.mkdir(exist_ok=True)
    return build_wheel(out, name, version, files)


def one_error_line(completed: subprocess.CompletedProcess) -> str:
    """The one ``audit: error:`` line a failure prints, exit 30, no traceback."""
    lines = [line for line in completed.stderr.splitlines() if line.strip()]
    assert completed.returncode == 30, completed.stderr[-2000:]
    assert len(lines) == 1 and lines[0].startswith("audit: error:"), completed.stderr[-2000:]
    return lines[0]


def by_category(diagnosis: dict) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for finding in diagnosis["findings"]:
        found.setdefault(finding["category"], []).append(finding["name"])
    return found


STDLIB_IMPORTS = dedent("""
    import asyncio
    import json
    import sqlite3
    import typing
    from collections import OrderedDict
    from distutils import version
    import zlib, _ssl, xml.etree.ElementTree
""")


# --- 1: the standard library on Pythons without sys.stdlib_module_names ------------------------

@pytest.mark.parametrize("minor", ["3.7", "3.8", "3.9"])
def test_stdlib_imports_are_not_findings_on_old_pythons(minor, tmp_path):
    project = tmp_path / "proj"
    project.mkdir()
    (project / "Pipfile").write_text(f'[packages]\n\n[requires]\npython_version = "{minor}"\n')
    (project / "tool.py").write_text(STDLIB_IMPORTS)
    python = old_venv(minor, project / ".venv")
    diagnosis = run_diagnose(project, python, tmp_path / "audit")
    assert diagnosis["findings"] == []


# --- a module in syntax newer than the auditor's Python -----------------------------------------

def test_a_module_in_newer_syntax_than_the_auditors_still_counts(main_python, tmp_path):
    """A Python 3.12 project's module with PEP 695 syntax, which the auditor's Python (3.11)
    cannot parse as a whole: its imports still count. Before, the whole file was skipped and
    the break went unseen."""
    project = tmp_path / "proj"
    project.mkdir()
    (project / "Pipfile").write_text('[packages]\n\n[requires]\npython_version = "3.12"\n')
    (project / "vectors.py").write_text(dedent(f"""
        import {HOME_ONLY}

        type Vector = list[float]


        class Norm[T]:
            def of(self, vector: Vector) -> float:
                return sum(x * x for x in vector) ** 0.5


        def greet():
            from {HOME_ONLY} import GREETING
            return GREETING
    """))
    old_venv("3.12", project / ".venv")
    diagnosis = run_diagnose(project, main_python, tmp_path / "audit")
    assert by_category(diagnosis) == {"will break on CI": [HOME_ONLY]}
    [finding] = diagnosis["findings"]
    assert finding["where"] == ["vectors.py:1", "vectors.py:12"]


# --- 13: the audited project's code never runs ------------------------------------------------

HOSTILE_NAMES = ("json", "tomllib", "pipdeptree", "sitecustomize", "setup", "conftest",
                 "re", "site", "usercustomize")


def plant_hostile_files(folder: Path, markers: Path) -> None:
    for name in HOSTILE_NAMES:
        (folder / f"{name}.py").write_text(
            f"open({str(markers / name)!r}, 'w').close()\nraise SystemExit('{name}.py ran')\n")


@pytest.mark.parametrize("command", ["python -m csci_utils.audit", "luigi"])
def test_project_files_named_like_modules_never_run(wheels, main_python, tmp_path, command):
    project = create_project(tmp_path / "proj", wheels)
    markers = tmp_path / "markers"
    markers.mkdir()
    plant_hostile_files(project.dir, markers)
    common = ["--project-dir", ".", "--main-python", str(main_python)]
    if command == "luigi":
        completed = subprocess.run([LUIGI, "--module", "csci_utils.tasks.audit", "AuditAll",
                                    "--local-scheduler", *common], cwd=project.dir,
                                   capture_output=True, text=True, timeout=180)
    else:
        completed = audit_cli(*common, cwd=project.dir)
    assert sorted(path.name for path in markers.iterdir()) == []
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert HOME_ONLY in completed.stdout  # the audit did its job


# --- 14: bad Pipfiles are one line naming the file ---------------------------------------------

@pytest.mark.parametrize("case", ["not UTF-8", "a directory", "deeply nested"])
def test_bad_pipfiles_are_one_line_naming_the_file(case, tmp_path, main_python):
    project = tmp_path / "proj"
    project.mkdir()
    pipfile = project / "Pipfile"
    if case == "not UTF-8":
        pipfile.write_bytes(b'[packages]\nshared = "\xff\xfe"\n')
    elif case == "a directory":
        pipfile.mkdir()
    else:
        pipfile.write_text("[packages]\nx = " + "[" * 5000 + "]" * 5000 + "\n")
    completed = audit_cli("--project-dir", project, "--main-python", main_python)
    assert str(pipfile) in one_error_line(completed)


def test_a_top_level_value_that_is_no_table_is_one_line_naming_it(wheels, main_python,
                                                                   tmp_path):
    """pipenv reads every top-level key but [[source]] as a table: ``foo = 5`` crashed the
    lock's hash with a traceback (AttributeError) once a Pipfile.lock existed."""
    project = create_project(tmp_path / "proj", wheels)
    project.pipfile.write_text("foo = 5\n" + project.pipfile.read_text())
    (project.dir / "Pipfile.lock").write_text(
        '{"_meta": {"hash": {"sha256": "0"}, "requires": {}, "sources": []},'
        ' "default": {}, "develop": {}}')
    line = one_error_line(audit_cli("--project-dir", project.dir, "--main-python", main_python))
    assert str(project.pipfile) in line and "[foo] must be a table" in line


# --- 12: a fingerprint never depends on the audit's own outputs --------------------------------

def test_audit_folder_in_a_project_on_sys_path_changes_no_fingerprint(wheels, main_python,
                                                                      tmp_path, monkeypatch):
    project = create_project(tmp_path / "proj", wheels)
    # `setup.py develop`: the project folder on the venv's path, its egg-info in it.
    egg_info = project.dir / "proj.egg-info"
    egg_info.mkdir()
    (egg_info / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: proj\nVersion: 0.1\n")
    (egg_info / "top_level.txt").write_text("app\n")
    site_packages = next((project.dir / ".venv" / "lib").glob("python*/site-packages"))
    (site_packages / "proj.pth").write_text(f"{project.dir}\n")
    monkeypatch.setenv("PIPENV_VENV_IN_PROJECT", "1")

    before = environment_fingerprint(str(project.python))
    (project.dir / ".audit").mkdir()
    assert environment_fingerprint(str(project.python)) == before
    (egg_info / "requires.txt").write_text("needed\n")  # metadata does count
    assert environment_fingerprint(str(project.python)) != before

    for number in range(3):  # the crash came about 8 runs in 10
        diagnosis = run_diagnose(project.dir, main_python, project.dir / ".audit" / str(number))
        assert HOME_ONLY in by_category(diagnosis)["will break on CI"]


# --- 11: a warm Diagnose prints the stored summary; pip's configuration is in the fingerprint ---

def test_warm_diagnose_prints_the_stored_summary(project, main_python, tmp_path, capsys):
    run_diagnose(project.dir, main_python, tmp_path)
    cold = capsys.readouterr().out
    assert "WILL BREAK ON CI (1):" in cold
    run_diagnose(project.dir, main_python, tmp_path)
    assert capsys.readouterr().out == cold
    completed = audit_cli("Diagnose", "--project-dir", project.dir, "--main-python", main_python,
                          "--audit-dir", tmp_path)
    assert completed.returncode == 0 and completed.stdout == cold


def test_pip_configuration_is_in_the_lock_verdicts_fingerprint(project, tmp_path, monkeypatch):
    # A Pipfile without [[source]] is hashed with pip's configured indexes.
    own = tmp_path / "proj"
    own.mkdir()
    (own / "Pipfile").write_text(project.pipfile.read_text())
    (own / "Pipfile.lock").write_text('{"_meta": {"hash": {"sha256": "x"}}, "default": {}}')
    (own / ".venv").symlink_to(project.dir / ".venv")
    pip_conf = tmp_path / "pip.conf"
    pip_conf.write_text("[global]\nindex-url = http://127.0.0.1:1/simple\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", str(pip_conf))
    monkeypatch.setenv("PIPENV_VENV_IN_PROJECT", "1")
    first = ScanPipenv(project_dir=str(own), audit_dir=str(tmp_path / "a")).output().path
    pip_conf.write_text("[global]\nindex-url = http://127.0.0.1:2/simple\n")
    second = ScanPipenv(project_dir=str(own), audit_dir=str(tmp_path / "a")).output().path
    assert "unavailable" not in first and first != second


# --- 9: which [scripts] become CI jobs ---------------------------------------------------------

def test_only_test_scripts_run_on_ci_unless_opted_in(wheels, tmp_path):
    import yaml

    project = create_project(tmp_path / "proj", wheels)
    project.pipfile.write_text(project.pipfile.read_text().replace(
        'test = "python -m pytest -q"\n',
        'tests = "pytest -x"\ncheck_units = "python -m unittest discover"\n'
        'start = "gunicorn app:server"\npush = "docker push me/app"\ncov = "coveralls"\n'))

    def jobs(**extra) -> dict[str, str | None]:
        task = RenderTravis(project_dir=str(project.dir), audit_dir=str(tmp_path / "a"), **extra)
        build(task)
        travis = yaml.safe_load(Path(task.output()["ci"].path).read_text())
        return {job["name"]: job.get("if") for job in travis["jobs"]["include"]}

    assert jobs() == {"tests": None, "check_units": None}
    assert jobs(ci_scripts=["cov"]) == {"tests": None, "check_units": None,
                                        "cov": "branch = master AND type != pull_request"}


# --- 5 and 8: Pipfile entries read as pipenv reads them; remedies for local packages -----------

def site_packages(python: Path) -> Path:
    return next((python.parent.parent / "lib").glob("python*/site-packages"))


def install_editable_as_pip_does(python: Path, name: str, source: Path) -> None:
    """A PEP 660 editable install: dist-info with direct_url.json, and a .pth to the source."""
    site = site_packages(python)
    dist_info = site / f"{name}-0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (dist_info / "INSTALLER").write_text("pip\n")
    (dist_info / "direct_url.json").write_text(json.dumps(
        {"url": source.as_uri(), "dir_info": {"editable": True}}))
    pth = f"__editable__.{name}-0.1.pth"
    (site / pth).write_text(f"{source}\n")
    (dist_info / "RECORD").write_text(f"{pth},,\n{dist_info.name}/METADATA,,\n")


def install_egg_link(python: Path, name: str, source: Path) -> None:
    """`setup.py develop`: an .egg-link and easy-install.pth; the egg-info beside the code."""
    site = site_packages(python)
    (site / f"{name}.egg-link").write_text(f"{source}\n.\n")
    (site / "easy-install.pth").write_text(f"{source}\n")
    egg_info = source / f"{name}.egg-info"
    egg_info.mkdir()
    (egg_info / "PKG-INFO").write_text(f"Metadata-Version: 1.1\nName: {name}\nVersion: 0.1\n")
    (egg_info / "top_level.txt").write_text(f"{name}\n")


def test_pipfile_extras_markers_aliases_and_egg_links_are_not_findings(wheels, tmp_path):
    project = create_project(tmp_path / "proj", wheels)
    for lib in ("homelib", "eggy"):
        (project.dir / lib / lib).mkdir(parents=True)
        (project.dir / lib / lib / "__init__.py").write_text("")
    install_editable_as_pip_does(project.python, "homelib", project.dir / "homelib")
    install_egg_link(project.python, "eggy", project.dir / "eggy")
    project.pipfile.write_text(project.pipfile.read_text().replace('[packages]\nshared = "*"\n', (
        '[packages]\n"shared[fast]" = "*"\n'
        "winonly = {version = \"*\", sys_platform = \"== 'win32'\"}\n"
        "armonly = {version = \"*\", platform_machine = \"== 'armv7l'\", os_name = \"== 'nt'\"}\n"
        'e1839a8 = {path = "./homelib", editable = true}\n'
        'eggs1 = {path = "./eggy", editable = true}\n')))
    (project.dir / "app" / "extra.py").write_text("import homelib\nimport eggy\n")
    main_python = make_venv(tmp_path / "main")
    diagnosis = run_diagnose(project.dir, main_python, tmp_path / "a")
    assert by_category(diagnosis) == {"imported but installed nowhere": [HOME_ONLY]}

    task = BuildTree(project_dir=str(project.dir), audit_dir=str(tmp_path / "a"))
    build(task)
    tree = from_dict(DependencyTree, read_json(task.output()["json"]))
    assert "homelib" in tree.declared_roots and "eggy" in tree.declared_roots
    assert tree.undeclared_roots == ()


@contextlib.contextmanager
def local_index(folder: Path, *wheels: Path):
    """A PEP 503 index of ``wheels`` in ``folder``, served over HTTP on 127.0.0.1; its URL."""
    for wheel in wheels:
        project = folder / wheel.name.split("-")[0].replace("_", "-").lower()
        project.mkdir(parents=True)
        shutil.copy(wheel, project)
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        (project / "index.html").write_text(f'<a href="{wheel.name}#sha256={digest}">'
                                            f"{wheel.name}</a>\n")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/"
        finally:
            server.shutdown()


# A build backend of its own: pip builds the package with nothing from an index.
IN_TREE_BACKEND = """\
import os, zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
DIST = "homelib-0.1.dist-info"


def _wheel(directory, files):
    files = {**files, DIST + "/METADATA": "Metadata-Version: 2.1\\nName: homelib\\nVersion: 0.1\\n",
             DIST + "/WHEEL": "Wheel-Version: 1.0\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"}
    name = "homelib-0.1-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(directory, name), "w") as wheel:
        for path, text in files.items():
            wheel.writestr(path, text)
        wheel.writestr(DIST + "/RECORD", "".join(p + ",,\\n" for p in [*files, DIST + "/RECORD"]))
    return name


def build_wheel(directory, config_settings=None, metadata_directory=None):
    return _wheel(directory, {"homelib/__init__.py": ""})


def build_editable(directory, config_settings=None, metadata_directory=None):
    return _wheel(directory, {"homelib.pth": HERE + "\\n"})
"""


def test_every_printed_remedy_run_as_printed_clears_its_finding(wheels, tmp_path):
    """A package installed at home and a local editable one: each remedy the audit prints is
    run as printed (pipenv from a local index on 127.0.0.1, named by PIPENV_PYPI_MIRROR
    only), and then the audit passes --strict with nothing found."""
    source = tmp_path / "homelib"
    (source / "homelib").mkdir(parents=True)
    (source / "homelib" / "__init__.py").write_text("")
    (source / "build_backend.py").write_text(IN_TREE_BACKEND)
    (source / "pyproject.toml").write_text(
        '[project]\nname = "homelib"\nversion = "0.1"\n\n[build-system]\nrequires = []\n'
        'build-backend = "build_backend"\nbackend-path = ["."]\n')
    main_python = make_venv(tmp_path / "main")
    pip_install(main_python, wheels.home_only)
    install_editable_as_pip_does(main_python, "homelib", source)
    project = tmp_path / "proj"
    (project / "app").mkdir(parents=True)
    (project / "app" / "__init__.py").write_text(f"import {HOME_ONLY}\nimport homelib\n")
    (project / "Pipfile").write_text('[packages]\n\n[requires]\npython_version = '
                                     f'"{sys.version_info[0]}.{sys.version_info[1]}"\n')
    make_venv(project / ".venv")
    audit = ["Diagnose", "--strict", "--project-dir", project, "--main-python", main_python]
    before = audit_cli(*audit)
    assert before.returncode == 30, before.stderr[-2000:]
    remedies = re.findall(r"(pipenv install [^\[\n]+?)(?: \[|$)", before.stdout, re.M)
    assert sorted(remedies) == ["pipenv install -e ../homelib", f"pipenv install {HOME_ONLY}"]

    with local_index(tmp_path / "index", wheels.home_only) as url:
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}"
               f"{os.environ['PATH']}", "PIPENV_PYPI_MIRROR": url, "PIP_CONFIG_FILE": os.devnull,
               "PIPENV_IGNORE_VIRTUALENVS": "1", "PIPENV_NOSPIN": "1"}
        for remedy in remedies:
            fixed = subprocess.run(remedy, shell=True, cwd=project, env=env,
                                   capture_output=True, text=True, timeout=300)
            assert fixed.returncode == 0, fixed.stderr[-3000:]
    after = audit_cli(*audit)
    assert after.returncode == 0, after.stdout + after.stderr[-2000:]
    assert "nothing found" in after.stdout, after.stdout


@pytest.mark.parametrize("entry, named", [
    ("requests = 5", "[packages] requests"),
    ('bad = ">=<1"', "[packages] bad"),
    ("m = {version = \"*\", markers = \"python_version >> '3'\"}", "[packages] m"),
    ("w = {version = \"*\", sys_platform = \"linux\"}", "[packages] w"),
])
def test_entries_pipenv_rejects_are_one_line_errors_naming_them(entry, named, project, tmp_path,
                                                                 main_python):
    own = tmp_path / "proj"
    own.mkdir()
    (own / "Pipfile").write_text(f"[packages]\n{entry}\n")
    (own / ".venv").symlink_to(project.dir / ".venv")
    completed = audit_cli("ScanPipenv", "--project-dir", own,
                          env={**os.environ, "PIPENV_VENV_IN_PROJECT": "1"})
    assert f"{own / 'Pipfile'} {named}" in one_error_line(completed)


# --- 2: namespace packages resolve to the distribution of the longest module path -------------

def test_namespace_portions_resolve_to_their_own_distribution(tmp_path):
    protobuf = wheel(tmp_path, "protobuf", "4.0", {
        "google/protobuf/__init__.py": "", "protobuf-4.0.dist-info/top_level.txt": "google\n"})
    auth = wheel(tmp_path, "google_auth", "2.0", {"google/auth/__init__.py": ""})
    interface = wheel(tmp_path, "zope.interface", "6.0", {"zope/interface/__init__.py": ""})
    event = wheel(tmp_path, "zope.event", "5.0", {"zope/event/__init__.py": ""})
    main_python = make_venv(tmp_path / "main")
    pip_install(main_python, protobuf, auth, interface, event)
    project = tmp_path / "proj"
    (project / "app").mkdir(parents=True)
    (project / "app" / "__init__.py").write_text(
        "import google.protobuf\nimport google.auth\nfrom zope import interface\n"
        "import zope.event\n")
    (project / "Pipfile").write_text('[packages]\ngoogle-auth = "*"\nzope-event = "*"\n')
    python = make_venv(project / ".venv")
    pip_install(python, auth, event)
    diagnosis = run_diagnose(project, main_python, tmp_path / "a")
    found = {f["name"]: f for f in diagnosis["findings"]}
    assert sorted(found) == ["google.protobuf", "zope.interface"]
    assert found["google.protobuf"]["distribution"] == "protobuf"
    assert found["google.protobuf"]["detail"].endswith("pipenv install protobuf")
    assert found["zope.interface"]["distribution"] == "zope-interface"


# --- 3: first-party is what Python imports from the project on CI -----------------------------

def test_first_party_is_import_roots_and_declared_layout(tmp_path):
    six = wheel(tmp_path, "six", "1.16.0", {"six.py": ""})
    main_python = make_venv(tmp_path / "main")
    pip_install(main_python, six)
    project = tmp_path / "proj"
    for folder in ("scripts", "src/mypkg", "nsroot/part", "lib/declared"):
        (project / folder).mkdir(parents=True)
    (project / "scripts" / "six.py").write_text("")  # a loose copy: not what CI imports
    (project / "scripts" / "tool.py").write_text("import six as sibling\n")  # its sibling is
    (project / "src" / "mypkg" / "__init__.py").write_text("")
    (project / "nsroot" / "part" / "mod.py").write_text("")  # PEP 420 at the project root
    (project / "lib" / "declared" / "__init__.py").write_text("")
    (project / "setup.py").write_text(
        "from setuptools import setup\nsetup(name='x', packages=['declared'], "
        "package_dir={'declared': 'lib/declared'})\n")
    (project / "tests").mkdir()
    (project / "tests" / "test_it.py").write_text(
        "import six\nimport mypkg\nimport nsroot.part.mod\nimport declared\n")
    (project / "Pipfile").write_text("[packages]\n")
    make_venv(project / ".venv")
    diagnosis = run_diagnose(project, main_python, tmp_path / "a")
    assert [(f["name"], f["category"], f["where"]) for f in diagnosis["findings"]] == [
        ("six", "will break on CI", ["tests/test_it.py:1"])]


def test_pytest_and_sys_path_changes_make_project_folders_importable(main_python, tmp_path):
    """pytest puts folders on sys.path (each test file's first folder up without an
    __init__.py; its ``pythonpath`` setting), so tests import their helpers by bare name;
    the audit called those "installed nowhere" (47 times on this repo). A script that edits
    sys.path itself, or a test under a conftest.py that does, gets a note where it imports a
    name some project folder holds; app code importing a test helper is still a finding.
    The pytest settings are part of Diagnose's fingerprint."""
    project = tmp_path / "proj"
    for name, text in {
        "tests/conftest.py": "",
        "tests/helpers.py": "",
        "tests/unit/test_a.py": "import helpers\n",
        "tests/pkg/__init__.py": "",
        "tests/pkg/test_b.py": "import helpers\nimport toolhelp\n",
        "tests/support/util.py": "from helpers import a, b\n",
        "tools/toolhelp.py": "",
        "bench/run.py": "import sys\nsys.path.insert(0, 'tests')\nimport helpers\n",
        "app/main.py": "import helpers\n",
        # pytest runs a conftest.py first: its sys.path change reaches the tests below it.
        "tests/apps/conftest.py": "def apps(monkeypatch):\n    monkeypatch.syspath_prepend('d')\n",
        "tests/apps/test_c.py": "import myapp\n",
        "tests/apps/d/myapp/__init__.py": "",
    }.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    (project / "Pipfile").write_text("[packages]\n")
    make_venv(project / ".venv")

    def verdicts():
        diagnosis = run_diagnose(project, main_python, tmp_path / "a")
        return ({f["name"]: f["where"] for f in diagnosis["findings"]
                 if f["category"] == "imported but installed nowhere"},
                [note for note in diagnosis["notes"] if "sys.path" in note])

    found, notes = verdicts()
    assert found == {"helpers": ["app/main.py:1"], "toolhelp": ["tests/pkg/test_b.py:2"]}
    assert notes == [
        "`import helpers` is the project's own tests/helpers.py, found through a sys.path "
        "change (in the importing file or a conftest.py above it) [bench/run.py:3]",
        "`import myapp` is the project's own tests/apps/d/myapp, found through a sys.path "
        "change (in the importing file or a conftest.py above it) [tests/apps/test_c.py:1]"]

    (project / "pyproject.toml").write_text('[tool.pytest.ini_options]\npythonpath = ["tools"]\n')
    assert verdicts()[0] == {"helpers": ["app/main.py:1"]}

    # pytest.ini wins over pyproject.toml; its importlib mode adds no folder.
    (project / "pytest.ini").write_text("[pytest]\naddopts = -q --import-mode=importlib\n")
    assert verdicts()[0] == {
        "helpers": ["app/main.py:1", "tests/pkg/test_b.py:1", "tests/support/util.py:1",
                    "tests/unit/test_a.py:1"],
        "toolhelp": ["tests/pkg/test_b.py:2"]}
    assert len(verdicts()[1]) == 2  # the sys.path changes still reach their own files

    # A conftest.py at the top reaches what pytest runs, never the app's code.
    (project / "conftest.py").write_text("import sys\nsys.path.append('tests')\n")
    assert verdicts()[0] == {"helpers": ["app/main.py:1", "tests/support/util.py:1"]}


# --- 4: imports that never run on the target are notes ----------------------------------------

def test_type_checking_and_dead_branches_are_notes_not_breaks(wheels, main_python, tmp_path):
    project = create_project(tmp_path / "proj", wheels)
    (project.dir / "app" / "main.py").write_text(dedent(f"""
        import sys
        from typing import TYPE_CHECKING
        if TYPE_CHECKING:
            import {HOME_ONLY}
        if sys.version_info < (3, 0):
            from {HOME_ONLY} import GREETING
        elif sys.platform == "win32":
            import {HOME_ONLY}.win
        else:
            pass
        try:
            import optional_accelerator
        except ImportError:
            optional_accelerator = None
        import typing
        if typing.TYPE_CHECKING:
            import {HOME_ONLY}
    """))
    diagnosis = run_diagnose(project.dir, main_python, tmp_path / "a", strict=True)
    assert "will break on CI" not in by_category(diagnosis)
    [note] = [n for n in diagnosis["notes"] if HOME_ONLY in n]
    # Said once, though two spellings of TYPE_CHECKING guard it.
    assert note.count("only for type checking") == 1 and "sys.version_info < (3, 0)" in note
    assert "sys.platform == 'win32'" in note and "app/main.py:4, app/main.py:6" in note

    (project.dir / "app" / "main.py").write_text(dedent(f"""
        import sys
        if sys.version_info >= (3, 0):
            import {HOME_ONLY}
    """))
    diagnosis = run_diagnose(project.dir, main_python, tmp_path / "b")
    assert by_category(diagnosis)["will break on CI"] == [HOME_ONLY]


# --- 6: a package hand-installed into the venv will be missing on CI --------------------------

@pytest.mark.parametrize("with_lock", [False, True])
def test_hand_installed_undeclared_venv_package_will_break(wheels, main_python, tmp_path,
                                                           with_lock):
    handmade = wheel(tmp_path, "handmade", "1.0", {"handmade.py": ""})
    project = create_project(tmp_path / "proj", wheels)
    pip_install(project.python, handmade)
    (project.dir / "app" / "extra.py").write_text("import handmade\nimport needed\n")
    if with_lock:
        (project.dir / "Pipfile.lock").write_text(json.dumps(
            {"_meta": {"hash": {"sha256": "x"}}, "default": {
                "shared": {"version": "==2.0"}, "needed": {"version": "==1.0"}}}))
    diagnosis = run_diagnose(project.dir, main_python, tmp_path / "a")
    [finding] = [f for f in diagnosis["findings"] if f["name"] == "handmade"]
    assert finding["category"] == "will break on CI"
    assert "by hand" in finding["detail"] and finding["detail"].endswith("pipenv install handmade")
    # needed is required by the declared shared 2.0 (or locked): CI has it.
    assert "needed" not in by_category(diagnosis).get("will break on CI", [])


# --- 7: a declared package the lock's marker excludes ----------------------------------------

def test_declared_package_excluded_by_the_lock_marker_says_so(wheels, main_python, tmp_path):
    project = create_project(tmp_path / "proj", wheels)
    project.pipfile.write_text(project.pipfile.read_text().replace(
        '[packages]\n', '[packages]\noldonly = "*"\n'))
    (project.dir / "Pipfile.lock").write_text(json.dumps(
        {"_meta": {"hash": {"sha256": "x"}}, "default": {
            "shared": {"version": "==2.0"}, "needed": {"version": "==1.0"},
            "oldonly": {"version": "==1.0", "markers": "python_version < '3.8'"}}}))
    diagnosis = run_diagnose(project.dir, main_python, tmp_path / "a")
    [finding] = [f for f in diagnosis["findings"] if f["name"] == "oldonly"]
    assert finding["category"] == "will break on CI"
    assert "python_version < '3.8'" in finding["detail"]
    assert f"Python {sys.version.split()[0]}" in finding["detail"]
    assert "pipenv install --dev" not in finding["detail"]


# --- 10: a --system-site-packages venv: tree and pins are what CI's venv will hold ------------

def test_system_site_packages_venv_tree_and_pins_leave_the_base_out(wheels, tmp_path):
    project = tmp_path / "proj"
    (project / "app").mkdir(parents=True)
    (project / "app" / "__init__.py").write_text("import shared\n")
    # The base (pyenv's 3.9) holds pip and setuptools; the Pipfile declares setuptools.
    (project / "Pipfile").write_text('[packages]\nshared = "*"\nsetuptools = "*"\n')
    base = pyenv_python("3.9")
    subprocess.run([str(base), "-m", "venv", "--without-pip", "--system-site-packages",
                    str(project / ".venv")], check=True)
    setuptools = subprocess.run(  # the base's own, whatever pyenv installed
        [str(base), "-c", "import importlib.metadata as m; print(m.version('setuptools'))"],
        capture_output=True, text=True, check=True).stdout.strip()
    pip_install(project / ".venv" / "bin" / "python", wheels.shared_2, wheels.needed)
    audit = tmp_path / "a"
    tree_task = BuildTree(project_dir=str(project), audit_dir=str(audit))
    pins_task = RenderTravis(project_dir=str(project), audit_dir=str(audit))
    build(tree_task, pins_task)
    tree = read_json(tree_task.output()["json"])
    assert sorted(node["name"] for node in tree["nodes"]) == ["needed", "setuptools", "shared"]
    pins = Path(pins_task.output()["pins"].path).read_text().splitlines()
    assert [line for line in pins if not line.startswith("#") and line] == [
        "needed==1.0", f"setuptools=={setuptools}", "shared==2.0"]


# --- 15: egg-info requires.txt edges -----------------------------------------------------------

def test_egg_info_requirements_are_tree_edges(wheels, tmp_path):
    redis = wheel(tmp_path, "redis", "4.0", {"redis/__init__.py": ""})
    project = tmp_path / "proj"
    project.mkdir()
    (project / "Pipfile").write_text('[packages]\nredlock-py = "*"\n')
    python = make_venv(project / ".venv")
    pip_install(python, redis)
    egg_info = site_packages(python) / "redlock_py-1.2.0-py3.egg-info"
    egg_info.mkdir()
    (egg_info / "PKG-INFO").write_text("Metadata-Version: 1.1\nName: redlock-py\nVersion: 1.2.0\n")
    (egg_info / "requires.txt").write_text("redis\n\n[docs]\nsphinx\n")
    (egg_info / "top_level.txt").write_text("redlock\n")
    task = BuildTree(project_dir=str(project), audit_dir=str(tmp_path / "a"))
    build(task)
    tree = read_json(task.output()["json"])
    assert tree["undeclared_roots"] == []
    [node] = [n for n in tree["nodes"] if n["name"] == "redlock-py"]
    assert [(e["name"], e["installed"]) for e in node["dependencies"]] == [("redis", "4.0")]


def test_stored_probe_answers_go_stale_with_an_install(wheels, main_python, tmp_path):
    """A later process reuses a probe's answer from .audit only while nothing was installed."""
    project = create_project(tmp_path / "proj", wheels)
    command = ["ScanPipenv", "--project-dir", project.dir]
    assert audit_cli(*command).returncode == 0
    audit = project.dir / ".audit"
    assert len(list(audit.glob("probe-*.json"))) == 1
    first = {path.name for path in audit.glob("ScanPipenv-*")}
    assert audit_cli(*command).returncode == 0
    assert {path.name for path in audit.glob("ScanPipenv-*")} == first  # warm: reused
    pip_install(project.python, wheels.home_only)
    assert audit_cli(*command).returncode == 0
    [new] = {path.name for path in audit.glob("ScanPipenv-*")} - first
    inventory = json.loads((audit / new / "pipenv.json").read_text())["inventory"]
    assert HOME_ONLY in {d["name"] for d in inventory["distributions"]}


def test_a_rewritten_interpreter_is_probed_again_even_with_its_old_mtime(tmp_path):
    """Probe answers are kept by what the interpreter is, in this process and in .audit:
    an interpreter rewritten in place (its mtime put back) is never served the old answer."""
    python = tmp_path / "bin" / "python"
    python.parent.mkdir()
    mtime = None

    def point_at(minor: str) -> None:
        nonlocal mtime
        python.write_text(f'#!/bin/sh\nexec {pyenv_python(minor)} "$@"\n')
        python.chmod(0o755)
        mtime = mtime or python.stat().st_mtime_ns
        os.utime(python, ns=(mtime, mtime))

    def version(audit: Path) -> str:
        [inventory] = audit.glob("ScanMain-*/inventory.json")
        return json.loads(inventory.read_text())["version"]

    point_at("3.9")
    task = ScanMain(main_python=str(python), audit_dir=str(tmp_path / "a"))
    build(task)
    assert version(tmp_path / "a").startswith("3.9.")
    point_at("3.10")  # this process has an answer for the old one
    task = ScanMain(main_python=str(python), audit_dir=str(tmp_path / "b"))
    build(task)
    assert version(tmp_path / "b").startswith("3.10.")
    point_at("3.11")  # .audit has a stored answer for the old one
    audit = tmp_path / "b"
    for old in audit.glob("ScanMain-*"):
        shutil.rmtree(old)
    completed = audit_cli("ScanMain", "--main-python", python, "--audit-dir", audit)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert version(audit).startswith("3.11.")
