"""`make run`: the development server with a worker beside it, so queued work (report
imports, syncs) gets done on a newcomer's machine too; the worker stops with the server.

    python -m catalog.jobs.launch [flask run options...]

Ctrl+C reaches both (same process group): the server exits and the worker finishes its
current job. A worker still busy after STOP_TIMEOUT seconds is killed; its job is not lost:
the next worker's stalled-job check hands it out again.
"""

import signal
import subprocess
import sys

FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]
STOP_TIMEOUT = 15  # seconds


def stop(process: subprocess.Popen, timeout: float = STOP_TIMEOUT) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        print(f"The worker is still busy after {timeout} s: stopping it.", file=sys.stderr)
        process.kill()
        process.wait()


def main(run_options: list[str]) -> int:
    worker = subprocess.Popen([*FLASK, "catalog", "worker"])  # noqa: S603  (fixed command)
    server = subprocess.Popen([*FLASK, "run", *run_options])  # noqa: S603
    try:
        return server.wait()
    except KeyboardInterrupt:
        return server.wait()
    finally:
        stop(server, timeout=5)
        stop(worker)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
