"""`make run`'s launcher keeps a worker beside the server: one that exits is started again."""

import subprocess
import sys
import threading

from catalog.jobs import launch
from tests.jobs.conftest import wait_for

# A worker that says who it is and exits at once, as one that crashes on start would.
EXITING_WORKER = "import os, sys; open(sys.argv[1], 'a').write(f'{os.getpid()}\\n'); sys.exit(3)"
# A server that runs until its input is closed.
SERVER = "import sys; sys.stdin.read()"


def test_a_worker_that_exits_is_started_again_until_the_server_stops(tmp_path, capsys):
    pids = tmp_path / "workers"
    pids.touch()
    server = subprocess.Popen([sys.executable, "-c", SERVER], stdin=subprocess.PIPE)  # noqa: S603
    workers: list[subprocess.Popen] = []

    def start_worker() -> subprocess.Popen:
        workers.append(
            subprocess.Popen([sys.executable, "-c", EXITING_WORKER, str(pids)])  # noqa: S603
        )
        return workers[-1]

    returned: list[int] = []
    supervisor = threading.Thread(
        target=lambda: returned.append(
            launch.supervise(server, start_worker, poll=0.02, first_wait=0.05, longest_wait=0.2)
        )
    )
    supervisor.start()
    try:
        wait_for(lambda: len(pids.read_text().split()) >= 4, 20, "three restarts of the worker")
    finally:
        server.stdin.close()  # the server exits: the launcher stops too
        supervisor.join(timeout=20)
    assert not supervisor.is_alive()
    assert returned == [0]
    started = pids.read_text().split()
    assert len(set(started)) == len(started) >= 4  # a new process each time
    assert all(worker.poll() is not None for worker in workers)  # none left behind
    # Each restart is announced; the pause doubles while workers keep exiting at once.
    errors = capsys.readouterr().err
    assert "The worker exited (code 3); starting another in 0.05 s." in errors
    assert "starting another in 0.1 s." in errors
    assert "starting another in 0.2 s." in errors
