"""The plain functions, without Luigi, on real interpreters and files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from csci_utils.audit import pipenv_venv
from csci_utils.audit.env_file import secret_names
from csci_utils.audit.errors import AuditError
from csci_utils.audit.imports import scan_imports
from csci_utils.audit.interpreter import environment_fingerprint, inspect_interpreter
from csci_utils.audit.locate import find_shadowing, locate
from csci_utils.audit.models import Edge, TreeNode
from csci_utils.audit.pipenv_venv import locate_pipenv_venv, venv_by_pipenvs_rule
from csci_utils.audit.pipfile import read_lock, read_pipfile
from csci_utils.audit.render_ci import ci_plan, render_ci, render_pins
from csci_utils.audit.validate import find_conflicts, find_cycles

from .conftest import (
    HOME_ONLY,
    NEEDED,
    SECRET_VALUE,
    SHARED,
    dedent,
    make_venv,
    pip_install,
    pipenv_oracle_hash,
)

REPO = Path(__file__).resolve().parents[3]


def test_inventory_of_main_sees_pip_installs_and_pythonpath(main_python, tmp_path, monkeypatch):
    # No -I: PYTHONPATH (and the user site) are part of what "works at home".
    loose = tmp_path / "loose"
    loose.mkdir()
    (loose / f"{HOME_ONLY}.py").write_text("")
    monkeypatch.setenv("PYTHONPATH", str(loose))
    inventory = inspect_interpreter(str(main_python))

    assert inventory.sys_path[0] == str(loose)
    assert inventory.user_site and inventory.prefix != inventory.base_prefix
    home_only = inventory.active()[HOME_ONLY]
    assert home_only.version == "0.3.0" and home_only.installer == "pip"
    assert home_only.top_level == (HOME_ONLY,)  # from RECORD: the wheel has no top_level.txt
    assert Path(home_only.dist_info).parent == Path(home_only.location)
    assert home_only.direct_url["url"].endswith(".whl") and not home_only.editable
    # The PYTHONPATH copy comes first, so it hides the installed package.
    shadowed = {s.module: s for s in find_shadowing(inventory, "main")}
    assert shadowed[HOME_ONLY].places[0] == str(loose)
    assert shadowed[HOME_ONLY].kinds == ("module", "package")


def test_inventory_records_editable_installs_with_their_source():
    # This repo's own environment: dev.py installs it editable.
    ours = inspect_interpreter(sys.executable).active()["csci-utils"]
    assert ours.editable
    assert Path(ours.source_path).resolve() == REPO
    assert "csci_utils" in ours.top_level


def test_fingerprint_changes_when_something_is_installed(wheels, tmp_path):
    python = make_venv(tmp_path / "env")
    before = environment_fingerprint(str(python))
    assert environment_fingerprint(str(python)) == before
    pip_install(python, wheels.needed)
    assert environment_fingerprint(str(python)) != before


def test_missing_main_python_is_one_clear_error(tmp_path):
    with pytest.raises(AuditError, match=r"main python not found: .*nope"):
        inspect_interpreter(str(tmp_path / "nope"))


def test_locate_gives_paths_and_status(main_python, project):
    locations = locate(inspect_interpreter(str(main_python)),
                       inspect_interpreter(str(project.python)))
    placements = {(placement.kind, placement.name): placement
                  for placement in locations.placements}
    home_only = placements["distribution", HOME_ONLY]
    assert home_only.status == "main-only" and not home_only.venv_paths
    assert home_only.main_paths[0].startswith(str(main_python.parent.parent))
    shared = placements["distribution", SHARED]
    assert (shared.status, shared.main_version, shared.venv_version) == \
        ("both-different", "1.0", "2.0")
    assert placements["module", NEEDED].status == "venv-only"


def test_pipfile_parsing_and_hash_match_pipenv(tmp_path):
    pipfile = tmp_path / "Pipfile"
    pipfile.write_text(dedent("""
        [packages]
        Requests_Toolbelt = {version = ">=1", extras = ["socks"], editable = false}
        "My.Pkg" = "*"

        [dev-packages]
        PyTest = ">=8"

        [docs]
        Sphinx = "*"

        [requires]
        python_version = "3.11"

        [scripts]
        test = "pytest -q"
    """))
    parsed = read_pipfile(pipfile)
    assert parsed.declared() == {"requests-toolbelt": ("packages",), "my-pkg": ("packages",),
                                 "pytest": ("dev-packages",), "sphinx": ("docs",)}
    assert parsed.requires == {"python_version": "3.11"}
    assert parsed.scripts == {"test": "pytest -q"}
    # No [[source]]: pipenv fills in sources from pip's configuration, and so do we.
    assert parsed.hash == pipenv_oracle_hash(pipfile)

    pipfile.write_text('[[source]]\nname = "mirror"\nurl = "file:///srv/simple"\n'
                       "verify_ssl = false\n\n" + pipfile.read_text())
    assert read_pipfile(pipfile).hash == pipenv_oracle_hash(pipfile)


def test_lock_pins_and_hash_check(tmp_path):
    pipfile = tmp_path / "Pipfile"
    pipfile.write_text('[packages]\nshared = "*"\n')
    lock = tmp_path / "Pipfile.lock"
    lock.write_text(json.dumps({
        "_meta": {"hash": {"sha256": read_pipfile(pipfile).hash}, "pipfile-spec": 6},
        "default": {"shared": {"version": "==2.0", "markers": "python_version >= '3.8'",
                               "hashes": ["sha256:00"], "index": "pypi"}},
        "develop": {}}))
    parsed = read_lock(lock, read_pipfile(pipfile))
    assert parsed.matches_pipfile
    pin = parsed.categories["default"]["shared"]
    assert (pin.version, pin.markers, pin.hashes, pin.extra) == \
        ("==2.0", "python_version >= '3.8'", ("sha256:00",), {"index": "pypi"})

    pipfile.write_text('[packages]\nshared = ">=2"\n')
    assert not read_lock(lock, read_pipfile(pipfile)).matches_pipfile
    assert read_lock(tmp_path / "absent.lock", read_pipfile(pipfile)) is None


def test_malformed_pipfile_names_file_and_line(tmp_path):
    pipfile = tmp_path / "Pipfile"
    pipfile.write_text('[packages]\nrequests = "*"\nbroken =\n')
    with pytest.raises(AuditError, match=r"malformed Pipfile .*Pipfile: .*line 3"):
        read_pipfile(pipfile)


@pytest.mark.parametrize("sources", ['[source]\nname = "m"\nurl = "file:///srv/simple"\n',
                                     'source = ["file:///srv/simple"]\n'],
                         ids=["one-table", "list-of-strings"])
def test_sources_that_are_no_array_of_tables_are_one_line(tmp_path, sources):
    """pipenv crashes on these with a traceback; the audit hashed the table's keys."""
    pipfile = tmp_path / "Pipfile"
    pipfile.write_text(sources + '\n[packages]\nrequests = "*"\n')
    with pytest.raises(AuditError, match=r"malformed Pipfile .*Pipfile: sources must be "
                                         r"\[\[source\]\] tables"):
        read_pipfile(pipfile)


