"""luigi's ExternalProgramTask, with a child that stops cleanly (csci_utils.child_process).

luigi's own ``run()`` takes over SIGTERM while the program runs
(``ExternalProgramRunContext``): it SIGKILLs the child, which cannot remove its temp
file, and exits 143 through ``sys.exit``, which fails the task (exit 30) instead of
stopping the build. Here the child dies with its parent (PR_SET_PDEATHSIG) and, on
SIGTERM/SIGINT (``csci_utils.cli.stop_cleanly_on_signals``), gets SIGTERM and is
waited for; the interrupt then stops the build as it does for in-process tasks.
"""

from __future__ import annotations

import logging
import tempfile

from luigi.contrib.external_program import ExternalProgramRunError, ExternalProgramTask

from ..child_process import run_child

logger = logging.getLogger("luigi-interface")


class StoppableExternalProgramTask(ExternalProgramTask):
    """``program_args()`` as in luigi; output is captured and logged as luigi does
    (no tracking-URL streaming)."""

    def run(self):
        args = [str(arg) for arg in self.program_args()]
        logger.info("Running command: %s", " ".join(args))
        env = self.program_environment()
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            code = run_child(args, env=env, stdout=out, stderr=err)
            stdout, stderr = self._clean_output_file(out), self._clean_output_file(err)
        if stdout:
            logger.info("Program stdout:\n%s", stdout)
        if stderr and (self.always_log_stderr or code):
            logger.info("Program stderr:\n%s", stderr)
        if code:
            raise ExternalProgramRunError(f"Program failed with return code={code}:", args,
                                          env=env, stdout=stdout, stderr=stderr)
