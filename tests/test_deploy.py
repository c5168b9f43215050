"""The deployment files that cannot run on this machine (containers, systemd) are checked
for syntax and for what they must say; HAProxy's and PgBouncer's are also run by
tests/cluster/, gunicorn's by the cluster and by `make serve`."""

import configparser
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from catalog import ROOT

DEPLOY = ROOT / "deploy"
DOCKER_INSTRUCTIONS = {
    "FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
    "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL",
}  # fmt: skip


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(instruction, arguments) of each logical line: comments dropped, continuations
    joined; what a Docker build reads first."""
    joined = re.sub(r"\\\n", " ", "\n".join(
        line for line in text.splitlines() if not line.lstrip().startswith("#")
    ))  # fmt: skip
    found = []
    for line in joined.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            found.append((word, rest.strip()))
    return found


def test_the_dockerfile_runs_gunicorn_as_process_one():
    instructions = dockerfile_instructions((DEPLOY / "Dockerfile").read_text())
    assert instructions[0][0] == "FROM"
    unknown = [word for word, _ in instructions if word not in DOCKER_INSTRUCTIONS]
    assert not unknown
    cmd = [rest for word, rest in instructions if word == "CMD"]
    assert len(cmd) == 1
    assert json.loads(cmd[0]) == ["gunicorn", "--config", "deploy/gunicorn.conf.py"]  # exec form
    assert not [word for word, _ in instructions if word == "ENTRYPOINT"]
    for word, rest in instructions:
        if word == "COPY":
            sources = [part for part in rest.split() if not part.startswith("--")][:-1]
            assert all((ROOT / source).exists() for source in sources), rest
    assert ("USER", "catalog") in instructions


def test_the_compose_file_migrates_once_before_web_and_worker():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "migrate", "web", "worker"}
    assert services["migrate"]["command"][-2:] == ["db", "upgrade"]
    assert services["migrate"]["restart"] == "no"
    for name in ("web", "worker"):
        condition = services[name]["depends_on"]["migrate"]["condition"]
        assert condition == "service_completed_successfully", name
        assert services[name]["build"]["dockerfile"] == "deploy/Dockerfile"
    assert services["worker"]["command"][-2:] == ["catalog", "worker"]
    assert "command" not in services["web"]  # the image's CMD: gunicorn as process 1


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # systemd's keys are case-sensitive
    parser.read_string((DEPLOY / "systemd" / name).read_text())
    return parser


def test_the_systemd_units_start_gunicorn_and_a_worker():
    web, worker = unit("catalog-web.service"), unit("catalog-worker.service")
    for parsed in (web, worker):
        assert set(parsed.sections()) == {"Unit", "Service", "Install"}
        assert parsed["Install"]["WantedBy"] == "multi-user.target"
    assert "deploy/gunicorn.conf.py" in web["Service"]["ExecStart"]
    assert web["Service"]["ExecReload"] == "/bin/kill -s HUP $MAINPID"
    assert "catalog worker" in worker["Service"]["ExecStart"]
    assert "WORKER_DATABASE_URL" in worker["Service"]["ExecStart"]  # not through PgBouncer


@pytest.mark.parametrize("name", ["catalog-web.service", "catalog-worker.service"])
def test_systemd_accepts_the_units(name, tmp_path):
    # What this machine lacks (the install under /opt, its user, its env file) is swapped for
    # what it has; every directive is systemd's to judge.
    text = (DEPLOY / "systemd" / name).read_text()
    text = text.replace("/opt/catalog/.venv/bin/gunicorn", "/bin/true")
    text = text.replace("EnvironmentFile=/", "EnvironmentFile=-/")
    text = re.sub(r"^(User|Group)=catalog$", r"\1=root", text, flags=re.M)
    (tmp_path / name).write_text(text)
    analyze = shutil.which("systemd-analyze")  # Debian's systemd: make system-deps
    assert analyze, "systemd-analyze is missing: run `make system-deps`"
    result = subprocess.run(  # noqa: S603  (a fixed command on a file this test wrote)
        [analyze, "verify", str(tmp_path / name)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "Unknown key" not in result.stderr
    assert "Unknown section" not in result.stderr


def test_haproxy_accepts_its_configuration():
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not os.path.exists(haproxy):
        pytest.fail("HAProxy is missing: `make system-deps` installs it")
    result = subprocess.run([haproxy, "-c", "-f", str(DEPLOY / "haproxy.cfg")],  # noqa: S603
                            capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    text = (DEPLOY / "haproxy.cfg").read_text()
    for line in ("balance roundrobin", "option redispatch", "http-check expect status 200",
                 "retry-on conn-failure empty-response response-timeout"):  # fmt: skip
        assert line in text
    assert "uri /health/ready" in text


def test_pgbouncer_pools_transactions_for_the_web():
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string((DEPLOY / "pgbouncer.ini").read_text())
    assert parser["pgbouncer"]["pool_mode"] == "transaction"
    assert "catalog" in parser["databases"]


def test_the_gunicorn_configuration_reads_the_environment():
    script = (
        "import runpy, json; c = runpy.run_path('deploy/gunicorn.conf.py'); "
        "print(json.dumps({k: c[k] for k in ('workers', 'threads', 'worker_class', 'timeout',"
        " 'max_requests', 'max_requests_jitter', 'bind', 'worker_tmp_dir', 'accesslog')}))"
    )
    env = {**os.environ, "GUNICORN_WORKERS": "3", "GUNICORN_THREADS": "4",
           "GUNICORN_MAX_REQUESTS": "500", "GUNICORN_BIND": "127.0.0.1:9999"}  # fmt: skip
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env,  # noqa: S603
                         capture_output=True, text=True, check=True)  # fmt: skip
    settings = json.loads(out.stdout)
    assert settings["workers"] == 3
    assert (settings["threads"], settings["worker_class"]) == (4, "gthread")
    assert settings["max_requests"] == 500
    assert settings["max_requests_jitter"] > 0
    assert settings["bind"] == ["127.0.0.1:9999"]
    assert settings["accesslog"] == "-"
    shm = "/dev/shm"  # noqa: S108  (only compared with)
    if os.path.isdir(shm):
        assert settings["worker_tmp_dir"] == shm


@pytest.mark.parametrize(
    ("missing", "message"),
    [("DATABASE_URL", "without a database"), ("SECRET_KEY", "with development secrets")],
)
def test_gunicorn_refuses_to_serve_without_a_database_or_the_secrets(missing, message):
    env = {
        **os.environ, "DATABASE_URL": "postgresql+psycopg://catalog@/catalog?host=/nowhere",
        "SECRET_KEY": "k" * 40, "SECURITY_PASSWORD_SALT": "s" * 40,
        "SECURITY_TOTP_SECRET": "t" * 40, "GUNICORN_BIND": "127.0.0.1:0",
    }  # fmt: skip
    env.pop("CATALOG_ENV", None)  # the configuration makes it a production process
    env.pop(missing)
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    result = subprocess.run(  # noqa: S603  (our own venv's gunicorn)
        [gunicorn, "--config", str(DEPLOY / "gunicorn.conf.py")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 3, result.stdout + result.stderr
    assert f"Refusing to start in production {message}" in result.stdout + result.stderr
