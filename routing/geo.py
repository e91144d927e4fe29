"""Small geodesy helpers: a local metric projection, distances and bearings."""

from __future__ import annotations

import math

import numpy as np

EARTH_RADIUS_M = 6_371_008.8


class LocalProjection:
    """Equirectangular projection around a reference latitude (metres; fine at city scale)."""

    def __init__(self, lat0: float, lon0: float) -> None:
        self.lat0, self.lon0 = lat0, lon0
        self._kx = np.radians(1.0) * EARTH_RADIUS_M * np.cos(np.radians(lat0))
        self._ky = np.radians(1.0) * EARTH_RADIUS_M
        # Metres per degree of longitude and latitude: the same values, as plain floats.
        self.x_per_degree, self.y_per_degree = float(self._kx), float(self._ky)

    def forward(self, lat, lon) -> np.ndarray:
        lat, lon = np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64)
        return np.stack([(lon - self.lon0) * self._kx, (lat - self.lat0) * self._ky], axis=-1)

    def point_xy(self, lat: float, lon: float) -> tuple[float, float]:
        """:meth:`forward` of one point in plain floats (the same values, no arrays)."""
        x = (float(lon) - self.lon0) * self.x_per_degree
        return x, (float(lat) - self.lat0) * self.y_per_degree

    def point_latlon(self, x: float, y: float) -> tuple[float, float]:
        """:meth:`inverse` of one point in plain floats."""
        return y / self.y_per_degree + self.lat0, x / self.x_per_degree + self.lon0

    def inverse(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        xy = np.asarray(xy, dtype=np.float64)
        return xy[..., 1] / self._ky + self.lat0, xy[..., 0] / self._kx + self.lon0


def haversine_m(lat1, lon1, lat2, lon2):
    """Great-circle distance in metres (vectorised)."""
    la1, lo1, la2, lo2 = map(np.radians, (lat1, lon1, lat2, lon2))
    a = np.sin((la2 - la1) / 2) ** 2 + np.cos(la1) * np.cos(la2) * np.sin((lo2 - lo1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def bearing_deg(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Initial bearing from point 1 to point 2, degrees clockwise from north."""
    la1, la2 = _radians(lat1), _radians(lat2)
    dlon = _radians(lon2 - lon1)
    cos_la2 = _cos(la2)
    x = _sin(dlon) * cos_la2
    y = _cos(la1) * _sin(la2) - _sin(la1) * cos_la2 * _cos(dlon)
    return (_degrees(_atan2(x, y)) + 360.0) % 360.0


# Bound once: bearings are worked out for every turn of every route.
_radians, _degrees, _sin, _cos, _atan2 = math.radians, math.degrees, math.sin, math.cos, math.atan2
