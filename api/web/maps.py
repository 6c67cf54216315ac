"""Maps drawn on the server as SVG: places as markers with a graticule, over map tiles when a tile
server is configured.

The points are projected here (Web Mercator, the projection of the usual tile servers) into a box
a template draws, so a map needs no script. Without ``CLAIMLEDGER_MAP_TILES_URL`` nothing is asked
of anyone (no request leaves the server) and the places show on a plain background with their
coordinates; with it, the tiles under the box are drawn beneath the markers, and a tile that does
not load leaves the places where they are.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

from claimledger.api.web.html import text

WIDTH = 640
HEIGHT = 360
TILE = 256
_MARGIN = 28
_MAX_ZOOM = 16
# Web Mercator stops short of the poles.
_MAX_LAT = 85.05112878
_STEPS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 45.0, 90.0)


@dataclass(frozen=True, slots=True)
class Place:
    """A point to draw: where, what it is called, where its link leads, what kind it is."""

    lat: float
    lon: float
    label: str
    href: str | None = None
    kind: str = "incident"


@dataclass(frozen=True, slots=True)
class Marker:
    x: float
    y: float
    place: Place


@dataclass(frozen=True, slots=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    label: str


@dataclass(frozen=True, slots=True)
class Tile:
    """One tile image: where its top-left corner falls in the box, and its URL."""

    x: float
    y: float
    href: str


@dataclass(frozen=True, slots=True)
class Map:
    """A drawn map: its size, its markers, the graticule's lines with their labels, its tiles."""

    width: int
    height: int
    markers: list[Marker]
    lines: list[Line]
    tiles: list[Tile]


def pixel(lat: float, lon: float, zoom: int) -> tuple[float, float]:
    """The Web Mercator pixel of a point at ``zoom`` (the world is ``256 * 2**zoom`` wide)."""
    size = TILE * 2**zoom
    phi = math.radians(max(-_MAX_LAT, min(_MAX_LAT, lat)))
    x = (lon + 180.0) / 360.0 * size
    y = (1.0 - math.log(math.tan(phi) + 1.0 / math.cos(phi)) / math.pi) / 2.0 * size
    return x, y


def _latitude(y: float, zoom: int) -> float:
    size = TILE * 2**zoom
    return math.degrees(math.atan(math.sinh(math.pi * (1.0 - 2.0 * y / size))))


def _step(span: float) -> float:
    return next((step for step in _STEPS if span / step <= 6), 90.0)


def _degrees(value: float, positive: str, negative: str) -> str:
    return f"{abs(value):g}°{positive if value >= 0 else negative}"


def _zoom(xs: Sequence[float], ys: Sequence[float]) -> int:
    """The closest zoom at which every place fits inside the margins, from their pixels at zoom
    0 (a zoom doubles them: a product by a power of two, exact in floating point)."""
    width, height = max(xs) - min(xs), max(ys) - min(ys)
    for zoom in range(_MAX_ZOOM, -1, -1):
        scale = 2**zoom
        if width * scale <= WIDTH - 2 * _MARGIN and height * scale <= HEIGHT - 2 * _MARGIN:
            return zoom
    return 0


