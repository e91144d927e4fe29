"""Public transport: GTFS in (and GTFS built from Almaty data), RAPTOR, itineraries."""
