"""Inclusive transit routing for Almaty: accessible routes, transit plans, Invataxi dispatch."""

__version__ = "0.1.0"
