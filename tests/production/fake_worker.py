"""A complete fake pipeline worker, run as a subprocess by test_fake_worker.py: Python's
standard library only (urllib), speaking HTTP to a real server, as an external worker would.
It shares no code with Catalog on purpose: it is the API's outside view.

    python tests/production/fake_worker.py URL TOKEN

It takes one task through every stage, from queued to published. Its video stage fails the
first time. Whenever a claim finds nothing waiting (a person has to act: approve, retry), it
prints {"event": "idle", ...} and waits for a line on stdin before claiming again, so the
test acts in between without either side sleeping. Each answer it gets is printed as a JSON
line; the last is {"event": "published", ...}. Any unexpected answer exits non-zero."""

import json
import sys
import urllib.error
import urllib.request

# stage, the result link it reports (None: the upload reports the YouTube URL)
STAGES = [
    ("assets", "asset_url"), ("composites", "composite_url"), ("video", "video_url"),
    ("audio", "audio_url"), ("sfx", "sfx_url"), ("assembly", "final_url"), ("upload", None),
]  # fmt: skip
FAILING_STAGE = "video"
YOUTUBE_URL = "https://youtu.be/Fak3W0rker1"


class Worker:
    def __init__(self, url: str, token: str):
        self.url = url.rstrip("/") + "/api/pipeline/"
        self.token = token
        self.calls = 0

    def call(self, path: str, body: dict | None = None) -> tuple[int, dict | None]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method="POST")  # noqa: S310
        request.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        self.calls += 1
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                raw = response.read()
                status = response.status
        except urllib.error.HTTPError as error:
            raw, status = error.read(), error.code
        answer = json.loads(raw) if raw else None
        emit({"event": "answer", "call": path, "status": status, "body": answer})
        return status, answer

    def expect(self, path: str, body: dict | None = None, status: int = 200) -> dict | None:
        got, answer = self.call(path, body)
        if got != status:
            emit({"event": "unexpected", "call": path, "status": got, "body": answer})
            sys.exit(2)
        return answer

    def claim(self, stage: str) -> dict:
        """Claim until a task comes; while none does, say so and wait for the test."""
        while True:
            status, answer = self.call("claim", {"stage": stage})
            if status == 200:
                return answer["task"]
            if status != 204:
                sys.exit(3)
            emit({"event": "idle", "stage": stage})
            if not sys.stdin.readline():
                sys.exit(4)  # the test has gone


def emit(event: dict) -> None:
    print(json.dumps(event), flush=True)


def main(url: str, token: str) -> None:
    worker = Worker(url, token)
    failed = False
    for stage, field in STAGES:
        while True:
            task = worker.claim(stage)
            path = f"tasks/{task['id']}/"
            if stage == "assets":
                # Reporting before starting does not fit the state: 409 with the state.
                conflict = worker.expect(path + "done", {"links": {field: "https://x.example/a"}},
                                         status=409)  # fmt: skip
                assert conflict["status"] == "claimed", conflict
                worker.expect(path + "start")
            worker.expect(path + "heartbeat")
            if stage == FAILING_STAGE and not failed:
                failed = True
                worker.expect(path + "fail", {"message": "renderer crashed: out of GPU memory"})
                continue  # claimed again once a person has retried it
            if field is None:
                final = worker.expect(path + "upload", {"youtube_url": YOUTUBE_URL})
            else:
                link = f"https://files.example.com/{task['id']}/{field}"
                worker.expect(path + "done", {"links": {field: link}})
            break
    emit({"event": "published", "task": final["task"], "calls": worker.calls})


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
