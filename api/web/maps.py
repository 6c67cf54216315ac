"""Maps drawn on the server as SVG: places as markers on a plain background with a graticule.

No tile server is asked for anything (no request leaves the server), and a map needs no script:
the points are projected here (equirectangular, with longitudes scaled by the cosine of the
middle latitude so that a region keeps its shape) into a box a template draws.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 640
HEIGHT = 360
_MARGIN = 28
# The smallest span shown, in degrees, so that a single place is not drawn at infinite zoom.
_MIN_SPAN = 0.5
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
class Map:
    """A drawn map: its size, its markers and the graticule's lines with their labels."""

    width: int
    height: int
    markers: list[Marker]
    lines: list[Line]


def _step(span: float) -> float:
    return next((step for step in _STEPS if span / step <= 6), 90.0)


def _degrees(value: float, positive: str, negative: str) -> str:
    return f"{abs(value):g}°{positive if value >= 0 else negative}"


def draw(places: Sequence[Place]) -> Map | None:
    """The map of ``places`` (None when there is nothing to draw)."""
    if not places:
        return None
    lats = [p.lat for p in places]
    lons = [p.lon for p in places]
    mid_lat = (min(lats) + max(lats)) / 2
    scale_x = max(math.cos(math.radians(mid_lat)), 0.1)
    lat_span = max(max(lats) - min(lats), _MIN_SPAN) * 1.2
    lon_span = max(max(lons) - min(lons), _MIN_SPAN) * 1.2
    inner_w, inner_h = WIDTH - 2 * _MARGIN, HEIGHT - 2 * _MARGIN
    # One scale for both axes (in projected units), the larger span setting it.
    per_unit = min(inner_w / (lon_span * scale_x), inner_h / lat_span)
    mid_lon = (min(lons) + max(lons)) / 2

    def x_of(lon: float) -> float:
        return round(WIDTH / 2 + (lon - mid_lon) * scale_x * per_unit, 1)

    def y_of(lat: float) -> float:
        return round(HEIGHT / 2 - (lat - mid_lat) * per_unit, 1)

    markers = [Marker(x_of(p.lon), y_of(p.lat), p) for p in places]
    lines: list[Line] = []
    half_lon = WIDTH / 2 / (scale_x * per_unit)
    west, east = mid_lon - half_lon, mid_lon + half_lon
    south, north = mid_lat - HEIGHT / 2 / per_unit, mid_lat + HEIGHT / 2 / per_unit
    step = _step(min(east - west, north - south))
    lon = math.ceil(west / step) * step
    while lon <= east:
        x = x_of(lon)
        lines.append(Line(x, 0, x, HEIGHT, _degrees(round(lon, 4), "E", "W")))
        lon += step
    lat = math.ceil(south / step) * step
    while lat <= north:
        y = y_of(lat)
        lines.append(Line(0, y, WIDTH, y, _degrees(round(lat, 4), "N", "S")))
        lat += step
    return Map(WIDTH, HEIGHT, markers, lines)
