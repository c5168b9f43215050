"""The cluster's job workers: the production app (`wsgi`), with one planned death. With
CLUSTER_DIE_ONCE naming a file that does not exist yet, the first worker to reach the middle of
an import (its videos and audit rows written, not committed) creates the file and kills
itself (SIGKILL: no clean-up of any kind), as a machine that loses power would; every later
import, that worker's retried job included, runs normally."""

import os
import signal

from catalog.reports.importer import pipeline
from wsgi import app  # noqa: F401  (what `flask --app` serves)

_write_videos = pipeline.write_videos


def _die_once_after_writing(*args):
    result = _write_videos(*args)
    marker = os.environ.get("CLUSTER_DIE_ONCE")
    if marker:
        try:
            os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return result
        os.kill(os.getpid(), signal.SIGKILL)
    return result


pipeline.write_videos = _die_once_after_writing
