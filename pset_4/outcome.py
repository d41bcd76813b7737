"""Turn a LuigiRunResult into an exit code and one line saying what went wrong."""

from __future__ import annotations

import json
import re

import luigi
from luigi.execution_summary import LuigiStatusCode

# The same numbers as luigi.cfg [retcode], so `luigi` and `python -m pset_4` agree.
EXIT_CODES = {
    LuigiStatusCode.SUCCESS: 0,
    # Every task is done; one needed a retry (scheduler retry policy) to get there.
    LuigiStatusCode.SUCCESS_WITH_RETRY: 0,
    LuigiStatusCode.MISSING_EXT: 20,
    LuigiStatusCode.NOT_RUN: 25,
    LuigiStatusCode.FAILED: 30,
    LuigiStatusCode.FAILED_AND_SCHEDULING_FAILED: 35,
    LuigiStatusCode.SCHEDULING_FAILED: 35,
}
UNEXPECTED_EXIT = 1

# "pset_4.errors.PipelineError: the message" -> "the message"
_EXCEPTION_PREFIX = re.compile(r"^(?:[A-Za-z_][\w.]*)(?:Error|Exception|Exit)?: ")

# What a missing file on the remote is to the user, by the shared folder it is in.
MISSING_WHAT = {"images": "image", "saved_models": "model"}


def exit_code(result) -> int:
    return EXIT_CODES.get(result.status, UNEXPECTED_EXIT)


def last_line_of_error(explanation: str) -> str:
    """The final ``Type: message`` line of a traceback, without the type.

    Luigi's worker hands the scheduler the traceback JSON-encoded; decode it first.
    """
    try:
        decoded = json.loads(explanation)
        if isinstance(decoded, str):
            explanation = decoded
    except (TypeError, ValueError):
        pass
    lines = [line.strip() for line in (explanation or "").splitlines() if line.strip()]
    if not lines:
        return "no error message was recorded"
    return _EXCEPTION_PREFIX.sub("", lines[-1], count=1)


def _target_location(task: luigi.Task) -> str:
    output = task.output()
    return getattr(output, "path", str(output))


def failure_reason(result) -> str:
    """One line: the first missing input or the first failed task, and what to do."""
    from luigi.execution_summary import _summary_dict  # luigi's own summary, by category

    summary = _summary_dict(result.worker)
    missing = sorted(summary.get("still_pending_ext", ()), key=str)
    if missing:
        described = "; ".join(
            f"{MISSING_WHAT.get(getattr(task, 'SHARED_RELATIVE_PATH', ''), 'input')} "
            f"{getattr(task, 'name', task.task_id)!r} ({_target_location(task)})"
            for task in missing
        )
        return f"missing on the remote: {described}; upload it, or check the names and --remote"
    for task in sorted(summary.get("failed", ()), key=str):
        error = result.worker._scheduler.fetch_error(task.task_id).get("error", "")
        return f"{task.get_task_family()} failed: {last_line_of_error(error)}"
    if summary.get("scheduling_error"):
        task = sorted(summary["scheduling_error"], key=str)[0]
        return f"{task} could not be scheduled (its requires() or complete() raised); rerun with --verbose"
    return result.summary_text.strip().splitlines()[-1] if result.summary_text else str(result.status)
