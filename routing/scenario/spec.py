"""Scenario files: a planner's edits, read from YAML or JSON and checked against the schema.

The published JSON Schema is ``scenario.schema.json`` beside this module
(:func:`scenario_schema` returns it, with the transit edit schema filled in when transit
edits are supported). Every error names the file, the JSON path (``$.street[3].where``)
and the field.
"""

from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from routing.cost.profiles import PROFILE_NAMES
from routing.errors import ScenarioError

SCHEMA_PATH = Path(__file__).with_name("scenario.schema.json")

PROFILES_DEFAULT = PROFILE_NAMES  # every profile, in the engine's order


@dataclass(frozen=True)
class Where:
    """Where an edit applies: an OSM id, a coordinate, or a selector (exactly one)."""

    osm: str | None = None
    at: tuple[float, float] | None = None
    within_m: float = 25.0
    select: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        if self.osm is not None:
            return {"osm": self.osm}
        if self.at is not None:
            return {"at": list(self.at), "within_m": self.within_m}
        return {"select": copy.deepcopy(self.select)}


@dataclass(frozen=True)
class StreetEdit:
    """One edit of the street network (see the schema for features and actions)."""

    feature: str
    action: str
    where: Where
    value: str | None = None
    note: str = ""
    json_path: str = ""

    def describe(self) -> str:
        what = self.feature.replace("_", " ")
        value = f" = {self.value}" if self.value else ""
        return f"{self.action} {what}{value} at {_where_text(self.where)}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"feature": self.feature, "action": self.action,
                               "where": self.where.to_dict()}  # fmt: skip
        if self.value is not None:
            out["value"] = self.value
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True)
class ScenarioOptions:
    """How the scenario is measured (see docs/scenarios.md for every definition)."""

    profiles: tuple[str, ...] = PROFILES_DEFAULT
    cell_m: float = 1000.0
    trip_radius_m: float = 2500.0
    districts: str | None = None
    district_name: str = "name"
    pois: str | None = None
    transit: Any = None  # how transit is measured: routing.scenario.transit options schema


@dataclass(frozen=True)
class Scenario:
    """A parsed scenario: street edits, transit edits, options; immutable."""

    name: str
    description: str = ""
    illustrative: bool = False
    assumptions: tuple[str, ...] = ()
    street: tuple[StreetEdit, ...] = ()
    transit: tuple[Any, ...] = ()
    options: ScenarioOptions = field(default_factory=ScenarioOptions)
    source: str = "<scenario>"
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_empty(self) -> bool:
        return not self.street and not self.transit

    def to_dict(self) -> dict[str, Any]:
        return copy.deepcopy(self.raw) if self.raw else {"name": self.name}


def _where_text(where: Where) -> str:
    if where.osm is not None:
        return where.osm
    if where.at is not None:
        return f"{where.at[0]:.6f},{where.at[1]:.6f} (within {where.within_m:g} m)"
    sel = dict(where.select or {})
    parts = [str(sel.pop("what"))]
    parts += [f"{k}={v if not isinstance(v, list) else f'[{len(v)} points]'}"
              for k, v in sorted(sel.items())]  # fmt: skip
    return "selected " + " ".join(parts)


# -- schema ---------------------------------------------------------------------------------
def _transit_module():
    try:
        from routing.scenario import transit
    except ImportError:
        return None
    return transit if hasattr(transit, "TRANSIT_EDIT_SCHEMA") else None


@lru_cache(maxsize=1)
def _schema_text() -> str:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    transit = _transit_module()
    if transit is not None:
        schema["$defs"]["transit_edit"] = copy.deepcopy(transit.TRANSIT_EDIT_SCHEMA)
        schema["$defs"]["options"]["properties"]["transit"] = copy.deepcopy(
            transit.TRANSIT_OPTIONS_SCHEMA)  # fmt: skip
    return json.dumps(schema)


def scenario_schema() -> dict[str, Any]:
    """The scenario JSON Schema (draft 2020-12), with the transit edit schema when supported."""
    return json.loads(_schema_text())


def transit_supported() -> bool:
    """Whether transit edits can be applied (``routing.scenario.transit`` is present)."""
    return _transit_module() is not None


@lru_cache(maxsize=1)
def _validator():
    import jsonschema

    schema = scenario_schema()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def json_path(parts) -> str:
    """``$.street[3].where`` from a jsonschema path deque."""
    out = "$"
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def _error_field(error) -> str | None:
    if error.validator == "required":
        # "'where' is a required property": the missing property is the field.
        missing = [p for p in error.validator_value if p not in (error.instance or {})]
        if missing:
            return str(missing[0])
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        if extra:
            return str(extra[0])
    named = [p for p in error.absolute_path if isinstance(p, str)]
    return named[-1] if named else None


def _deepest(error):
    """For oneOf/anyOf failures, the most specific sub-error (as jsonschema.best_match)."""
    import jsonschema

    return jsonschema.exceptions.best_match([error]) or error


