"""The vendored docs assets ship in the wheel, each with its licence and its origin written down."""

from __future__ import annotations

import tomllib
from pathlib import Path

from claimledger.api import docs

ROOT = Path(__file__).parents[2]


def test_every_vendored_file_is_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["claimledger.api"]
    shipped = {
        path
        for pattern in patterns
        for path in docs.ASSETS_DIR.parent.glob(pattern)
        if path.is_file()
    }
    present = {path for path in docs.ASSETS_DIR.rglob("*") if path.is_file()}
    assert present, "no docs assets"
    assert present <= shipped, f"not in the wheel: {sorted(map(str, present - shipped))}"


def test_each_vendored_package_has_its_licence_and_a_line_in_the_readme() -> None:
    readme = (docs.ASSETS_DIR / "README.md").read_text()
    folders = [docs.SWAGGER_UI, docs.REDOC, docs.RAPIDOC]
    assert sorted(folders) == sorted(p.name for p in docs.ASSETS_DIR.iterdir() if p.is_dir())
    for folder in folders:
        files = {path.name for path in (docs.ASSETS_DIR / folder).iterdir()}
        assert files & {"LICENSE", "LICENSE.txt"}, f"{folder} has no licence"
        assert f"`{folder}/`" in readme, f"{folder} is not described in the README"
