"""docker-compose.yml cannot run here (no Docker engine), so its structure is checked instead."""

from __future__ import annotations

from pathlib import Path

import yaml

from bithedge.services import SERVICES
from tests.conftest import REPO

COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
INFRA = {"db", "migrate"}


def test_every_registered_daemon_has_a_compose_service() -> None:
    assert {s.name for s in SERVICES} <= set(COMPOSE["services"])


def test_daemons_share_one_image_with_healthchecks_and_wait_for_migrations() -> None:
    for name, svc in COMPOSE["services"].items():
        if name == "db":
            assert svc["image"].startswith("postgres:18")
            assert "healthcheck" in svc
            continue
        assert svc["build"] == "." and svc["image"] == "bithedge:local", name
        assert svc["environment"]["DATABASE_URL"].startswith("postgresql://") and "@db:" in svc["environment"]["DATABASE_URL"]
        if name == "migrate":
            assert svc["depends_on"]["db"]["condition"] == "service_healthy"
            assert svc["restart"] == "no"
        else:
            assert svc["depends_on"]["migrate"]["condition"] == "service_completed_successfully", name
            assert "healthcheck" in svc, f"{name} needs a healthcheck"


def test_published_ports_are_loopback_only() -> None:
    for name, svc in COMPOSE["services"].items():
        for port in svc.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"


def test_dockerfile_runs_as_unprivileged_user_and_uses_the_lock() -> None:
    text = (REPO / "Dockerfile").read_text()
    assert "requirements.lock" in text and "USER bithedge" in text
    assert Path(REPO / ".dockerignore").read_text().count(".venv") >= 1
