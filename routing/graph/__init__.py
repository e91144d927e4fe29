"""Building the walking graph: OSM + DEM + overlays -> networkx -> CompiledGraph."""
