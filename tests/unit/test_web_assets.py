"""The workspace's templates and vendored assets ship in the wheel, htmx with its licence and
its origin written down, and its map projection keeps places apart and inside the frame."""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path

from claimledger.api.web import maps, routes

ROOT = Path(__file__).parents[2]


def test_every_template_and_asset_is_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["claimledger.api.web"]
    shipped = {path for pattern in patterns for path in routes.HERE.glob(pattern) if path.is_file()}
    present = {
        path
        for folder in ("templates", "static")
        for path in (routes.HERE / folder).rglob("*")
        if path.is_file()
    }
    assert present, "no templates or assets"
    assert present <= shipped, f"not in the wheel: {sorted(map(str, present - shipped))}"


def test_htmx_has_its_licence_and_its_digest_in_the_readme() -> None:
    static = routes.HERE / "static"
    readme = (static / "README.md").read_text()
    script = static / routes.HTMX / "htmx.min.js"
    assert (static / routes.HTMX / "LICENSE").is_file()
    assert f"`{routes.HTMX}/`" in readme
    assert hashlib.sha256(script.read_bytes()).hexdigest() in readme


def test_the_map_keeps_places_apart_and_inside_the_frame() -> None:
    drawn = maps.draw(
        [
            maps.Place(51.2725, 34.3033, "Tyotkino"),
            maps.Place(50.6, 36.6, "Belgorod", kind="evidence"),
        ]
    )
    assert drawn is not None
    (tyotkino, belgorod) = drawn.markers
    for marker in drawn.markers:
        assert 0 < marker.x < drawn.width
        assert 0 < marker.y < drawn.height
    assert belgorod.x > tyotkino.x  # east is right
    assert belgorod.y > tyotkino.y  # south is down
    assert any(line.label.endswith("°N") for line in drawn.lines)
    assert any(line.label.endswith("°E") for line in drawn.lines)
    assert maps.draw([]) is None
    one = maps.draw([maps.Place(-33.9, 18.4, "Cape Town")])
    assert one is not None
    assert (one.markers[0].x, one.markers[0].y) == (one.width / 2, one.height / 2)
