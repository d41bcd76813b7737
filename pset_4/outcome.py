"""Turn a LuigiRunResult into an exit code and one line saying what went wrong."""

from __future__ import annotations

from luigi.execution_summary import LuigiStatusCode, _summary_dict

from csci_utils.luigi import explain_failures

# The numbers of luigi.cfg [retcode], so `luigi` and `python -m pset_4` agree.
EXIT_CODES = {
    LuigiStatusCode.SUCCESS: 0,
    # Every output exists; one task needed a retry (scheduler retry policy) to get there.
    LuigiStatusCode.SUCCESS_WITH_RETRY: 0,
    LuigiStatusCode.MISSING_EXT: 20,
    LuigiStatusCode.NOT_RUN: 25,
    LuigiStatusCode.FAILED: 30,
    LuigiStatusCode.FAILED_AND_SCHEDULING_FAILED: 35,
    LuigiStatusCode.SCHEDULING_FAILED: 35,
}
UNEXPECTED_EXIT = 1

# What a missing remote file is to the user, by the folder it was expected in.
MISSING_WHAT = {"images": "image", "saved_models": "model"}


def exit_code(result, requested=()) -> int:
    """The exit code for a build of ``requested``.

    NOT_RUN with every requested output present means other workers (a shared
    batch on luigid) ran the tasks this process was not granted: that is success.
    """
    if result.status == LuigiStatusCode.NOT_RUN and requested and all(t.complete() for t in requested):
        return 0
    return EXIT_CODES.get(result.status, UNEXPECTED_EXIT)


def describe_missing(relative_path: str, location: str) -> str:
    """``images/a.jpg`` at ``location`` -> ``image 'a.jpg' (location)``."""
    folder, _, name = relative_path.partition("/")
    what = MISSING_WHAT.get(folder)
    return f"{what} {name!r} ({location})" if what and name else f"{relative_path!r} ({location})"


def failure_reason(result) -> str:
    """One line: the inputs missing on the remote, else the first failure csci_utils explains."""
    missing = sorted(_summary_dict(result.worker)["still_pending_ext"], key=str)
    if missing:
        described = "; ".join(
            describe_missing(getattr(task, "relative_path", ""), task.output().path) for task in missing
        )
        return f"missing on the remote: {described}; upload it, or check the names and --remote"
    explanations = explain_failures(result)
    if explanations:
        return explanations[0]
    return f"luigi reported {result.status.name}; rerun with --verbose for its log"