def test_scan_imports_skips_stdlib_own_code_and_venvs(tmp_path):
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "sub" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "sub" / "core.py").write_text(dedent("""
        import os, json
        import yaml.constructor
        from requests import Session
        from . import sibling
        from pkg.sub import other
        import scripts_helper
        try:
            import ujson
        except ImportError:
            ujson = None
        def later():
            import numpy as np
    """))
    (tmp_path / "scripts_helper.py").write_text("import luigi\n")
    (tmp_path / "broken.py").write_text("def (:\n")
    (tmp_path / ".venv" / "lib").mkdir(parents=True)
    (tmp_path / ".venv" / "lib" / "vendored.py").write_text("import should_not_appear\n")
    other_env = tmp_path / "myenv"
    other_env.mkdir()
    (other_env / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (other_env / "x.py").write_text("import nor_this\n")

    sites = scan_imports(tmp_path, frozenset(sys.stdlib_module_names))
    found = {(s.module, s.file, s.line, s.optional) for s in sites}
    assert found == {
        ("yaml", "pkg/sub/core.py", 2, False),
        ("requests", "pkg/sub/core.py", 3, False),
        ("ujson", "pkg/sub/core.py", 8, True),
        ("numpy", "pkg/sub/core.py", 12, False),
        ("luigi", "scripts_helper.py", 1, False),
    }


@pytest.mark.parametrize("pyproject", ["tool = 5\n", "[tool]\nsetuptools = 5\npytest = 5\n",
                                       "[tool.pytest]\nini_options = 5\n"])
def test_pyproject_tables_of_the_wrong_type_are_ignored(tmp_path, pyproject):
    """Valid TOML that is no table where one is expected: a traceback (AttributeError) before."""
    (tmp_path / "pyproject.toml").write_text(pyproject)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "helper.py").write_text("")
    (tmp_path / "tests" / "test_it.py").write_text("import helper\nimport requests\n")
    sites = scan_imports(tmp_path, frozenset(sys.stdlib_module_names))
    assert [(s.module, s.file) for s in sites] == [("requests", "tests/test_it.py")]


