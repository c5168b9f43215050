"""The app of the report tests' worker processes. With REPORTS_TEST_DIE_IN_APPLY set, the
worker kills itself (SIGKILL) in the middle of an import: after the videos and their audit
rows are written, before the commit."""

import os
import signal

from catalog import create_app
from catalog.reports.importer import pipeline

app = create_app({"TESTING": True, "SECRET_KEY": "test-secret-key"})

if os.environ.get("REPORTS_TEST_DIE_IN_APPLY"):
    _apply = pipeline.write_videos

    def _die_after_writing(*args):
        _apply(*args)
        os.kill(os.getpid(), signal.SIGKILL)

    pipeline.write_videos = _die_after_writing
