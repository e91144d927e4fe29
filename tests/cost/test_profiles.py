"""Profiles: defaults with sources, validated overrides, immutability."""

from __future__ import annotations

import dataclasses

import pytest

from routing.cost import PROFILE_NAMES, PROFILES, get_profile
from routing.cost.profiles import PARAMETERS
from routing.errors import InvalidInputError, InvalidParameterError


def test_six_profiles():
    assert set(PROFILE_NAMES) == set(PROFILES) and len(PROFILES) == 6


@pytest.mark.parametrize("name", PROFILE_NAMES)
def test_defaults_lie_within_their_ranges_and_are_described(name):
    profile = PROFILES[name]
    described = profile.describe()
    assert described["name"] == name
    for param in described["parameters"]:
        spec = PARAMETERS[param["name"]]
        assert spec.minimum <= float(param["default"]) <= spec.maximum
        assert param["source"]
        assert param["description"]


def test_wheelchair_limits_cite_their_sources():
    manual = {p["name"]: p for p in PROFILES["wheelchair_manual"].describe()["parameters"]}
    assert "AccessMap" in manual["max_uphill"]["source"]
    assert "ADA" in manual["min_width"]["source"]
    assert PROFILES["wheelchair_manual"].max_uphill == 0.08
    assert PROFILES["wheelchair_electric"].max_uphill == 0.12


def test_override_returns_a_new_value_and_keeps_the_default():
    base = get_profile("wheelchair_manual")
    tuned = get_profile("wheelchair_manual", {"max_uphill": "0.06"})
    assert tuned.max_uphill == 0.06 and base.max_uphill == 0.08
    with pytest.raises(dataclasses.FrozenInstanceError):
        base.max_uphill = 0.2  # type: ignore[misc]
    assert hash(tuned) != hash(base)


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"max_uphill": "2"}, "max_uphill", "outside its allowed range"),
        ({"max_uphill": "steep"}, "max_uphill", "must be a number"),
        ({"max_uphill": "nan"}, "max_uphill", "outside its allowed range"),
        ({"allow_loose_surface": "maybe"}, "allow_loose_surface", "true or false"),
        ({"crossing_unmarked_s": "10"}, "crossing_unmarked_s", "has no parameter"),
    ],
)
def test_bad_overrides_name_the_parameter(overrides, field, words):
    with pytest.raises(InvalidParameterError) as exc:
        get_profile("wheelchair_manual", overrides)
    assert exc.value.field == field and exc.value.http_status == 400
    assert words in exc.value.message and field in exc.value.message


def test_unknown_or_missing_profile():
    with pytest.raises(InvalidInputError) as exc:
        get_profile("skateboard")
    assert exc.value.field == "profile" and "wheelchair_manual" in exc.value.message
    with pytest.raises(InvalidInputError):
        get_profile("")
