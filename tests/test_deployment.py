"""docker-compose.yml, the Dockerfile and the systemd unit, checked without a Docker engine."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import yaml

from pipeline.config import parse_config
from pipeline.store.db import normalise_database_url
from tests.support.configs import shipped_document

ROOT = Path(__file__).parents[1]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_services_images_and_volumes() -> None:
    document = compose()
    services = document["services"]
    assert set(services) == {"db", "mail", "newswatch"}
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


def test_shipped_config_resolves_with_compose_environment(monkeypatch) -> None:
    for key, value in compose()["services"]["newswatch"]["environment"].items():
        monkeypatch.setenv(key, str(value))
    config = parse_config(shipped_document())
    assert config.database.startswith("postgresql://newswatch:")
    assert config.web.address == ("0.0.0.0", 9180)
    published = compose()["services"]["newswatch"]["ports"]
    assert any(port.endswith(":9180") for port in published)


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
