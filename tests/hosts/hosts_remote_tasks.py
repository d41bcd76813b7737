"""Generic tasks for the multi-host tests: each writes one object on the S3 root, slowly.

The output is on the remote, so any host may run any task; a host's own folder
only holds its log.
"""

from __future__ import annotations

import os
import socket
import time

import luigi

from csci_utils.luigi import remote_target


class RemoteWork(luigi.Task):
    remote_root = luigi.Parameter()
    number = luigi.IntParameter()
    seconds = luigi.FloatParameter(default=0.5)

    def output(self):
        return remote_target(self.remote_root, f"work/{self.number}.txt")

    def run(self):
        self.set_status_message(f"work {self.number} in pid {os.getpid()}")
        time.sleep(self.seconds)
        body = f"work {self.number} by pid {os.getpid()} on {socket.gethostname()}\n".encode()
        with self.output().open("w") as out:
            out.write(body)


class RemoteBatch(luigi.WrapperTask):
    remote_root = luigi.Parameter()
    count = luigi.IntParameter()
    seconds = luigi.FloatParameter(default=0.5)

    def requires(self):
        return [
            RemoteWork(remote_root=self.remote_root, number=n, seconds=self.seconds)
            for n in range(self.count)
        ]
