"""A batch whose one task fails after a while, built through csci_utils.cli.run_build.

``python luigid_failing_batch.py OUT_DIR SECONDS`` schedules FailingBatch on the
luigid of its luigi.cfg and exits with run_build's code (its line on stderr).
"""

from __future__ import annotations

import os
import sys
import time

import luigi

from csci_utils.cli import run_build
from csci_utils.luigi.target import SuffixPreservingLocalTarget


class FailsLater(luigi.Task):
    out_dir = luigi.Parameter()
    seconds = luigi.FloatParameter()

    def output(self):
        return SuffixPreservingLocalTarget(os.path.join(self.out_dir, "never.txt"))

    def run(self):
        time.sleep(self.seconds)
        raise RuntimeError("the bad input, named here")


class FailingBatch(luigi.WrapperTask):
    out_dir = luigi.Parameter()
    seconds = luigi.FloatParameter()

    def requires(self):
        return FailsLater(out_dir=self.out_dir, seconds=self.seconds)


if __name__ == "__main__":
    batch = FailingBatch(out_dir=sys.argv[1], seconds=float(sys.argv[2]))
    sys.exit(run_build([batch], prog="failing", no_lock=True))
