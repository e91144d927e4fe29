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


# Almaty (for /plan): near Raiymbek batyr metro station (the northern end of Line 1) ...
RAIYMBEK = (43.2725, 76.9440)
# ... near Bauyrjan Momyshuly station (the south-western end), about 11 km away.
MOMYSHULY = (43.2150, 76.8390)
# The stations themselves (from almaty/metro/stations.json).
RAIYMBEK_STATION = (43.27111, 76.94466)
MOMYSHULY_STATION = (43.2164, 76.83784)
# 500 m from RAIYMBEK: close enough that walking is always an option, at any time.
NEAR_RAIYMBEK = (43.2760, 76.9480)
# Kaivokatu, Helsinki: valid WGS84, far outside the Almaty graph.
HELSINKI = (60.1699, 24.9384)
# A weekday (Monday) morning in the feed's calendar, Almaty local time.
MONDAY_0800 = "2026-12-07T08:00"