def test_conflicts_and_cycles_are_found():
    nodes = (
        TreeNode("a", "A", "1.0", (Edge("b", ">=2", "1.5"), Edge("gone", "Any", None)), ()),
        TreeNode("b", "b", "1.5", (Edge("c", "Any", "1"),), ()),
        TreeNode("c", "c", "1", (Edge("a", "<2", "1.0"),), ()),
    )
    conflicts = {(c.package, c.dependency, c.installed) for c in find_conflicts(nodes)}
    assert conflicts == {("a", "b", "1.5"), ("a", "gone", None)}
    assert find_cycles(nodes) == [("a", "b", "c")]


def test_secret_names_never_values(tmp_path):
    (tmp_path / ".env").write_text(f"# comment\nAWS_ACCESS_KEY_ID={SECRET_VALUE}\n"
                                   f"export TOKEN = '{SECRET_VALUE}'\nnot a line\n")
    assert secret_names(tmp_path) == ["AWS_ACCESS_KEY_ID", "TOKEN"]
    assert secret_names(tmp_path / "elsewhere") == []


def test_render_ci_is_valid_yaml_with_master_only_jobs(project):
    pipfile = read_pipfile(project.pipfile)
    venv = inspect_interpreter(str(project.python))
    travis = yaml.safe_load(render_ci(ci_plan(pipfile, venv, secrets=["AWS_SECRET_ACCESS_KEY"])))
    assert travis["language"] == "python"
    assert travis["python"] == [pipfile.requires["python_version"]]
    assert travis["install"] == ["pip install pipenv", "pipenv install --dev"]
    assert travis["jobs"]["include"] == [
        {"stage": "test", "name": "test", "script": "pipenv run test"}]

    with_demo = pipfile.__class__(**{**pipfile.__dict__,
                                     "scripts": {**pipfile.scripts, "demo": "python -m app"}})
    text = render_ci(ci_plan(with_demo, venv, pin=True, secrets=["AWS_SECRET_ACCESS_KEY"],
                             ci_scripts=["demo"]))
    jobs = yaml.safe_load(text)["jobs"]["include"]
    assert jobs[1]["script"] == "pipenv run demo"
    assert jobs[1]["if"] == "branch = master AND type != pull_request" and "if" not in jobs[0]
    assert "pipenv run pip install -r requirements-ci.txt" in yaml.safe_load(text)["install"]
    assert "AWS_SECRET_ACCESS_KEY" in text

    github = yaml.safe_load(render_ci(ci_plan(with_demo, venv, ci="github",
                                              secrets=["AWS_SECRET_ACCESS_KEY"],
                                              ci_scripts=["demo"])))
    test_job, demo_job = github["jobs"]["test"], github["jobs"]["demo"]
    setup = test_job["steps"][1]
    assert setup["uses"].startswith("actions/setup-python")
    assert setup["with"]["cache"] == "pipenv"
    assert setup["with"]["python-version"] == pipfile.requires["python_version"]
    assert test_job["env"] == {"AWS_SECRET_ACCESS_KEY": "${{ secrets.AWS_SECRET_ACCESS_KEY }}"}
    assert demo_job["if"] == "github.ref == 'refs/heads/master'" and "if" not in test_job


def test_pins_are_the_venvs_exact_versions(project):
    pins = render_pins(inspect_interpreter(str(project.python)))
    lines = [line for line in pins.splitlines() if line and not line.startswith("#")]
    assert sorted(lines) == [f"{NEEDED}==1.0", f"{SHARED}==2.0"]


