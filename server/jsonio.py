"""One JSON encoding for the HTTP API and the command line, so both print the same body."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from typing import Any

import numpy as np
from flask.json.provider import DefaultJSONProvider


def to_jsonable(value: Any) -> Any:
    """A copy of ``value`` that strict JSON can hold.

    Numpy scalars and arrays become Python numbers and lists; NaN and infinities (which
    are not JSON) become ``null``; tuples become lists; paths become strings and dates
    ISO 8601 text.
    """
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:  # most of a body
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        return to_jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return value


def dumps(value: Any, *, indent: int | None = None) -> str:
    """``value`` as strict JSON text (UTF-8 characters kept, key order kept)."""
    return json.dumps(to_jsonable(value), ensure_ascii=False, allow_nan=False, indent=indent)


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON provider, made strict and numpy-aware, keeping the contract's key order."""

    sort_keys = False
    ensure_ascii = False

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        kwargs.setdefault("allow_nan", False)
        return super().dumps(to_jsonable(obj), **kwargs)
