"""`make run`: the development server with a worker beside it, so queued work (report
imports, syncs) gets done on a newcomer's machine too; the worker stops with the server.

    python -m catalog.jobs.launch [flask run options...]

A worker that exits while the server runs (it crashed, or was stopped by hand) is started
again, after a pause that doubles while workers keep exiting soon after they start.

Ctrl+C reaches both (same process group): the server exits and the worker finishes its
current job. A worker still busy after STOP_TIMEOUT seconds is killed; its job is not lost:
the next worker's stalled-job check hands it out again.
"""

import signal
import subprocess
import sys
import time
from collections.abc import Callable

FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]
STOP_TIMEOUT = 15  # seconds
RESTART_WAIT = 1.0  # seconds before starting a worker again; doubles while they keep exiting
RESTART_MAX_WAIT = 60.0
STEADY = 60.0  # a worker that ran this long before it exited starts again at RESTART_WAIT


def stop(process: subprocess.Popen, timeout: float = STOP_TIMEOUT) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        print(f"The worker is still busy after {timeout} s: stopping it.", file=sys.stderr)
        process.kill()
        process.wait()


def supervise(
    server: subprocess.Popen,
    start_worker: Callable[[], subprocess.Popen],
    *,
    poll: float = 0.5,
    first_wait: float = RESTART_WAIT,
    longest_wait: float = RESTART_MAX_WAIT,
) -> int:
    """Keep a worker running until the server exits; the server's exit code. Both are
    stopped on the way out (an interrupt included)."""
    worker = start_worker()
    started, quick_exits, restart_at = time.monotonic(), 0, None
    try:
        while True:
            try:
                return server.wait(timeout=poll)
            except subprocess.TimeoutExpired:
                pass
            if worker.poll() is None:
                continue
            now = time.monotonic()
            if restart_at is None:
                quick_exits = 0 if now - started >= STEADY else quick_exits + 1
                delay = min(longest_wait, first_wait * 2 ** max(0, quick_exits - 1))
                print(
                    f"The worker exited (code {worker.returncode}); "
                    f"starting another in {delay:g} s.",
                    file=sys.stderr,
                )
                restart_at = now + delay
            elif now >= restart_at:
                worker = start_worker()
                started, restart_at = now, None
    finally:
        stop(server, timeout=5)
        stop(worker)


def main(run_options: list[str]) -> int:
    def start_worker() -> subprocess.Popen:
        return subprocess.Popen([*FLASK, "catalog", "worker"])  # noqa: S603  (fixed command)

    server = subprocess.Popen([*FLASK, "run", *run_options])  # noqa: S603
    try:
        return supervise(server, start_worker)
    except KeyboardInterrupt:
        return server.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
