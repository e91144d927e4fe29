"""Invataxi dispatch: plan a day of accessible door-to-door trips.

Layers: :mod:`.model` (bookings, vehicles, plans), :mod:`.carnet` (car network and travel
matrices), :mod:`.solver` (OR-Tools), :mod:`.validator` (independent checks), :mod:`.darp`
(the Cordeau literature format), :mod:`.day` (a realistic Almaty day), :mod:`.kpis`,
:mod:`.storage` (SQLAlchemy) and :mod:`.substitution` (accessible transit instead).
"""
