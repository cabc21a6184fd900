"""docker-compose.yml, the Dockerfile and the systemd unit, checked without a Docker engine."""

from __future__ import annotations

import configparser
import json
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from pipeline.config import parse_config
from pipeline.store.db import normalise_database_url
from tests.support.configs import shipped_document
from tests.support.servers import free_port

ROOT = Path(__file__).parents[1]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_services_images_and_volumes() -> None:
    document = compose()
    services = document["services"]
    assert set(services) == {"db", "mail", "newswatch", "worker"}
    assert re.fullmatch(r"postgres:\d+", services["db"]["image"])
    assert services["mail"]["image"].startswith("axllent/mailpit:")
    assert services["newswatch"]["build"] == "."
    assert "healthcheck" in services["db"] and "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    assert services["newswatch"]["depends_on"]["db"]["condition"] == "service_healthy"
    declared_volumes = set(document["volumes"])
    for service in services.values():
        for mount in service.get("volumes", []):
            source = mount.split(":", 1)[0]
            if not source.startswith((".", "/")):
                assert source in declared_volumes, f"volume {source} is not declared"
    assert any(mount.endswith("/var/lib/postgresql/data") for mount in services["db"]["volumes"])


def test_compose_wires_the_database_url_to_the_db_service() -> None:
    services = compose()["services"]
    environment = services["newswatch"]["environment"]
    db = services["db"]["environment"]
    url = environment["NEWSWATCH_DATABASE"]
    expected = f"postgresql://{db['POSTGRES_USER']}:{db['POSTGRES_PASSWORD']}@db:5432/{db['POSTGRES_DB']}"
    assert url == expected
    assert normalise_database_url(url).startswith("postgresql+psycopg://")
    # The shipped config reads exactly these variables, so compose's values reach newswatch.
    shipped = (ROOT / "config" / "newswatch.yaml").read_text()
    for variable in ("NEWSWATCH_DATABASE", "SMTP_HOST", "SMTP_PORT", "NEWSWATCH_WEB_LISTEN"):
        assert variable in environment and "${" + variable in shipped, variable
    assert environment["SMTP_HOST"] == "mail"


