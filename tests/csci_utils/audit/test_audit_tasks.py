"""The Luigi tasks, run through luigi.build on real venvs, and the `luigi` command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import luigi
import pytest
import yaml
from luigi.execution_summary import LuigiStatusCode

from csci_utils.tasks.audit import (
    AuditTask,
    BuildTree,
    Diagnose,
    LocatePaths,
    RenderTravis,
    UpdateCIFile,
)

from .conftest import HOME_ONLY, NEEDED, SECRET_VALUE, SHARED, create_project, pip_install

REPO = Path(__file__).resolve().parents[3]
LUIGI = str(Path(sys.executable).parent / "luigi")

started: list[str] = []


@AuditTask.event_handler(luigi.Event.START)
def _record_start(task):
    started.append(type(task).__name__)


def build(*tasks) -> list[str]:
    """Run tasks with the local scheduler; return the names of the tasks that did work."""
    started.clear()
    result = luigi.build(list(tasks), local_scheduler=True, detailed_summary=True,
                         log_level="WARNING")
    assert result.status in (LuigiStatusCode.SUCCESS, LuigiStatusCode.SUCCESS_WITH_RETRY), \
        result.summary_text
    return sorted(started)


def params(project, main_python, **extra):
    return {"project_dir": str(project.dir), "main_python": str(main_python), **extra}


def read(target) -> str:
    return Path(target.path).read_text()


def test_diagnose_says_home_only_import_will_break_on_ci(project, main_python, capsys):
    task = Diagnose(**params(project, main_python))
    build(task)
    diagnosis = json.loads(read(task.output()["json"]))
    by_category = {}
    for finding in diagnosis["findings"]:
        by_category.setdefault(finding["category"], []).append(finding)

    breaking = by_category["will break on CI"]
    assert [(f["name"], f["distribution"], f["main_version"]) for f in breaking] == \
        [(HOME_ONLY, HOME_ONLY, "0.3.0")]
    assert breaking[0]["where"] == ["app/main.py:2"]
    drift = by_category["version drift between MAIN and the venv"]
    assert [(f["name"], f["main_version"], f["venv_version"]) for f in drift] == \
        [(SHARED, "1.0", "2.0")]
    # Relative, own-package, stdlib and optional imports are not findings.
    assert {f["name"] for f in diagnosis["findings"]} == {HOME_ONLY, SHARED}
    assert "no Pipfile.lock" in " ".join(diagnosis["notes"])

    printed = capsys.readouterr().out
    assert "WILL BREAK ON CI (1):" in printed and f"pipenv install {HOME_ONLY}" in printed
    assert read(task.output()["text"]) == printed


def test_locate_paths_gives_main_only_path(project, main_python):
    task = LocatePaths(**params(project, main_python))
    build(task)
    locations = json.loads(read(task.output()))
    rows = {(p["kind"], p["name"]): p for p in locations["placements"]}
    main_prefix = str(main_python.parent.parent)
    for kind in ("distribution", "module"):
        home_only = rows[(kind, HOME_ONLY)]
        assert home_only["status"] == "main-only"
        assert home_only["venv_paths"] == []
        assert home_only["main_paths"] and all(p.startswith(main_prefix)
                                               for p in home_only["main_paths"])
    assert rows[("module", HOME_ONLY)]["main_paths"][0].endswith(f"site-packages/{HOME_ONLY}")
    assert rows[("distribution", SHARED)]["status"] == "both-different"
    assert rows[("distribution", NEEDED)]["status"] == "venv-only"
    assert locations["shadowing"] == []


def test_build_tree_annotates_declared_roots_and_finds_the_conflict(project):
    task = BuildTree(project_dir=str(project.dir))
    build(task)
    tree = json.loads(read(task.output()["json"]))
    assert tree["roots"] == [SHARED] and tree["declared_roots"] == [SHARED]
    assert tree["conflicts"] == [{"package": SHARED, "dependency": NEEDED, "required": ">=5",
                                  "installed": "1.0"}]
    assert tree["summary"]["total_packages"] == 2
    assert tree["summary"]["conflicting_dependencies"]["packages"] >= 1
    text = read(task.output()["text"])
    assert text.startswith(f"{SHARED}==2.0 [Pipfile: packages]\n  - {NEEDED}==1.0 [required: >=5]")
    assert "conflict: shared requires needed >=5, installed: 1.0" in text
    mermaid = read(task.output()["mermaid"])
    assert mermaid.startswith("flowchart TD") and "p_shared -- \">=5\" --> p_needed" in mermaid


@pytest.mark.parametrize("ci", ["travis", "github"])
def test_render_travis_parses_pins_venv_versions_and_hides_secret_values(project, ci):
    task = RenderTravis(project_dir=str(project.dir), ci=ci, pin=True)
    build(task)
    text = read(task.output()["ci"])
    config = yaml.safe_load(text)
    assert SECRET_VALUE not in text and "AWS_SECRET_ACCESS_KEY" in text
    if ci == "travis":
        assert config["python"] == [f"{sys.version_info[0]}.{sys.version_info[1]}"]
        assert config["install"][-1] == "pipenv run pip install -r requirements-ci.txt"
        assert config["jobs"]["include"][0]["script"] == "pipenv run test"
    else:
        steps = config["jobs"]["test"]["steps"]
        assert steps[1]["with"]["cache"] == "pipenv" and steps[-1]["run"] == "pipenv run test"
    pins = read(task.output()["pins"])
    assert f"{SHARED}==2.0" in pins.splitlines() and f"{NEEDED}==1.0" in pins.splitlines()
    assert HOME_ONLY not in pins


@pytest.mark.parametrize("ci", ["travis", "github"])
def test_render_travis_installs_system_packages_first(project, ci, tmp_path):
    task = RenderTravis(project_dir=str(project.dir), audit_dir=str(tmp_path), ci=ci,
                        apt_packages=["chromium", "fonts-dejavu"])
    none = RenderTravis(project_dir=str(project.dir), audit_dir=str(tmp_path), ci=ci,
                        apt_packages=[])
    build(task, none)
    config = yaml.safe_load(read(task.output()["ci"]))
    plain = yaml.safe_load(read(none.output()["ci"]))
    if ci == "travis":
        assert config["addons"] == {"apt": {"packages": ["chromium", "fonts-dejavu"]}}
        assert "addons" not in plain
    else:
        runs = [step.get("run", "") for step in config["jobs"]["test"]["steps"]]
        apt = runs.index("sudo apt-get update && sudo apt-get install -y "
                         "--no-install-recommends chromium fonts-dejavu")
        assert apt < runs.index("pip install pipenv")
        assert not any("apt-get" in step.get("run", "") for step in plain["jobs"]["test"]["steps"])


def test_rerun_does_no_work_and_changes_give_fresh_results(tmp_path, wheels, main_python):
    project = create_project(tmp_path / "proj", wheels)
    everything = [Diagnose(**params(project, main_python)),
                  LocatePaths(**params(project, main_python)),
                  BuildTree(project_dir=str(project.dir)),
                  RenderTravis(project_dir=str(project.dir))]
    assert build(*everything) == ["BuildTree", "Diagnose", "LocatePaths", "RenderTravis",
                                  "ScanMain", "ScanPipenv"]
    assert build(*everything) == []

    def findings():
        diagnosis = json.loads(read(everything[0].output()["json"]))
        return {(f["category"], f["name"]) for f in diagnosis["findings"]}

    first_outputs = everything[0].output()["json"].path
    # The Pipfile changes: the venv scan and everything after it run again.
    project.pipfile.write_text(project.pipfile.read_text().replace(
        f'{SHARED} = "*"', f'{SHARED} = "*"\n{HOME_ONLY} = "*"'))
    assert build(everything[0]) == ["Diagnose", "ScanPipenv"]
    assert everything[0].output()["json"].path != first_outputs
    assert ("declared but not installed in the venv", HOME_ONLY) in findings()
    assert ("will break on CI", HOME_ONLY) not in findings()

    # The environment changes: installing into the venv is seen without touching any file.
    pip_install(project.python, wheels.home_only)
    assert build(everything[0]) == ["Diagnose", "ScanPipenv"]
    assert {name for _, name in findings()} == {SHARED}  # only the drift is left

    # The project's code changes: only Diagnose reruns.
    (project.dir / "app" / "more.py").write_text("import brand_new_dependency\n")
    assert build(everything[0]) == ["Diagnose"]
    assert ("imported but installed nowhere", "brand_new_dependency") in findings()


def test_strict_diagnose_fails_and_leaves_no_output(project, main_python):
    task = Diagnose(**params(project, main_python, strict=True))
    result = luigi.build([task], local_scheduler=True, detailed_summary=True, log_level="ERROR")
    assert result.status == LuigiStatusCode.FAILED
    assert not Path(task.output()["json"].path).exists()
    assert not Path(task.output()["json"].path).parent.exists()


# --- the `luigi` command line --------------------------------------------------------------

def run_cli(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([LUIGI, "--module", "csci_utils.tasks.audit", *args, "--local-scheduler"],
                          cwd=cwd, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ))


def error_lines(completed: subprocess.CompletedProcess) -> list[str]:
    output = completed.stdout + completed.stderr
    assert "Traceback" not in output
    return [line for line in output.splitlines() if line.startswith("audit: error:")]


def test_cli_renders_travis_from_another_directory(project, tmp_path):
    # Run from elsewhere, without this repo's luigi.cfg: still works, exit 0.
    completed = run_cli(tmp_path, "RenderTravis", "--project-dir", str(project.dir),
                        "--ci", "github", "--audit-dir", str(tmp_path / "out"))
    assert completed.returncode == 0, completed.stderr[-2000:]
    [rendered] = list((tmp_path / "out").glob("RenderTravis-*/ci.yml"))
    assert yaml.safe_load(rendered.read_text())["jobs"]["test"]


@pytest.mark.parametrize("case", ["no Pipfile", "malformed Pipfile", "pipenv not installed",
                                  "no venv yet", "main python not found"])
def test_cli_errors_are_one_line_and_non_zero(tmp_path, project, case):
    target, extra = "ScanPipenv", []
    if case != "no Pipfile":
        (tmp_path / "Pipfile").write_text('[packages]\nshared = "*"\n')
    if case == "malformed Pipfile":
        (tmp_path / "Pipfile").write_text('[packages]\nshared = "*"\nbroken = \n')
    if case == "pipenv not installed":
        extra = ["--pipenv", str(tmp_path / "no-such-pipenv")]
    if case == "main python not found":
        target, extra = "Diagnose", ["--main-python", str(tmp_path / "no-such-python")]
        tmp_path = project.dir
    completed = run_cli(tmp_path, target, "--project-dir", str(tmp_path), *extra)
    assert completed.returncode != 0
    [line] = error_lines(completed)
    expected = {"no Pipfile": "no Pipfile in", "malformed Pipfile": "(at line 3",
                "pipenv not installed": "pipenv not installed",
                "no venv yet": "run `pipenv install`",
                "main python not found": "main python not found"}[case]
    assert expected in line, line



@pytest.mark.parametrize("ci, ci_file", [("travis", ".travis.yml"),
                                         ("github", ".github/workflows/ci.yml")])
def test_update_ci_file_writes_the_rendered_file_into_the_project_once(project, tmp_path, ci,
                                                                        ci_file):
    target = project.dir / ci_file  # the session's shared project: removed again below
    update = UpdateCIFile(project_dir=str(project.dir), audit_dir=str(tmp_path), ci=ci)
    rendered = RenderTravis(project_dir=str(project.dir), audit_dir=str(tmp_path), ci=ci)
    assert "UpdateCIFile" in build(update)
    assert target.read_bytes() == Path(rendered.output()["ci"].path).read_bytes()
    try:
        assert build(update) == []  # current: nothing runs
        target.write_text("stale: edited by hand\n")
        assert build(update) == ["UpdateCIFile"]  # not current any more: written again
        assert target.read_bytes() == Path(rendered.output()["ci"].path).read_bytes()
        assert not [p for p in target.parent.iterdir() if p.name != target.name
                    and p.name.startswith(target.stem)]  # no temporary left beside it
    finally:
        target.unlink()

# --- dogfood ---------------------------------------------------------------------------------

def test_this_repos_travis_yml_is_rendered_and_up_to_date(tmp_path):
    """.travis.yml is RenderTravis's output for this repo; regenerate it with UpdateCIFile."""
    task = RenderTravis(project_dir=str(REPO), audit_dir=str(tmp_path))
    build(task)
    rendered = read(task.output()["ci"])
    assert (REPO / ".travis.yml").read_text() == rendered, (
        ".travis.yml is stale: run `luigi --module csci_utils.tasks.audit UpdateCIFile "
        "--local-scheduler --project-dir .`")
    jobs = {job["name"]: job for job in yaml.safe_load(rendered)["jobs"]["include"]}
    # Tests on every branch; the stylization (and any other script) only on master.
    assert "if" not in jobs.pop("test")
    assert "demo" in jobs
    assert all(job["if"] == "branch = master AND type != pull_request" for job in jobs.values())
    assert UpdateCIFile(project_dir=str(REPO), audit_dir=str(tmp_path)).complete()


