"""``python -m csci_utils.audit [TASK] [options]``: run the dependency audit as Luigi tasks.

The same tasks as ``luigi --module csci_utils.tasks.audit TASK --local-scheduler
...``, through ``luigi.build``.

Exit status: 0 on success; luigi.cfg [retcode] numbers otherwise (30 a task
failed, e.g. ``Diagnose --strict`` found imports that will break on CI), with
one line on stderr saying why; 2 for bad arguments; 143 on SIGTERM and 130 on
SIGINT (temp files removed, a running probe stopped, one line).
"""

from __future__ import annotations

import os
import sys

# ``python -m`` puts the working directory (usually the audited project) first on
# sys.path: its json.py or tomllib.py would run inside the auditor. Drop it before
# anything else is imported (os and sys are loaded at interpreter start).
if sys.path and sys.path[0] in ("", os.getcwd()):
    del sys.path[0]

import gc  # noqa: E402 - after the working directory left sys.path, on purpose
from collections.abc import Sequence  # noqa: E402

from csci_utils.cli import OneLineErrorParser, run_build, stops_cleanly_on_signals  # noqa: E402
from csci_utils.exit_codes import USAGE_ERROR  # noqa: E402

PROG = "python -m csci_utils.audit"
TASKS = ("AuditAll", "Diagnose", "ScanMain", "ScanPipenv", "LocatePaths", "BuildTree",
         "RenderTravis", "UpdateCIFile")


def build_parser() -> OneLineErrorParser:
    parser = OneLineErrorParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("task", nargs="?", default="AuditAll", choices=TASKS,
                        help="what to produce (default: AuditAll, every output)")
    parser.add_argument("--project-dir", default=".", help="the Pipenv project (default: .)")
    parser.add_argument("--audit-dir", default="",
                        help="where outputs go (default: PROJECT/.audit)")
    parser.add_argument("--main-python", default="", help="the MAIN interpreter (default: the "
                        "base Python behind the current environment)")
    parser.add_argument("--pipenv", default="", help="the pipenv command (default: on PATH)")
    parser.add_argument("--ci", choices=("travis", "github"), help="RenderTravis/UpdateCIFile: "
                        "which CI configuration")
    parser.add_argument("--pin", action="store_true", default=None,
                        help="RenderTravis/UpdateCIFile: make CI install the pinned versions too")
    parser.add_argument("--strict", action="store_true", default=None,
                        help="Diagnose: fail when anything will break on CI")
    parser.add_argument("--workers", type=int, default=1, help="luigi workers (default 1)")
    parser.add_argument("--verbose", action="store_true", help="show luigi's log")
    return parser


@stops_cleanly_on_signals("audit")
def main(argv: Sequence[str] | None = None) -> int:
    args, code = build_parser().parse_or_exit_code(argv)
    if args is None:
        return code
    # Imported here, after the arguments: a usage error answers without loading luigi.
    from csci_utils.tasks import audit as tasks

    tasks.quiet_audit_errors()

    task_class = getattr(tasks, args.task)
    given = {"project_dir": args.project_dir, "audit_dir": args.audit_dir,
             "main_python": args.main_python, "pipenv": args.pipenv, "ci": args.ci,
             "pin": args.pin, "strict": args.strict}
    accepted = set(task_class.get_param_names())
    for name, value in given.items():
        if value and name not in accepted:  # (every task takes --project-dir, --audit-dir)
            print(f"{PROG}: error: --{name.replace('_', '-')} does not apply to "
                  f"{args.task}", file=sys.stderr)
            return USAGE_ERROR
    task = task_class(**{name: value for name, value in given.items()
                         if name in accepted and value is not None})
    return run_build([task], prog="audit", verbose=args.verbose, local_scheduler=True,
                     workers=args.workers, log_level="INFO" if args.verbose else "CRITICAL")


def run() -> None:
    """The command line's entry point: ``main()``, then exit."""
    code = main()
    # The process ends here: the operating system takes back its memory at
    # once, where Python's last garbage collection would walk every object
    # luigi and its imports made (~60 ms).
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    run()