def validate_document(doc: Any, source: str) -> None:
    """Raise :class:`ScenarioError` for the first schema violation (file, path, field)."""
    errors = sorted(_validator().iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    if not errors:
        return
    error = _deepest(errors[0])
    where = json_path(error.absolute_path)
    message = error.message
    if error.validator == "oneOf" and error.schema.get("description"):
        message = f"{error.schema['description']} (got {sorted(error.instance)})" if isinstance(
            error.instance, dict) else error.schema["description"]  # fmt: skip
    fld = _error_field(error)
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    raise ScenarioError(f"{source}: {where}: {message}{more}", path=source,
                        json_path=where, field=fld)  # fmt: skip


# -- reading ----------------------------------------------------------------------------
def read_document(path: str | os.PathLike[str]) -> Any:
    """The YAML or JSON document of a scenario file (YAML is a superset of JSON)."""
    p = Path(path)
    source = str(p)
    if not p.is_file():
        raise ScenarioError(f"{source}: scenario file not found", path=source, json_path="$")
    text = p.read_text(encoding="utf-8-sig")
    return parse_text(text, source, yaml=p.suffix.lower() in (".yaml", ".yml"))


def parse_text(text: str, source: str, *, yaml: bool = True) -> Any:
    if not yaml:
        try:
            return json.loads(text)
        except ValueError as err:
            raise ScenarioError(f"{source}: not valid JSON: {err}", path=source,
                                json_path="$") from err  # fmt: skip
    import yaml as pyyaml

    try:
        return pyyaml.safe_load(text)
    except pyyaml.YAMLError as err:
        raise ScenarioError(f"{source}: not valid YAML: {err}", path=source,
                            json_path="$") from err  # fmt: skip


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read, validate and parse a scenario file (``.yaml``/``.yml``/``.json``).

    Relative paths inside ``options`` (districts, POIs) are resolved against the file's
    folder.

    Raises
    ------
    ScenarioError
        The file is missing, not YAML/JSON, or breaks the schema (file, path, field named).
    """
    doc = read_document(path)
    return parse_scenario(doc, source=str(path), base_dir=Path(path).resolve().parent)


def parse_scenario(doc: Any, *, source: str = "<scenario>",
                   base_dir: Path | None = None) -> Scenario:  # fmt: skip
    """A :class:`Scenario` from an already-read document (dict), validated."""
    validate_document(doc, source)
    street = tuple(_street_edit(e, f"$.street[{i}]", source)
                   for i, e in enumerate(doc.get("street", [])))  # fmt: skip
    transit = tuple(_transit_edit(e, f"$.transit[{i}]", source)
                    for i, e in enumerate(doc.get("transit", [])))  # fmt: skip
    opts = dict(doc.get("options", {}))
    for key in ("districts", "pois"):
        if key in opts and base_dir is not None and not Path(opts[key]).is_absolute():
            opts[key] = str(base_dir / opts[key])
    if "profiles" in opts:
        opts["profiles"] = tuple(opts["profiles"])
    return Scenario(
        name=doc["name"],
        description=doc.get("description", ""),
        illustrative=bool(doc.get("illustrative", False)),
        assumptions=tuple(doc.get("assumptions", ())),
        street=street,
        transit=transit,
        options=ScenarioOptions(**opts),
        source=source,
        raw=copy.deepcopy(doc),
    )


def _street_edit(obj: dict[str, Any], path: str, source: str) -> StreetEdit:
    w = obj["where"]
    at = tuple(float(x) for x in w["at"]) if "at" in w else None
    where = Where(osm=w.get("osm"), at=at, within_m=float(w.get("within_m", 25.0)),
                  select=copy.deepcopy(w.get("select")))  # fmt: skip
    if obj["feature"] == "surface":
        from routing.graph.attributes import SURFACE_UNKNOWN, surface_code

        if surface_code(obj["value"]) == SURFACE_UNKNOWN:
            raise ScenarioError(f"{source}: {path}.value: '{obj['value']}' is not an OSM "
                                "surface value this engine knows (e.g. asphalt, paving_stones, "
                                "sett, compacted, gravel)", path=source,
                                json_path=f"{path}.value", field="value")  # fmt: skip
    return StreetEdit(feature=obj["feature"], action=obj["action"], where=where,
                      value=obj.get("value"), note=obj.get("note", ""), json_path=path)  # fmt: skip


def _transit_edit(obj: dict[str, Any], path: str, source: str) -> Any:
    transit = _transit_module()
    if transit is None:
        raise ScenarioError(f"{source}: {path}: transit edits are not supported yet "
                            "(street edits are)", path=source, json_path=path,
                            field="transit")  # fmt: skip
    try:
        return transit.parse_transit_edit(obj, path)
    except ScenarioError as err:
        if err.path is None:
            err.path = source
            err.details["path"] = source
        raise