def run_module_cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "csci_utils.audit", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120, env=dict(os.environ))


def test_module_cli_runs_every_task_cold_then_does_no_work(project, main_python, tmp_path):
    out = tmp_path / "out"
    first = run_module_cli("--project-dir", str(project.dir), "--main-python", str(main_python),
                           "--audit-dir", str(out))
    assert first.returncode == 0, first.stderr[-2000:]
    # Diagnose's summary:
    assert "WILL BREAK ON CI (1):" in first.stdout and HOME_ONLY in first.stdout
    folders = sorted(path.name for path in out.iterdir() if path.is_dir())
    assert [name.split("-")[0] for name in folders] == [
        "BuildTree", "Diagnose", "LocatePaths", "RenderTravis", "ScanMain", "ScanPipenv"]
    again = run_module_cli("--project-dir", str(project.dir), "--main-python", str(main_python),
                           "--audit-dir", str(out))
    assert again.returncode == 0, again.stderr[-2000:]
    assert sorted(path.name for path in out.iterdir() if path.is_dir()) == folders


@pytest.mark.parametrize("command", ["python -m csci_utils.audit", "luigi"])
def test_cold_run_with_several_worker_processes(project, main_python, tmp_path, command):
    # Forked workers inherit the probes the parent started, but must not read
    # their pipes (only one reader gets the answer): each starts its own.
    common = ["--project-dir", str(project.dir), "--main-python", str(main_python),
              "--audit-dir", str(tmp_path), "--workers", "3"]
    completed = (run_module_cli(*common) if command != "luigi" else
                 subprocess.run([LUIGI, "--module", "csci_utils.tasks.audit", "AuditAll",
                                 "--local-scheduler", *common], capture_output=True, text=True,
                                timeout=120))
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "Unfulfilled" not in completed.stderr and "ERROR" not in completed.stderr
    assert sorted(path.name.split("-")[0] for path in tmp_path.iterdir() if path.is_dir()) == [
        "BuildTree", "Diagnose", "LocatePaths", "RenderTravis", "ScanMain", "ScanPipenv"]


