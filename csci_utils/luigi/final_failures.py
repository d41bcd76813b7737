"""A task's failure is final for the rest of the run, on every worker of a shared batch.

luigid puts a FAILED task back to PENDING after ``[scheduler] retry_delay`` (900 s
by default), up to ``retry_count`` times; and a ``[worker] keep_alive`` worker,
which a batch shared on luigid needs so that it can take over a dead worker's
task, waits while any task of its batch is pending. So one corrupt input kept
every process of the batch waiting for the retry, then failing it again.

The worker that saw a task fail therefore marks it DISABLED on the scheduler
right after reporting the failure. Its dependents become UPSTREAM_DISABLED,
which keep_alive workers do not wait for: each process finishes the rest of the
batch and exits with the failure. A worker's DISABLED, unlike the one luigid
sets after ``retry_count`` failures, is lifted by the next run that schedules
the task, so a rerun tries it again at once. A dead worker's task is not
disabled: luigid fails it without a worker's report and hands it to another
worker after ``retry_delay``, as before.
"""

from __future__ import annotations

import luigi.interface
import luigi.worker
from luigi.scheduler import DISABLED, FAILED

# luigi's worker schedules such a task again itself (its inputs went missing at run time).
RESCHEDULED = "Unfulfilled dependencies at run time"


class FinalFailureWorker(luigi.worker.Worker):
    """luigi's Worker, which disables on the scheduler each task it saw fail."""

    def _add_task(self, *args, **kwargs):
        super()._add_task(*args, **kwargs)
        task = self._scheduled_tasks.get(kwargs["task_id"])
        if kwargs["status"] == FAILED and RESCHEDULED not in (kwargs.get("expl") or "") and not (
            task is not None and luigi.worker._is_external(task)
            and self._config.retry_external_tasks  # the user asked for those retries
        ):
            # Not through self._add_task: the run's summary keeps the FAILED it saw.
            self._scheduler.add_task(*args, **{**kwargs, "status": DISABLED})


class FinalFailureFactory(luigi.interface._WorkerSchedulerFactory):
    """``luigi.build(..., worker_scheduler_factory=FinalFailureFactory())``."""

    def create_worker(self, scheduler, worker_processes, assistant=False):
        return FinalFailureWorker(
            scheduler=scheduler, worker_processes=worker_processes, assistant=assistant
        )
