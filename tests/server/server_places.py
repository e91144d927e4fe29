"""Real places in the central Helsinki extract that the server tests route between."""

from __future__ import annotations

# Kaivokatu, by the railway station (a street everyone may use).
KAIVOKATU = (60.1699, 24.9384)
# Vilhonkatu, 300 m north-east.
VILHONKATU = (60.1719, 24.9414)
# An underground corridor (OSM way 23654431: highway=corridor, tunnel=yes, layer=-1) that a
# wheelchair cannot reach in this extract: the walking route from Kaivokatu comes down a flight
# of steps (way 23654430, highway=steps, no ramp).
TUNNEL_CORRIDOR = (60.1689186, 24.9366377)
# Republic Square, Almaty: valid WGS84, far outside the Helsinki graph.
ALMATY = (43.2383, 76.9453)


def latlon(point: tuple[float, float]) -> str:
    """``"lat,lon"`` as a client sends it."""
    return f"{point[0]},{point[1]}"