def draw(places: Sequence[Place], tiles: str | None = None) -> Map | None:
    """The map of ``places`` (None when there is nothing to draw); ``tiles``: a tile URL with
    ``{z}``, ``{x}`` and ``{y}``, or None for no tiles."""
    if not places:
        return None
    xs, ys = zip(*(pixel(p.lat, p.lon, 0) for p in places), strict=True)
    zoom = _zoom(xs, ys)
    xs = tuple(x * 2**zoom for x in xs)
    ys = tuple(y * 2**zoom for y in ys)
    left = (min(xs) + max(xs)) / 2 - WIDTH / 2
    top = (min(ys) + max(ys)) / 2 - HEIGHT / 2

    markers = [
        Marker(round(x - left, 1), round(y - top, 1), p)
        for p, x, y in zip(places, xs, ys, strict=True)
    ]
    size = TILE * 2**zoom
    west, east = left / size * 360.0 - 180.0, (left + WIDTH) / size * 360.0 - 180.0
    north, south = _latitude(top, zoom), _latitude(top + HEIGHT, zoom)
    step = _step(min(east - west, north - south))
    lines: list[Line] = []
    lon = math.ceil(west / step) * step
    while lon <= east:
        x = round(pixel(0.0, lon, zoom)[0] - left, 1)
        lines.append(Line(x, 0, x, HEIGHT, _degrees(round(lon, 4), "E", "W")))
        lon += step
    lat = math.ceil(south / step) * step
    while lat <= north:
        y = round(pixel(lat, 0.0, zoom)[1] - top, 1)
        lines.append(Line(0, y, WIDTH, y, _degrees(round(lat, 4), "N", "S")))
        lat += step
    return Map(WIDTH, HEIGHT, markers, lines, _tiles(tiles, zoom, left, top))


def _tiles(url: str | None, zoom: int, left: float, top: float) -> list[Tile]:
    if not url:
        return []
    count = 2**zoom
    found = []
    for ty in range(
        max(0, math.floor(top / TILE)), min(count, math.floor((top + HEIGHT) / TILE) + 1)
    ):
        for tx in range(math.floor(left / TILE), math.floor((left + WIDTH) / TILE) + 1):
            href = url.replace("{z}", str(zoom)).replace("{x}", str(tx % count))
            href = href.replace("{y}", str(ty))
            found.append(Tile(round(tx * TILE - left, 1), round(ty * TILE - top, 1), href))
    return found


def _marker(marker: Marker) -> str:
    place = marker.place
    radius = 7 if place.kind == "incident" else 5
    circle = (
        f'<circle cx="{marker.x}" cy="{marker.y}" r="{radius}" class="marker'
        f' marker-{text(place.kind)}"><title>{text(place.label)} ({place.lat},'
        f" {place.lon})</title></circle>"
    )
    return circle if place.href is None else f'<a href="{text(place.href)}">{circle}</a>'


def _key(marker: Marker) -> str:
    place = marker.place
    label = text(place.label)
    named = label if place.href is None else f'<a href="{text(place.href)}">{label}</a>'
    return (
        f'<li><span class="key key-{text(place.kind)}" aria-hidden="true"></span>{named}'
        f" — {place.lat}, {place.lon}</li>"
    )


def svg(drawn: Map | None, title: str) -> Markup:
    """The map as an SVG figure, with its places listed under it (empty without a map).

    Written here rather than by a template: a page with many evidence points wrote each value
    through a macro. Every label and link is escaped; numbers are written as they are."""
    if drawn is None:
        return Markup("")
    width, height = drawn.width, drawn.height
    parts = [
        '<figure class="map">'
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-labelledby="map-title"'
        ' xmlns="http://www.w3.org/2000/svg">'
        f'<title id="map-title">{text(title)}</title>'
        f'<rect width="{width}" height="{height}" class="sea"/>'
    ]
    parts.extend(
        f'<image href="{text(tile.href)}" x="{tile.x}" y="{tile.y}" width="{TILE}"'
        f' height="{TILE}" class="tile"/>'
        for tile in drawn.tiles
    )
    for line in drawn.lines:
        upright = line.x1 == line.x2
        x = line.x1 + 3 if upright else 3
        y = height - 4 if upright else line.y1 - 3
        parts.append(
            f'<line x1="{line.x1}" y1="{line.y1}" x2="{line.x2}" y2="{line.y2}" class="grid"/>'
            f'<text x="{x}" y="{y}" class="grid-label">{text(line.label)}</text>'
        )
    parts.extend(map(_marker, drawn.markers))
    parts.append('</svg><figcaption><ul class="places">')
    parts.extend(map(_key, drawn.markers))
    parts.append("</ul></figcaption></figure>")
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped
