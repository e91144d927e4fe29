"""Profiles (immutable parameter sets) and the cost models that turn them into edge weights."""

from routing.cost.model import CostModel, EdgeCosts
from routing.cost.profiles import PROFILE_NAMES, PROFILES, Profile, get_profile

__all__ = ["PROFILES", "PROFILE_NAMES", "CostModel", "EdgeCosts", "Profile", "get_profile"]