def pipenv_says(project_dir: Path) -> Path:
    completed = subprocess.run([str(Path(sys.executable).parent / "pipenv"), "--venv"],
                               cwd=project_dir, capture_output=True, text=True, check=True,
                               env={**os.environ, "PIPENV_IGNORE_VIRTUALENVS": "1",
                                    "PIPENV_PIPFILE": str(project_dir / "Pipfile")})
    return Path(completed.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("case", ["in-project .venv", "venv_in_project off", "XDG data home",
                                  "Pipfile setting"])
def test_venv_by_pipenvs_rule_is_what_pipenv_says(case, tmp_path, monkeypatch):
    monkeypatch.delenv("PIPENV_VENV_IN_PROJECT", raising=False)
    project = tmp_path / "my project [x]"
    project.mkdir()
    (project / "Pipfile").write_text("[packages]\n")
    workon = tmp_path / "workon"
    if case == "XDG data home":
        monkeypatch.delenv("WORKON_HOME")
        monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
        workon = tmp_path / "xdg" / "virtualenvs"
    else:
        monkeypatch.setenv("WORKON_HOME", str(workon))
    if case in ("in-project .venv", "venv_in_project off"):
        make_venv(project / ".venv")
    if case == "venv_in_project off":
        monkeypatch.setenv("PIPENV_VENV_IN_PROJECT", "0")
    if case == "Pipfile setting":
        (project / "Pipfile").write_text("[packages]\n\n[pipenv]\nvenv_in_project = true\n")
        make_venv(project / ".venv")
    by_rule = venv_by_pipenvs_rule(project)
    if not by_rule.exists():
        make_venv(by_rule)  # pipenv answers only for a venv that exists
    assert pipenv_says(project) == by_rule
    found = locate_pipenv_venv(project, cache_dir=tmp_path / "cache")
    assert Path(found.venv) == by_rule
    assert not (tmp_path / "cache").exists()  # pipenv was not asked, nothing remembered


def test_pipenvs_answer_is_asked_and_remembered_where_its_rule_is_not_redone(
        tmp_path, monkeypatch):
    # PIPENV_CUSTOM_VENV_NAME is not redone here: pipenv is asked, once.
    monkeypatch.setenv("WORKON_HOME", str(tmp_path / "workon"))
    monkeypatch.setenv("PIPENV_CUSTOM_VENV_NAME", "custom")
    project = tmp_path / "proj"
    project.mkdir()
    (project / "Pipfile").write_text("[packages]\n")
    with pytest.raises(AuditError, match="no venv yet for .*: run `pipenv install` there first"):
        locate_pipenv_venv(project, cache_dir=tmp_path / "cache")
    assert not (tmp_path / "cache").exists()  # "no venv" is not remembered
    make_venv(tmp_path / "workon" / "custom")
    assert locate_pipenv_venv(project, cache_dir=tmp_path / "cache").venv == \
        str(pipenv_says(project))
    [remembered] = (tmp_path / "cache").glob("pipenv-venv-*.txt")
    assert remembered.read_text() == f"{tmp_path / 'workon' / 'custom'}\n"

    def asked_again(*_):
        raise AssertionError("pipenv was asked again")

    monkeypatch.setattr(pipenv_venv, "_ask_pipenv", asked_again)
    found = locate_pipenv_venv(project, cache_dir=tmp_path / "cache")
    assert found.python == str(tmp_path / "workon" / "custom" / "bin" / "python")


def test_diagnose_pythonpath_only_module_and_lock_findings(main_python, project, tmp_path,
                                                           monkeypatch):
    from csci_utils.audit.diagnose import diagnose
    from csci_utils.audit.models import ImportSite, PipenvProject

    loose = tmp_path / "loose"
    loose.mkdir()
    (loose / "handmade.py").write_text("")
    monkeypatch.setenv("PYTHONPATH", str(loose))
    main = inspect_interpreter(str(main_python))
    monkeypatch.delenv("PYTHONPATH")
    venv = inspect_interpreter(str(project.python))
    pipfile = read_pipfile(project.pipfile)
    lock_file = tmp_path / "Pipfile.lock"
    lock_file.write_text(json.dumps({"_meta": {"hash": {"sha256": "stale"}},
                                     "default": {SHARED: {"version": "==2.0", "hashes": []}},
                                     "develop": {}}))
    project_data = PipenvProject(str(project.dir), str(project.python.parent.parent), False, venv,
                                 pipfile, read_lock(lock_file, pipfile))
    sites = [ImportSite("handmade", "tool.py", 1, False), ImportSite(SHARED, "tool.py", 2, False)]

    result = diagnose(main, project_data, sites)
    found = {(f.category, f.name): f for f in result.findings}
    assert "PYTHONPATH" in found[("will break on CI", "handmade")].detail
    assert ("installed in the venv but not locked", NEEDED) in found
    assert ("installed in the venv but not locked", SHARED) not in found
    assert any("out of date" in note for note in result.notes)
