"""Generic Luigi behaviour on a real luigid: shared work, a killed worker taken over."""

from __future__ import annotations

import urllib.request

from luigid_sleepy_tasks import attempts_by_task
from luigid_workers import sleepy_batch_argv, start_worker

# A `luigi` worker that shares its batch exits with [retcode] already_running (10)
# when it saw another worker running one of its tasks, and not_run (25) when a
# task it scheduled was completed elsewhere ("not granted run permission", luigi
# PR #1771), even if every task ends DONE. So these tests judge completeness
# through the scheduler and the files, and accept those two codes.
SHARED_OK = {0, 10, 25}


def sleepy_work(tasks: dict) -> dict:
    return {task_id: task for task_id, task in tasks.items() if task["name"] == "SleepyWork"}


def number_of(task: dict) -> int:
    return int(task["params"]["number"])


def test_luigid_serves_its_json_api_and_the_visualiser(luigid_server):
    assert luigid_server.tasks() == {}
    with urllib.request.urlopen(
        f"{luigid_server.url}/static/visualiser/index.html", timeout=10
    ) as page:
        assert b'id="taskTable"' in page.read()


def test_two_worker_processes_share_a_batch_and_run_each_task_once(luigid_server, tmp_path):
    out_dir = tmp_path / "out"
    release = tmp_path / "release"  # first tasks hold at 50% until both workers are busy
    argv = sleepy_batch_argv(
        luigid_server, out_dir, count=6, seconds=0.4, release_file=str(release)
    )
    workers = [start_worker(luigid_server, tmp_path / f"w{n}", f"worker{n}", argv) for n in (1, 2)]
    try:
        luigid_server.wait_for(
            lambda tasks: (
                len([t for t in sleepy_work(tasks).values() if t["status"] == "RUNNING"]) == 2
            ),
            what="each worker to be running a task",
        )
    finally:
        release.touch()

    codes = [worker.wait(timeout=90) for worker in workers]

    assert set(codes) <= SHARED_OK, "\n".join(worker.log() for worker in workers)
    tasks = luigid_server.tasks()
    assert {task["status"] for task in tasks.values()} == {"DONE"}
    assert sorted(number_of(task) for task in sleepy_work(tasks).values()) == list(range(6))
    assert all(
        task["time_running"] is not None for task in sleepy_work(tasks).values()
    )  # run, not found done
    attempts = attempts_by_task(out_dir)
    assert {number: len(pids) for number, pids in attempts.items()} == {n: 1 for n in range(6)}
    # Both processes took part: the scheduler handed the batch out, nobody ran it alone.
    assert {pid for pids in attempts.values() for pid in pids} == {worker.pid for worker in workers}
    assert all((out_dir / f"work-{n}.txt").exists() for n in range(6))


def test_a_task_of_a_killed_worker_is_taken_over_by_the_other(luigid_server, tmp_path):
    out_dir = tmp_path / "out"
    release = tmp_path / "release"  # tasks hold at 50% until it exists: the kill lands mid-task
    argv = sleepy_batch_argv(
        luigid_server, out_dir, count=3, seconds=0.4, release_file=str(release)
    )

    victim = start_worker(luigid_server, tmp_path / "victim", "victim", argv)
    first = luigid_server.wait_for(
        lambda tasks: [t for t in sleepy_work(tasks).values() if t["status"] == "RUNNING"],
        what="the victim to start a task",
    )
    victims_task = number_of(first[0])
    survivor = start_worker(luigid_server, tmp_path / "survivor", "survivor", argv)
    both_held = luigid_server.wait_for(
        lambda tasks: len([t for t in sleepy_work(tasks).values()
                           if t["status"] == "RUNNING" and t["progress_percentage"] == 50]) == 2,
        what="both workers to be half-way through a task",
    )
    assert both_held

    victim.kill()
    assert not (out_dir / f"work-{victims_task}.txt").exists()
    release.touch()
    code = survivor.wait(timeout=60)

    assert code in SHARED_OK, survivor.log()
    tasks = luigid_server.tasks()
    assert {task["status"] for task in tasks.values()} == {"DONE"}, tasks
    attempts = attempts_by_task(out_dir)
    assert attempts[victims_task] == [victim.pid, survivor.pid]
    assert all(attempts[n] == [survivor.pid] for n in range(3) if n != victims_task)
    for n in range(3):
        assert (
            out_dir / f"work-{n}.txt"
        ).read_text() == f"work {n} finished by pid {survivor.pid}\n"
    assert sorted(path.name for path in out_dir.glob("*.txt")) == [
        f"work-{n}.txt" for n in range(3)
    ]


def test_a_worker_that_saw_a_task_running_elsewhere_exits_with_its_failure(
    luigid_server, tmp_path
):
    from luigid_workers import HERE

    argv = [str(HERE / "luigid_failing_batch.py"), str(tmp_path / "out"), "4"]
    first = start_worker(luigid_server, tmp_path / "w1", "first", argv, separate_stderr=True)
    luigid_server.wait_for(
        lambda tasks: any(t["name"] == "FailsLater" and t["status"] == "RUNNING"
                          for t in tasks.values()),
        what="the first worker to run the failing task",
    )
    second = start_worker(luigid_server, tmp_path / "w2", "second", argv, separate_stderr=True)

    codes = [worker.wait(timeout=60) for worker in (first, second)]

    errors = [worker.stderr() for worker in (first, second)]
    assert codes == [30, 30], errors  # not 25 or 0 for the one that only saw it running
    for error in errors:
        assert error.splitlines()[-1].startswith("failing: error: "), error
        assert "the bad input, named here" in error, error
    [task] = [t for t in luigid_server.tasks().values() if t["name"] == "FailsLater"]
    assert task["status"] == "DISABLED"  # final within the run: nobody reruns it
