"""The workspace's maps: Web Mercator as tile servers cut it, every place inside the box, and the
tiles under each place the ones a tile server numbers for it."""

from __future__ import annotations

import math

import pytest

from claimledger.api.web.maps import HEIGHT, TILE, WIDTH, Place, draw, svg
from claimledger.runtime.settings import Settings

TYOTKINO = Place(51.2725, 34.3033, "Tyotkino")
BELGOROD = Place(50.5954, 36.5873, "Belgorod")
KYIV = Place(50.4501, 30.5234, "Kyiv")


def slippy(lat: float, lon: float, zoom: int) -> tuple[int, int]:
    """The tile holding a point, by the tile servers' own formula."""
    n = 2**zoom
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return x, y


@pytest.mark.parametrize("places", [[TYOTKINO], [TYOTKINO, BELGOROD], [TYOTKINO, BELGOROD, KYIV]])
def test_every_place_lies_inside_the_box_and_on_its_own_tile(places: list[Place]) -> None:
    drawn = draw(places, "/t/{z}/{x}/{y}.png")
    assert drawn is not None
    zoom = int(drawn.tiles[0].href.split("/")[2])
    for marker in drawn.markers:
        assert 0 < marker.x < WIDTH
        assert 0 < marker.y < HEIGHT
        x, y = slippy(marker.place.lat, marker.place.lon, zoom)
        under = [t for t in drawn.tiles if t.href == f"/t/{zoom}/{x}/{y}.png"]
        assert len(under) == 1, (marker, zoom)
        tile = under[0]
        assert tile.x <= marker.x < tile.x + TILE
        assert tile.y <= marker.y < tile.y + TILE
    # The tiles cover the whole box, and no more than one row and column beyond it.
    assert min(t.x for t in drawn.tiles) <= 0
    assert max(t.x for t in drawn.tiles) + TILE >= WIDTH
    assert min(t.y for t in drawn.tiles) <= 0
    assert max(t.y for t in drawn.tiles) + TILE >= HEIGHT
    assert len(drawn.tiles) <= (WIDTH // TILE + 2) * (HEIGHT // TILE + 2)


def test_without_a_tile_server_there_are_no_tiles_and_places_still_show() -> None:
    drawn = draw([TYOTKINO, BELGOROD])
    assert drawn is not None
    assert drawn.tiles == []
    assert len(drawn.markers) == 2
    assert drawn.lines, "a graticule gives the places their coordinates"
    assert draw([]) is None


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        ("", None),
        ("https://tiles.example.org/{z}/{x}/{y}.png", "https://tiles.example.org/{z}/{x}/{y}.png"),
        ("/tiles/{z}/{x}/{y}.png", "/tiles/{z}/{x}/{y}.png"),
    ],
)
def test_the_tile_setting(value: str, kept: str | None) -> None:
    env = {"CLAIMLEDGER_MAP_TILES_URL": value}
    assert Settings.from_env(env).map_tiles_url == kept


@pytest.mark.parametrize(
    "value", ["https://tiles.example.org/{z}/{x}.png", "ftp://t/{z}/{x}/{y}", "t/{z}/{x}/{y}"]
)
def test_a_tile_setting_without_its_place_holders_or_scheme_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match=r"is neither|does not name"):
        Settings.from_env({"CLAIMLEDGER_MAP_TILES_URL": value})


def test_the_figure_escapes_every_label_and_link_and_lists_each_place() -> None:
    places = [
        Place(51.2725, 34.3033, 'Tyotkino <b>&"', None, "incident"),
        Place(51.28, 34.31, "video by <script>", '#statement-1"><x', "evidence"),
    ]
    html = str(svg(draw(places, "/t/{z}/{x}/{y}.png?a=1&b=2"), "Map <of> it"))
    assert html.startswith('<figure class="map"><svg viewBox="0 0 640 360" role="img"')
    assert "<b>" not in html
    assert "<script>" not in html
    assert '"><x' not in html
    assert "Map &lt;of&gt; it" in html
    assert "Tyotkino &lt;b&gt;&amp;&#34;" in html
    assert html.count('<circle cx="') == 2
    assert html.count('<li><span class="key key-') == 2
    assert 'href="#statement-1&#34;&gt;&lt;x"' in html
    assert "?a=1&amp;b=2" in html
    assert html.count('class="marker marker-incident"') == 1
    assert 'class="marker marker-evidence"' in html
    assert 'r="5"' in html
    assert 'r="7"' in html
    assert str(svg(None, "nothing")) == ""
