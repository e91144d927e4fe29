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


def test_the_one_pass_encoder_gives_the_same_text_as_copying_first() -> None:
    from dataclasses import dataclass

    from flask import Flask

    from server.jsonio import JSONProvider, encode

    plain = {"geometry": [[76.9, 43.2], [76.91, 43.21]], "steps": [{"name": "ул", "n": 2}],
             "ok": True, "none": None}  # fmt: skip
    assert encode(plain) == json.dumps(plain, ensure_ascii=False)
    mixed = {"a": np.float64(np.nan), "b": [np.int32(4), np.float64(2.5)], 3: np.array([1, 2])}
    assert encode(mixed) == json.dumps(to_jsonable(mixed), ensure_ascii=False)
    assert json.loads(encode(mixed)) == {"a": None, "b": [4, 2.5], "3": [1, 2]}

    @dataclass
    class Point:
        lat: float

    flask_app = Flask(__name__)
    flask_app.json = JSONProvider(flask_app)
    with flask_app.app_context():  # Flask's own conversions (dataclasses) still apply
        assert json.loads(flask_app.json.dumps({"p": Point(1.0), "x": np.nan})) == {
            "p": {"lat": 1.0}, "x": None}


def test_compact_encoding_holds_the_same_values_as_the_standard_encoder() -> None:
    import pytest

    from server.jsonio import encode

    compact = {"separators": (",", ":")}
    cases = [
        {"geometry": [[76.9, 43.2], [76.91, 43.21]], "steps": [{"name": "ул. Абая", "n": 2}],
         "ok": True, "none": None, "tuple": (1, 2.5)},
        {"a": np.float64(np.nan), "b": [np.int32(4), np.float32(0.1)], "c": np.array([1, 2])},
        {3: "a key JSON holds as text", "big": 2**70, "inf": math.inf},  # the standard way
        {"small": 1e-05, "tiny": 1.5e-07, "large": 1e16, "neg": -0.0, "ctrl": "a\x01\u2028b"},
    ]  # fmt: skip
    for value in cases:
        text = encode(value, **compact)
        standard = json.dumps(to_jsonable(value), ensure_ascii=False, separators=(",", ":"))
        assert json.loads(text) == json.loads(standard)
        assert "NaN" not in text and "Infinity" not in text
    assert encode(cases[0], **compact) == json.dumps(to_jsonable(cases[0]), ensure_ascii=False,
                                                     separators=(",", ":"))  # fmt: skip
    with pytest.raises(TypeError, match="object is not JSON serialisable"):
        encode({"x": object()}, **compact)