def test_module_cli_strict_diagnose_fails_with_one_line(project, main_python, tmp_path):
    completed = run_module_cli("Diagnose", "--strict", "--project-dir", str(project.dir),
                               "--main-python", str(main_python), "--audit-dir", str(tmp_path))
    assert completed.returncode == 30
    [line] = error_lines(completed)
    assert HOME_ONLY in line and "add them to the Pipfile" in line
    assert "ERROR" not in completed.stderr  # luigi's own log stays quiet without --verbose


def test_module_cli_without_a_pipfile_says_so_once_and_writes_nothing_partial(main_python,
                                                                            tmp_path):
    (tmp_path / "proj").mkdir()
    out = tmp_path / "out"
    completed = run_module_cli("--project-dir", str(tmp_path / "proj"), "--main-python",
                               str(main_python), "--audit-dir", str(out))
    assert completed.returncode == 30
    [line] = error_lines(completed)
    assert line == f"audit: error: no Pipfile in {tmp_path / 'proj'}: run the audit in a " \
                   "Pipenv project or pass --project-dir"
    written = [path.relative_to(out).as_posix() for path in out.rglob("*")] if out.exists() else []
    # MAIN's inventory does not need a Pipfile and is complete (with its probe's answer);
    # nothing else was written, and no temporary file is left anywhere.
    assert all(name.startswith(("ScanMain-", "probe-")) for name in written), written
    assert not any("luigi-tmp" in name for name in written)


@pytest.mark.parametrize("args, message", [
    (["NoSuchTask"], "invalid choice: 'NoSuchTask'"),
    (["BuildTree", "--strict"], "--strict does not apply to BuildTree"),
])
def test_module_cli_usage_errors_are_one_line(args, message):
    completed = run_module_cli(*args)
    assert completed.returncode == 2
    assert completed.stderr.count("\n") == 1 and message in completed.stderr
