"""`flask catalog tasks demo-worker`: a pretend pipeline worker for the demo. It speaks to a
running Catalog over HTTP, with the same calls as any worker (catalog.production.api), and
moves tasks along at a human pace so that someone watching /production sees the board
change: it claims work for each stage its token allows (later stages first, so started
tasks finish before new ones start), reports results with made-up links, and now and then a
failure. The review gates are left to people: approve on the board and it carries on.

Standard library only for the HTTP side (urllib), as an external worker would be."""

import json
import os
import random
import string
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import click
from flask import current_app

from catalog.models.task import STAGES
from catalog.production import tasks_cli
from catalog.production.transitions import STAGE_FLOW
from catalog.web.text import plural

TOKEN_ENV = "CATALOG_WORKER_TOKEN"  # noqa: S105  (the variable's name, not a secret)
FAILURES = (
    "the image service timed out",
    "FFmpeg exited with status 1",
    "the voice service refused the script",
)


class ApiAnswer(Exception):
    """An answer the worker did not expect: its status and body."""

    def __init__(self, status: int, body: dict | None):
        super().__init__(f"{status}: {(body or {}).get('error', body)}")
        self.status = status
        self.body = body or {}


class PipelineClient:
    """The workers' API over HTTP: call(path, body) → (status, JSON body or None)."""

    def __init__(self, url: str, token: str, timeout: float = 30):
        self.base = url.rstrip("/") + "/api/pipeline/"
        self.token = token
        self.timeout = timeout

    def call(self, path: str, body: dict | None = None) -> tuple[int, dict | None]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method="POST")  # noqa: S310
        request.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        try:
            answer = json.loads(raw) if raw else None
        except ValueError:
            answer = {"error": raw[:200].decode(errors="replace")}
        return status, answer

    def expect(self, path: str, body: dict | None = None) -> dict:
        status, answer = self.call(path, body)
        if status != 200:
            raise ApiAnswer(status, answer)
        return answer["task"]


class DemoWorker:
    """Claims and reports; `say` tells what it does, `pause` waits between steps."""

    def __init__(
        self,
        client: PipelineClient,
        *,
        stages: tuple[str, ...] = STAGES,
        fail_rate: float = 0.1,
        rng: random.Random | None = None,
        say: Callable[[str], None] = click.echo,
        pause: Callable[[], None] = lambda: None,
    ):
        self.client = client
        # Later stages first: finish what has started before starting anything new.
        self.stages = tuple(reversed([stage for stage in STAGES if stage in stages]))
        self.fail_rate = fail_rate
        self.rng = rng or random.Random()
        self.say = say
        self.pause = pause

    def step(self) -> bool:
        """Claim one task of some stage and take it through that stage; False when no
        stage has work waiting."""
        for stage in self.stages:
            status, answer = self.client.call("claim", {"stage": stage})
            if status == 204:
                continue
            if status == 403:  # outside this token's stages: never ask again
                self.stages = tuple(s for s in self.stages if s != stage)
                continue
            if status != 200:
                raise ApiAnswer(status, answer)
            self.work(answer["task"], stage)
            return True
        return False

    def work(self, task: dict, stage: str) -> None:
        path = f"tasks/{task['id']}/"
        self.say(f"#{task['id']} {task['title']}: claimed for {stage}")
        self.pause()
        if task["status"] == "claimed":
            self.client.expect(path + "start")
            self.say(f"#{task['id']}: generating assets")
            self.pause()
        self.client.expect(path + "heartbeat")
        if self.rng.random() < self.fail_rate:
            message = self.rng.choice(FAILURES)
            self.client.expect(path + "fail", {"message": f"demo: {message}"})
            self.say(f"#{task['id']}: {stage} failed ({message}); retry it on the board")
        elif stage == "upload":
            video_id = "".join(self.rng.choices(string.ascii_letters + string.digits, k=11))
            done = self.client.expect(
                path + "upload", {"youtube_url": f"https://youtu.be/{video_id}"}
            )
            self.say(f"#{task['id']}: published as {done['youtube_url']}")
        else:
            field = STAGE_FLOW[stage]["result"]
            link = f"https://files.example.com/demo/{task['id']}/{field.removesuffix('_url')}"
            done = self.client.expect(path + "done", {"links": {field: link}})
            self.say(f"#{task['id']}: {stage} done, now {done['status'].replace('_', ' ')}")
        self.pause()


def _token_on_file() -> str | None:
    from catalog.demo import accounts as demo_accounts

    login_file = Path(current_app.instance_path) / demo_accounts.LOGIN_FILE
    return demo_accounts.read_worker_token(login_file)


@tasks_cli.command("demo-worker")
@click.option("--url", default="http://127.0.0.1:5000", show_default=True,
              help="Where Catalog runs.")  # fmt: skip
@click.option("--token", envvar=TOKEN_ENV,
              help=f"The worker's token (or ${TOKEN_ENV}; default: the demo worker's, as "
              "`make run` printed it).")  # fmt: skip
@click.option("--pace", type=click.FloatRange(min=0), default=3.0, show_default=True,
              help="Seconds between steps, so people can follow on the board.")  # fmt: skip
@click.option("--fail-rate", type=click.FloatRange(0, 1), default=0.1, show_default=True,
              help="How often a stage fails (its task goes to an error state).")  # fmt: skip
@click.option("--steps", type=click.IntRange(min=1),
              help="Stop after this many stages (default: run until Ctrl-C).")  # fmt: skip
@click.option("--until-idle", is_flag=True, help="Stop when no stage has work waiting.")
def demo_worker_command(
    url: str, token: str | None, pace: float, fail_rate: float, steps: int | None,
    until_idle: bool,
):  # fmt: skip
    """Run a pretend pipeline worker against a running Catalog (`make run`) that moves
    tasks along; approve and retry on /production to keep it busy. Ctrl-C stops it."""
    token = token or os.environ.get(TOKEN_ENV) or _token_on_file()
    if not token:
        raise click.ClickException(
            "No token: pass --token, or create a pipeline worker on /accounts/workers."
        )
    worker = DemoWorker(PipelineClient(url, token), fail_rate=fail_rate,
                        pause=lambda: time.sleep(pace))  # fmt: skip
    click.echo(f"Demo worker on {url}, a step every {pace:g} s. Ctrl-C stops it.")
    done = 0
    try:
        while steps is None or done < steps:
            if worker.step():
                done += 1
                continue
            if until_idle:
                break
            click.echo("Nothing waiting: approve or queue something on /production.")
            time.sleep(max(pace, 1.0))
    except KeyboardInterrupt:
        click.echo("\nStopped. A task it held returns to the queue when its lease runs out.")
    except ApiAnswer as exc:
        raise click.ClickException(f"Catalog answered {exc}") from exc
    except urllib.error.URLError as exc:
        raise click.ClickException(f"Cannot reach Catalog at {url}: {exc.reason}") from exc
    click.echo(f"Worked on {plural(done, 'stage')}.")
