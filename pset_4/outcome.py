"""One line saying what went wrong in a pipeline run (csci_utils.cli.run_build prints it)."""

from __future__ import annotations

import luigi
from luigi.execution_summary import _summary_dict

from csci_utils.luigi.run_report import failure_line

# What a missing remote file is to the user, by the folder it was expected in.
MISSING_WHAT = {"images": "image", "saved_models": "model"}


def describe_missing(relative_path: str, location: str) -> str:
    """``images/a.jpg`` at ``location`` -> ``image 'a.jpg' (location)``."""
    folder, _, name = relative_path.partition("/")
    what = MISSING_WHAT.get(folder)
    return f"{what} {name!r} ({location})" if what and name else f"{relative_path!r} ({location})"


def failure_reason(result) -> str:
    """One line: the inputs missing on the remote, else the first failure csci_utils explains."""
    # Only files the run reads (ExternalTasks): luigi also lists here a task whose
    # dynamic dependency failed (the seeding's Upload), whose failure is the cause.
    missing = sorted((task for task in _summary_dict(result.worker)["still_pending_ext"]
                      if isinstance(task, luigi.ExternalTask)), key=str)
    if missing:
        described = "; ".join(
            describe_missing(getattr(task, "relative_path", ""), task.output().path)
            for task in missing
        )
        return f"missing on the remote: {described}; upload it, or check the names and --remote"
    return failure_line(result)
