"""The JSON encoding shared by the HTTP API and the CLI."""

from __future__ import annotations

import json
import math

import numpy as np

from server.jsonio import dumps, to_jsonable


def test_numpy_and_non_finite_values_become_strict_json() -> None:
    value = {
        "a": np.float32(1.5),
        "b": np.int64(3),
        "c": np.array([1.0, np.nan]),
        "d": (math.inf, 2),
        "e": [np.bool_(True)],
    }
    assert to_jsonable(value) == {"a": 1.5, "b": 3, "c": [1.0, None], "d": [None, 2], "e": [True]}
    assert json.loads(dumps(value))["c"] == [1.0, None]


def test_dumps_keeps_order_and_unicode() -> None:
    assert dumps({"z": "ул. Сатпаева", "a": 1}) == '{"z": "ул. Сатпаева", "a": 1}'