def test_compose_worker_service_scales_and_shares_the_daemons_database_and_config() -> None:
    services = compose()["services"]
    worker, daemon = services["worker"], services["newswatch"]
    # `--scale worker=N` needs no fixed name and no published port (N containers would clash).
    assert "container_name" not in worker and "ports" not in worker
    assert worker["deploy"]["replicas"] == 0
    entrypoint = re.search(r"^ENTRYPOINT (.+)$", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    assert json.loads(entrypoint.group(1)) == ["newswatch"] and worker["command"][:1] == ["worker"]
    assert worker["command"][worker["command"].index("--config") + 1] == "/app/config/newswatch.yaml"
    assert worker["build"] == daemon["build"]
    assert worker["depends_on"]["db"]["condition"] == "service_healthy"
    assert worker["environment"]["NEWSWATCH_DATABASE"] == daemon["environment"]["NEWSWATCH_DATABASE"]
    assert "./config:/app/config:ro" in worker["volumes"]
    assert worker["stop_grace_period"]
    assert "--scale worker=" in (ROOT / "docker-compose.yml").read_text()


def test_shipped_config_resolves_with_compose_environment(monkeypatch) -> None:
    for key, value in compose()["services"]["newswatch"]["environment"].items():
        monkeypatch.setenv(key, str(value))
    config = parse_config(shipped_document())
    assert config.database.startswith("postgresql://newswatch:")
    assert config.web.address == ("0.0.0.0", 9180)
    published = compose()["services"]["newswatch"]["ports"]
    assert any(port.endswith(":9180") for port in published)


def test_compose_mounts_the_config_where_the_images_cmd_reads_it() -> None:
    cmd = json.loads(re.search(r"^CMD (.+)$", (ROOT / "Dockerfile").read_text(), re.MULTILINE).group(1))
    config_path = Path(cmd[cmd.index("--config") + 1])
    mounts = compose()["services"]["newswatch"]["volumes"]
    assert f"./config:{config_path.parent}:ro" in mounts
    # The image's SQLite default is in its data volume, which compose mounts (and overrides with PostgreSQL).
    assert any(mount.endswith(":/app/data") for mount in mounts)
    assert "ENV NEWSWATCH_DATABASE=sqlite:////app/data/" in (ROOT / "Dockerfile").read_text()


def test_dockerfile_installs_the_package_and_runs_the_daemon() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11", dockerfile, re.MULTILINE)
    assert "pip install ." in dockerfile
    assert 'ENTRYPOINT ["newswatch"]' in dockerfile and '"run"' in dockerfile
    assert re.search(r"^USER \w+", dockerfile, re.MULTILINE), "the daemon must not run as root"


def test_systemd_unit() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(ROOT / "deploy" / "newswatch.service")
    service = unit["Service"]
    assert service["ExecStart"].endswith("newswatch run")
    assert service["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert int(service["TimeoutStopSec"]) > 30  # newswatch's own shutdown bound
    assert unit["Install"]["WantedBy"] == "multi-user.target"


# --- the deployments start: the unit's and the image's own commands, run outside systemd and Docker ---

VENV_BIN = Path(sys.executable).parent
STOP_TIMEOUT = 45  # the unit's TimeoutStopSec


def unit_service_entries() -> list[tuple[str, str]]:
    """[Service] key=value pairs in order; repeated keys (Environment=) are kept, unlike configparser."""
    entries: list[tuple[str, str]] = []
    section = ""
    for raw in (ROOT / "deploy" / "newswatch.service").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
        elif section == "Service":
            key, _, value = line.partition("=")
            entries.append((key.strip(), value.strip()))
    return entries


def substitute(text: str, mapping: dict[str, Path]) -> str:
    for fixed, replacement in mapping.items():
        text = text.replace(fixed, str(replacement))
    return text


def environment_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip().strip('"')
    return values


def start_and_stop(command: list[str], env: dict[str, str], cwd: Path, listen_port: int) -> str:
    """Start the daemon, wait until its status endpoint accepts connections, SIGTERM it, and return
    its output; fails unless it started and then exited 0 within the stop timeout."""
    daemon = subprocess.Popen(
        command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert daemon.poll() is None, f"exited {daemon.returncode}:\n{daemon.communicate()[0]}"
            assert time.monotonic() < deadline, "the status endpoint never came up"
            try:
                socket.create_connection(("127.0.0.1", listen_port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        daemon.send_signal(signal.SIGTERM)
        output = daemon.communicate(timeout=STOP_TIMEOUT)[0]
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.communicate()
    assert daemon.returncode == 0, output
    return output


@pytest.mark.slow
def test_the_systemd_units_commands_start_newswatch_from_a_copied_config(tmp_path: Path) -> None:
    """The install steps in the unit's header, then exactly its ExecStartPre and ExecStart."""
    etc, state = tmp_path / "etc" / "newswatch", tmp_path / "var" / "lib" / "newswatch"
    etc.mkdir(parents=True)
    state.mkdir(parents=True)
    # Installed like the unit's header says: the config alone, without the repository around it.
    shutil.copy(ROOT / "config" / "newswatch.yaml", etc / "newswatch.yaml")
    port = free_port()
    (etc / "secrets.env").write_text(f"NEWSWATCH_WEB_LISTEN=127.0.0.1:{port}\n")
    mapping = {"/opt/newswatch/bin": VENV_BIN, "/etc/newswatch": etc, "/var/lib/newswatch": state}

    entries = unit_service_entries()
    # systemd starts services with an almost empty environment, not the shell's.
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(state)}
    for key, value in entries:
        if key == "Environment":
            for assignment in shlex.split(substitute(value, mapping)):
                name, _, setting = assignment.partition("=")
                env[name] = setting
        elif key == "EnvironmentFile":
            optional, path = value.startswith("-"), Path(substitute(value.lstrip("-"), mapping))
            if path.exists() or not optional:
                env.update(environment_file(path))
    cwd = Path(substitute(dict(entries)["WorkingDirectory"], mapping))
    pre = [shlex.split(substitute(value, mapping)) for key, value in entries if key == "ExecStartPre"]
    start = [shlex.split(substitute(value, mapping)) for key, value in entries if key == "ExecStart"]
    assert pre and len(start) == 1

    for command in pre:
        done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        if "check-config" in command:
            # The fixtures are not installed: their examples are skipped with a warning, not failed.
            assert "golden examples: 0 of 0 as expected (6 skipped: file not found)" in done.stdout
            assert "WARNING topics.usfj-reorganisation.examples.match[0]" in done.stdout
    output = start_and_stop(start[0], env, cwd, port)
    assert "received SIGTERM" in output
    # The database went where the unit says, not beside the config in read-only /etc.
    assert (state / "newswatch.db").is_file()
    assert not (etc / "data").exists()


def dockerfile_instructions() -> list[tuple[str, str]]:
    lines = (ROOT / "Dockerfile").read_text().replace("\\\n", " ").splitlines()
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line.strip() else "")
        for line in lines
        if line.strip() and not line.lstrip().startswith("#")
    ]


@pytest.mark.slow
def test_the_docker_images_entrypoint_and_cmd_start_newswatch(tmp_path: Path) -> None:
    """The image's file layout (its COPY lines), its ENV, and exactly its ENTRYPOINT + CMD.

    There is no Docker engine here: `pip install .` is the test's own virtual environment."""
    app = tmp_path / "app"
    instructions = dockerfile_instructions()
    workdir = next(value for key, value in instructions if key == "WORKDIR")
    assert workdir == "/app"
    mapping = {"/app": app}
    for key, value in instructions:
        if key == "COPY":
            *sources, destination = value.split()
            target = app / destination
            for source in sources:
                origin = ROOT / source
                if origin.is_dir():
                    shutil.copytree(origin, target, dirs_exist_ok=True)
                else:
                    target.mkdir(parents=True, exist_ok=True)
                    shutil.copy(origin, target)
    (app / "data").mkdir()  # the RUN line's mkdir; the volume's mount point
    port = free_port()
    env = {"PATH": f"{VENV_BIN}:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(app)}
    for key, value in instructions:
        if key == "ENV":
            for assignment in shlex.split(value):
                name, _, setting = assignment.partition("=")
                env[name] = substitute(setting, mapping)
    env["NEWSWATCH_WEB_LISTEN"] = f"127.0.0.1:{port}"  # as docker-compose.yml sets it (on a free port)
    entrypoint = json.loads(next(value for key, value in instructions if key == "ENTRYPOINT"))
    cmd = json.loads(next(value for key, value in instructions if key == "CMD"))
    command = [substitute(part, mapping) for part in entrypoint + cmd]

    assert cmd[0] == "run"
    # The image ships the fixtures, so the example config's golden examples all run there.
    check = [*command[: len(entrypoint)], "check-config", *command[len(entrypoint) + 1 :]]
    done = subprocess.run(check, env=env, cwd=app, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "golden examples: 6 of 6 as expected\n" in done.stdout, done.stdout

    start_and_stop(command, env, app, port)
    assert (app / "data" / "newswatch.db").is_file()
    assert not (app / "config" / "data").exists()
