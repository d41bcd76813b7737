"""One line per problem of a luigi run, for command lines to print instead of tracebacks."""

from __future__ import annotations

import json

import luigi
from luigi.execution_summary import LuigiRunResult, LuigiStatusCode, _summary_dict

from csci_utils.exit_codes import RETCODES, SUCCESS, UNEXPECTED
from csci_utils.one_line import first_line, last_line

from .errors import TransferError

# luigi.cfg [retcode]'s numbers (csci_utils.exit_codes), so `luigi` and our command lines agree.
EXIT_CODES = {
    LuigiStatusCode.SUCCESS: SUCCESS,
    # Every output exists; one task needed a retry (scheduler retry policy) to get there.
    LuigiStatusCode.SUCCESS_WITH_RETRY: SUCCESS,
    LuigiStatusCode.MISSING_EXT: RETCODES["missing_data"],
    LuigiStatusCode.NOT_RUN: RETCODES["not_run"],
    LuigiStatusCode.FAILED: RETCODES["task_failed"],
    LuigiStatusCode.FAILED_AND_SCHEDULING_FAILED: RETCODES["scheduling_error"],
    LuigiStatusCode.SCHEDULING_FAILED: RETCODES["scheduling_error"],
}
UNEXPECTED_EXIT = UNEXPECTED


def exit_code(result: LuigiRunResult, requested=()) -> int:
    """The exit code for a build of ``requested``.

    Requested tasks that this worker never saw end were another worker's (a batch
    shared on luigid; luigi says NOT_RUN, or SUCCESS when it saw them running
    elsewhere): every requested output present is success, and a task of theirs
    whose run failed on another worker is that failure.
    """
    status = result.status
    shared = status == LuigiStatusCode.NOT_RUN or (
        status == LuigiStatusCode.SUCCESS
        and any(task in _summary_dict(result.worker)["still_pending_not_ext"] for task in requested)
    )
    if shared and requested:
        if all(task.complete() for task in requested):
            return 0
        if failed_elsewhere(result):
            return RETCODES["task_failed"]
    return EXIT_CODES.get(status, UNEXPECTED_EXIT)


def failed_elsewhere(result: LuigiRunResult) -> list[luigi.Task]:
    """The tasks this worker scheduled but never saw end whose run failed on another
    worker of the batch (the scheduler keeps the failure's explanation)."""
    worker = result.worker
    return [task for task in _summary_dict(worker)["still_pending_not_ext"]
            if _recorded_failure(worker, task) and not task.complete()]


def explain_task(task: luigi.Task) -> str:
    """One line saying why ``task``'s output is unavailable (never raises).

    Uses the error its last ``complete()`` recorded, else checks again.
    """
    recorded = getattr(task, "completion_problem", None)
    if recorded:
        return recorded
    try:
        if task.complete():
            return f"{task} is complete"
        task.deps()  # a scheduling error may come from requires(), not complete()
        missing_message = getattr(task, "missing_message", None)
        if missing_message is not None:
            return missing_message()
        paths = ", ".join(target.path for target in luigi.task.flatten(task.output()))
        return f"{task}: missing {paths}"
    except TransferError as error:
        return str(error)
    except Exception as error:  # noqa: BLE001 - a report must not fail
        return first_line(f"{task}: {type(error).__name__}: {error}")


def _recorded_failure(worker, task: luigi.Task) -> str:
    """The explanation of ``task``'s last failure that the scheduler keeps, or ""."""
    try:
        error = worker._scheduler.fetch_error(task.task_id).get("error") or ""
    except Exception:  # noqa: BLE001 - a report must not fail
        return ""
    try:  # workers send it JSON-encoded; a task that succeeded last has null
        explanation = json.loads(error)
    except ValueError:
        explanation = error
    return explanation if isinstance(explanation, str) else ""


def _failure_of(worker, task: luigi.Task) -> str:
    explanation = _recorded_failure(worker, task)
    lines = [line for line in str(explanation).splitlines() if line.strip()]
    if not lines:
        return f"{task} failed"
    # A one-line failure (OneLineFailure) arrives as its line; a traceback ends with the exception.
    return first_line(explanation) if len(lines) == 1 else \
        f"{task.task_family} failed: {last_line(explanation)}"


def explain_failures(result: LuigiRunResult) -> list[str]:
    """One line per failed task, missing external file or scheduling error of a run.

    Works with the local scheduler and with luigid (failures are fetched from
    whichever scheduler ran them, also those another worker of the batch saw).
    """
    summary = _summary_dict(result.worker)
    failed = [*summary["failed"], *failed_elsewhere(result)]
    lines = [_failure_of(result.worker, task) for task in failed]
    for status in ("scheduling_error", "still_pending_ext"):
        lines.extend(explain_task(task) for task in summary[status])
    return sorted(set(lines), key=lines.index)


def failure_line(result: LuigiRunResult) -> str:
    """The line a command line prints for a failed run: the first explanation, else the status."""
    explanations = explain_failures(result)
    if explanations:
        return explanations[0]
    return f"luigi reported {result.status.name}; rerun with --verbose for its log"
