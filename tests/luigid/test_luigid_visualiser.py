"""luigid's visualiser in a real headless chromium: task list, progress, status message."""

from __future__ import annotations

from luigid_browser import require_chromium, visualiser_page
from luigid_workers import sleepy_batch_argv, start_worker

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_the_visualiser_lists_the_tasks_and_shows_live_progress(luigid_server, tmp_path):
    require_chromium()
    from playwright.sync_api import expect

    release = tmp_path / "release"  # the running task holds at 50% until it exists
    argv = sleepy_batch_argv(
        luigid_server, tmp_path / "out", count=2, seconds=0.4, release_file=str(release)
    )
    worker = start_worker(luigid_server, tmp_path / "worker", "worker", argv)
    task_list_png, workers_png = (
        tmp_path / "visualiser-task-list.png",
        tmp_path / "visualiser-workers.png",
    )
    try:
        held = luigid_server.wait_for(
            lambda tasks: [
                t
                for t in tasks.values()
                if t["name"] == "SleepyWork" and t["progress_percentage"] == 50
            ],
            what="a task to report 50%",
        )[0]
        assert held["status"] == "RUNNING"
        assert "step 2 of 4" in held["status_message"]

        with visualiser_page(luigid_server.url, tmp_path / "chromium-profile") as page:
            expect(page.locator("#taskTable tbody tr", has_text="SleepyWork")).to_have_count(2)
            expect(page.locator("#taskTable tbody tr", has_text="SleepyBatch")).to_have_count(1)
            page.screenshot(path=task_list_png, full_page=True)

            page.locator(".js-nav-link[data-tab=workerList]").click()
            expect(page.locator(".taskProgressBar")).to_have_text("50%")
            page.locator(".worker-table button.statusMessage").click()
            expect(page.locator("#statusMessageModal pre")).to_contain_text("step 2 of 4")
            page.screenshot(path=workers_png, full_page=True)
    finally:
        release.touch()
        code = worker.wait(timeout=60)

    assert code == 0, worker.log()
    assert task_list_png.read_bytes().startswith(PNG_SIGNATURE)
    assert workers_png.read_bytes().startswith(PNG_SIGNATURE)
