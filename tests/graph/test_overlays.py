"""Accessibility overlays: reading CSV/GeoJSON, validating values, patching OsmData tags."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from routing.errors import OverlayError
from routing.graph.osm_data import OsmData, OsmWay
from routing.graph.overlays import (
    DEFAULT_MAX_DISTANCE_M,
    TAG_RULES,
    OverlayPatch,
    apply_overlays,
    normalize_tag,
    read_overlay,
    read_overlay_dir,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_DIR = REPO_ROOT / "data" / "overlays"

# A small street piece near Republic Square (0.001 deg is ~81 m east-west, ~111 m north-south):
#
#   5 ---300--- 6                      7 (far away, on no way)
#
#               4
#               | 200 (steps)
#   1 ---100--- 2 ---100--- 3
NODES = {
    1: (43.2400, 76.9400),
    2: (43.2400, 76.9410),
    3: (43.2400, 76.9420),
    4: (43.2410, 76.9420),
    5: (43.2420, 76.9400),
    6: (43.2420, 76.9410),
    7: (43.2500, 76.9500),
}


def make_data() -> OsmData:
    ids = np.array(sorted(NODES), dtype=np.int64)
    return OsmData(
        node_ids=ids,
        node_lat=np.array([NODES[i][0] for i in ids]),
        node_lon=np.array([NODES[i][1] for i in ids]),
        node_tags={
            2: {"highway": "crossing", "crossing": "uncontrolled"},
            5: {"kerb": "raised", "kerb:height": "0.15"},
        },
        ways=[
            OsmWay(100, np.array([1, 2, 3], dtype=np.int64), {"highway": "footway"}),
            OsmWay(200, np.array([3, 4], dtype=np.int64), {"highway": "steps"}),
            OsmWay(300, np.array([5, 6], dtype=np.int64), {"highway": "footway"}),
        ],
    )


@pytest.fixture
def data() -> OsmData:
    return make_data()


@pytest.fixture
def overlays(fixtures_dir: Path) -> Path:
    return fixtures_dir / "overlays"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def way(data: OsmData, way_id: int) -> OsmWay:
    return next(w for w in data.ways if w.id == way_id)


@contextmanager
def raises_overlay(
    path: Path | str, line: int | None, field: str | None, *parts: str
) -> Iterator[pytest.ExceptionInfo[OverlayError]]:
    """Expect an OverlayError naming this file, line and field, with ``parts`` in its text."""
    with pytest.raises(OverlayError) as info:
        yield info
    err = info.value
    message = str(err)
    assert message.startswith(str(path)), message
    assert (err.path, err.line, err.field) == (str(path), line, field), message
    if line is not None:
        assert re.search(rf"(line {line}|features\[{line}\]):", message), message
    for part in parts:
        assert part in message, message
    assert err.to_dict()["code"] == "overlay_error"


# --- reading and normalising ---------------------------------------------------------------


def test_read_csv_targets_and_normalised_values(overlays: Path) -> None:
    path = overlays / "crossings.csv"
    by_id, near_3, near_5 = read_overlay(path)

    assert (by_id.source, by_id.line, by_id.element, by_id.osm_id) == (str(path), 2, "node", 2)
    assert by_id.lat is None and by_id.lon is None
    assert dict(by_id.tags) == {
        "crossing": "traffic_signals",
        "tactile_paving": "yes",
        "traffic_signals:sound": "yes",
        "kerb": "lowered",
        "kerb:height": "0.02",  # "2 cm"
    }
    assert by_id.note == "id target: the crossing on way 100"

    assert (near_3.line, near_3.osm_id, near_3.lat, near_3.lon) == (3, None, 43.24002, 76.94198)
    assert near_3.max_distance_m == DEFAULT_MAX_DISTANCE_M
    assert near_3.tags["kerb:height"] == "0.02"  # "20 mm"

    assert near_5.line == 4 and near_5.max_distance_m == 10
    assert near_5.tags["tactile_paving"] == "no"  # "No"
    assert near_5.tags["kerb:height"] is None  # "-" deletes
    assert "crossing" not in near_5.tags  # blank cell: left alone
    with pytest.raises(TypeError):
        near_5.tags["kerb"] = "raised"  # type: ignore[index]  # patches are read-only


@pytest.mark.parametrize(
    ("key", "raw", "normal"),
    [
        ("kerb:height", "2 cm", "0.02"),
        ("kerb:height", "20mm", "0.02"),
        ("kerb:height", "0.02", "0.02"),
        ("kerb:height", "0.02 m", "0.02"),
        ("kerb:height", "0", "0"),
        ("kerb:height", ".125", "0.125"),
        ("width", "150 cm", "1.5"),
        ("width", "2", "2"),
        ("incline", "-8%", "-8%"),
        ("incline", "5 %", "5%"),
        ("incline", "0.05", "5%"),
        ("incline", "-0.08", "-8%"),
        ("incline", "12.5%", "12.5%"),
        ("incline", "up", "up"),
        ("incline", "Down", "down"),
        ("incline", "-0%", "0%"),
        ("incline", "45°", "100%"),
        ("step_count", "012", "12"),
        ("tactile_paving", "Yes", "yes"),
        ("traffic_signals:sound", "locate", "locate"),
        ("surface", "paving_stones", "paving_stones"),
        ("operational_status", "out_of_service", "out_of_service"),
        ("level", "-1;0", "-1;0"),
        ("opening_hours", " Mo-Fr 08:00-20:00 ", "Mo-Fr 08:00-20:00"),
    ],
)
def test_values_are_normalised(key: str, raw: str, normal: str) -> None:
    assert normalize_tag(key, raw) == normal
    assert normalize_tag(key, normal) == normal  # normal forms are fixed points


@pytest.mark.parametrize(
    ("key", "raw", "reason"),
    [
        ("kerb:height", "abc", "is not a length"),
        ("kerb:height", "2", "more than any kerb"),  # 2 m: meant 2 cm
        ("kerb:height", "-0.02", "is not a length"),
        ("kerb:height", "3 ft", "is not a length"),
        ("incline", "8", "write '8%'"),
        ("incline", "steep", "is not an incline"),
        ("incline", "150%", "steeper than"),
        ("step_count", "-1", "non-negative whole number"),
        ("step_count", "3.5", "non-negative whole number"),
        ("tactile_paving", "maybe", "is not one of: yes, no, incorrect, partial"),
        ("kerb", "low", "is not one of"),
        ("surface", "lava", "is not one of"),
        ("smoothness", "ok", "is not one of"),
        ("operational_status", "broken", "is not one of: operational, out_of_service, closed"),
        ("level", "ground", "is not a level"),
        ("opening_hours", "24/7\nexcept holidays", "line breaks"),
        ("lit", " ", "is empty"),
    ],
)
def test_bad_values_are_rejected(key: str, raw: str, reason: str) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)):
        normalize_tag(key, raw)


def test_read_geojson(overlays: Path) -> None:
    path = overlays / "elevators.geojson"
    elevator, ramp, lit = read_overlay(path)
    assert [p.line for p in (elevator, ramp, lit)] == [0, 1, 2]  # feature index
    assert (elevator.element, elevator.osm_id, elevator.lat, elevator.lon) == (
        "node",
        None,
        43.24101,
        76.94201,
    )
    assert elevator.tags["operational_status"] == "out_of_service"
    assert (ramp.element, ramp.osm_id, ramp.lat) == ("way", 200, None)
    assert (lit.element, lit.osm_id, lit.max_distance_m) == ("way", None, 10)
    assert dict(lit.tags) == {"lit": "no", "width": "2"}  # JSON number -> text


# --- applying -----------------------------------------------------------------------------


def test_apply_nodes_by_id_and_by_coordinate(overlays: Path, data: OsmData) -> None:
    report = apply_overlays(data, read_overlay(overlays / "crossings.csv"))

    # node/2 by id: existing tags kept, crossing overwritten.
    assert data.node_tags[2] == {
        "highway": "crossing",
        "crossing": "traffic_signals",
        "tactile_paving": "yes",
        "traffic_signals:sound": "yes",
        "kerb": "lowered",
        "kerb:height": "0.02",
    }
    # Nearest node to a coordinate ~3 m from node 3, which had no tags: dict created.
    assert data.node_tags[3] == {
        "tactile_paving": "partial",
        "kerb": "raised",
        "kerb:height": "0.02",
    }
    # Node 5: kerb:height deleted with "-", others set.
    assert data.node_tags[5] == {"kerb": "lowered", "highway": "crossing", "tactile_paving": "no"}
    assert report["patches"] == 3 and report["nodes_patched"] == 3 and report["ways_patched"] == 0
    assert report["tags_deleted"] == 1


def test_apply_ways_by_id_and_by_coordinate(overlays: Path, data: OsmData) -> None:
    apply_overlays(data, read_overlay(overlays / "ways.csv"))
    assert way(data, 200).tags == {
        "highway": "steps",
        "incline": "-8%",
        "handrail": "yes",
        "step_count": "12",
    }
    # The coordinate lies ~7 m north of way 100, between nodes 1 and 2 (no node nearby).
    assert way(data, 100).tags == {
        "highway": "footway",
        "surface": "paving_stones",
        "smoothness": "intermediate",
        "width": "1.5",
    }
    assert way(data, 300).tags == {"highway": "footway", "operational_status": "closed"}
    assert data.node_tags == make_data().node_tags  # way rows touch no node


def test_apply_geojson_and_report_by_source(overlays: Path, data: OsmData) -> None:
    patches = [
        *read_overlay(overlays / "crossings.csv"),
        *read_overlay(overlays / "ways.csv"),
        *read_overlay(overlays / "elevators.geojson"),
    ]
    report = apply_overlays(data, patches)

    assert data.node_tags[4] == {
        "highway": "elevator",
        "operational_status": "out_of_service",
        "wheelchair": "yes",
        "level": "0;1",
    }
    assert way(data, 200).tags["ramp:wheelchair"] == "separate"
    assert way(data, 300).tags == {
        "highway": "footway",
        "operational_status": "closed",  # from ways.csv
        "lit": "no",  # from the geojson, same way found by coordinate
        "width": "2",
    }
    assert report["patches"] == 9
    assert report["nodes_patched"] == 4  # 2, 3, 5, 4
    assert report["ways_patched"] == 3  # 100, 200, 300
    assert report["by_source"] == {
        str(overlays / "crossings.csv"): {"patches": 3, "nodes_patched": 3, "ways_patched": 0},
        str(overlays / "ways.csv"): {"patches": 3, "nodes_patched": 0, "ways_patched": 3},
        str(overlays / "elevators.geojson"): {
            "patches": 3,
            "nodes_patched": 1,
            "ways_patched": 2,
        },
    }


def test_same_value_twice_is_not_a_conflict(tmp_path: Path, data: OsmData) -> None:
    text = "osm,lat,lon,element,lit\nway/100,,,,yes\n,43.24003,76.9405,way,yes\n"
    report = apply_overlays(data, read_overlay(write(tmp_path, "twice.csv", text)))
    assert report["patches"] == 2 and report["ways_patched"] == 1
    assert way(data, 100).tags["lit"] == "yes"


def test_deleting_the_last_node_tag_drops_the_entry(tmp_path: Path, data: OsmData) -> None:
    path = write(tmp_path, "del.csv", "osm,kerb,kerb:height,tactile_paving\nnode/5,-,-,-\n")
    report = apply_overlays(data, read_overlay(path))
    assert 5 not in data.node_tags  # node_tags holds only nodes that have tags
    assert report["tags_deleted"] == 2


def test_coordinate_ignores_nodes_on_no_way(tmp_path: Path, data: OsmData) -> None:
    # Node 7 is in node_ids but on no way: not a walkable target.
    lat, lon = NODES[7]
    path = write(tmp_path, "n7.csv", f"lat,lon,lit\n{lat},{lon},yes\n")
    with raises_overlay(path, 2, "lat/lon", "no node within 25 m"):
        apply_overlays(data, read_overlay(path))
    # ... but it can still be targeted by id.
    path = write(tmp_path, "n7id.csv", "osm,lit\nnode/7,yes\n")
    apply_overlays(data, read_overlay(path))
    assert data.node_tags[7] == {"lit": "yes"}


def test_failed_apply_changes_nothing(tmp_path: Path, data: OsmData) -> None:
    path = write(tmp_path, "half.csv", "osm,lit\nnode/2,yes\nnode/999,yes\n")
    before = copy.deepcopy(data)
    with pytest.raises(OverlayError):
        apply_overlays(data, read_overlay(path))
    assert data.node_tags == before.node_tags
    assert [w.tags for w in data.ways] == [w.tags for w in before.ways]


def test_read_overlay_dir_skips_non_overlays(tmp_path: Path) -> None:
    write(tmp_path, "b.csv", "osm,lit\nnode/1,yes\n")
    write(tmp_path, "a.geojson", json.dumps({"type": "FeatureCollection", "features": []}))
    write(tmp_path, "README.md", "# not an overlay\n")
    patches = read_overlay_dir(tmp_path)
    assert [Path(p.source).name for p in patches] == ["b.csv"]


def test_patch_built_in_code_is_validated_too() -> None:
    patch = OverlayPatch("api", 1, "node", 5, None, None, 25.0, {"kerb:height": "3 cm"})
    assert patch.tags["kerb:height"] == "0.03"
    with pytest.raises(OverlayError, match="unknown tag key 'kerb_height'"):
        OverlayPatch("api", 1, "node", 5, None, None, 25.0, {"kerb_height": "3 cm"})


# --- errors name the file, the line and the field -------------------------------------------


def test_bad_value(overlays: Path) -> None:
    path = overlays / "bad_kerbs.csv"
    with raises_overlay(
        path, 4, "kerb:height", f"{path} line 4: kerb:height 'abc' is not a length"
    ):
        read_overlay(path)


def test_unknown_column(tmp_path: Path) -> None:
    path = write(tmp_path, "kerbs.csv", "osm,kerb,kerb_height\nnode/1,lowered,0.02\n")
    with raises_overlay(path, 1, "kerb_height", "unknown column 'kerb_height'", "'kerb:height'"):
        read_overlay(path)


@pytest.mark.parametrize(
    ("text", "line", "field", "part"),
    [
        ("osm,lat,lon,lit\nnode/1,,,yes\n,,,no\n", 3, "osm", "no target"),
        ("lat,lon,lit\n43.24,,yes\n", 2, "lon", "give both lat and lon"),
        ("osm,lit\nnode/1\n", 2, None, "has 1 cells but the header has 2"),
        ("osm,lit\n\nnode/x,yes\n", 3, "osm", "'node/x' is not node/<id> or way/<id>"),
        ("osm,lit\nrelation/5,yes\n", 2, "osm", "only node/<id> and way/<id>"),
        ("osm,element,lit\nway/1,node,yes\n", 2, "element", "contradicts osm"),
        ("lat,lon,element,lit\n43.24,76.94,area,yes\n", 2, "element", "is not one of: node, way"),
        ("osm,max_distance_m,lit\nnode/1,5,yes\n", 2, "max_distance_m", "only to coordinate"),
        ("lat,lon,max_distance_m,lit\n43.24,76.94,-5,yes\n", 2, "max_distance_m", "positive"),
        ("lat,lon,lit\n95,76.94,yes\n", 2, "lat/lon", "latitude 95.0 is outside"),
        ("lat,lon,lit\nnorth,76.94,yes\n", 2, "lat", "lat 'north' is not a number"),
        ("osm,lit,note\nnode/1,,just a note\n", 2, None, "changes no tag"),
        ('osm,lit\nnode/1,"yes\n', 2, None, "not valid CSV"),
        ("osm,lit,lit\nnode/1,yes,no\n", 1, "lit", "column 'lit' appears twice"),
        ("lat,lit\n43.24,yes\n", 1, "lat", "lat and lon columns come together"),
        ("note,lit\nx,yes\n", 1, "osm", "no target column"),
        ("osm,note\nnode/1,x\n", 1, None, "no tag column"),
        ("", None, None, "empty file"),
    ],
)
def test_csv_row_errors(tmp_path: Path, text: str, line: int, field: str, part: str) -> None:
    path = write(tmp_path, "bad.csv", text)
    with raises_overlay(path, line, field, part):
        read_overlay(path)


def test_missing_target(tmp_path: Path) -> None:
    path = write(tmp_path, "ramps.csv", "osm,lat,lon,ramp\nway/100,,,yes\n,,,no\n")
    with raises_overlay(path, 3, "osm", "no target: give osm"):
        read_overlay(path)


def test_target_id_not_found(tmp_path: Path, data: OsmData) -> None:
    path = write(tmp_path, "ids.csv", "osm,lit\nnode/1,yes\n\nway/999,no\n")
    with raises_overlay(path, 4, "osm", "way/999 is not in the OSM data"):
        apply_overlays(data, read_overlay(path))


def test_coordinate_too_far(tmp_path: Path, data: OsmData) -> None:
    # ~33 m north of node 1: beyond the default 25 m, within 40 m.
    path = write(tmp_path, "far.csv", "lat,lon,max_distance_m,lit\n43.2403,76.9400,,yes\n")
    with raises_overlay(path, 2, "lat/lon", "no node within 25 m", "nearest is node/1 at 33.4 m"):
        apply_overlays(data, read_overlay(path))
    path = write(tmp_path, "near.csv", "lat,lon,max_distance_m,lit\n43.2403,76.9400,40,yes\n")
    apply_overlays(data, read_overlay(path))
    assert data.node_tags[1] == {"lit": "yes"}


def test_way_coordinate_too_far(tmp_path: Path, data: OsmData) -> None:
    path = write(tmp_path, "far.csv", "lat,lon,element,lit\n43.2405,76.9405,way,yes\n")
    with raises_overlay(path, 2, "lat/lon", "no way within 25 m", "nearest is way/100 at 55.6 m"):
        apply_overlays(data, read_overlay(path))


def test_id_with_coordinate_checks_distance(tmp_path: Path, data: OsmData) -> None:
    path = write(tmp_path, "check.csv", "osm,lat,lon,lit\nnode/2,43.2400,76.9400,yes\n")
    with raises_overlay(path, 2, "lat/lon", "node/2 is 81.0 m from (43.240000, 76.940000)"):
        apply_overlays(data, read_overlay(path))


def test_ambiguous_coordinate(tmp_path: Path, data: OsmData) -> None:
    # Node 3 is where ways 100 and 200 meet: a point on it is as near to both.
    lat, lon = NODES[3]
    path = write(tmp_path, "junction.csv", f"lat,lon,element,lit\n{lat},{lon},way,yes\n")
    with raises_overlay(path, 2, "lat/lon", "ambiguous", "way/100", "way/200", "give osm"):
        apply_overlays(data, read_overlay(path))


def test_conflicting_rows_in_one_file(tmp_path: Path, data: OsmData) -> None:
    # Line 3 reaches node/2 by coordinate, so the clash is only seen after snapping.
    text = "osm,lat,lon,kerb\nnode/2,,,lowered\n,43.24001,76.9410,raised\n"
    path = write(tmp_path, "kerbs.csv", text)
    with raises_overlay(
        path, 3, "kerb", "kerb of node/2 is 'raised'", f"{path} line 2 sets 'lowered'"
    ):
        apply_overlays(data, read_overlay(path))


def test_conflicting_rows_across_files(tmp_path: Path, overlays: Path, data: OsmData) -> None:
    closed = overlays / "ways.csv"  # line 4: way/300 operational_status=closed
    path = write(tmp_path, "works.csv", "osm,operational_status\nway/300,-\n")
    with raises_overlay(path, 2, "operational_status", "deleted ('-')", f"{closed} line 4"):
        apply_overlays(data, [*read_overlay(closed), *read_overlay(path)])


def feature_collection(*features: object) -> str:
    return json.dumps({"type": "FeatureCollection", "features": list(features)})


def point(lon: float, lat: float) -> dict:
    return {"type": "Point", "coordinates": [lon, lat]}


GOOD_FEATURE = {"type": "Feature", "geometry": None, "properties": {"osm": "node/1", "lit": "yes"}}


@pytest.mark.parametrize(
    ("text", "line", "field", "part"),
    [
        ('{"type": "FeatureCollection",\n "features": [,]}', 2, None, "not valid JSON"),
        (json.dumps({"type": "Feature"}), None, "type", "not a GeoJSON FeatureCollection"),
        (json.dumps({"type": "FeatureCollection"}), None, "features", "must be a list"),
        (feature_collection(GOOD_FEATURE, {"type": "Point"}), 1, "type", "not a GeoJSON Feature"),
        (
            feature_collection(GOOD_FEATURE, {**GOOD_FEATURE, "properties": None}),
            1,
            "properties",
            "'properties' must be an object",
        ),
        (
            feature_collection(
                {
                    "type": "Feature",
                    "geometry": {"type": "LineString", "coordinates": [[76.94, 43.24]] * 2},
                    "properties": {"lit": "yes"},
                }
            ),
            0,
            "geometry",
            "geometry must be a Point or null, not 'LineString'",
        ),
        (
            feature_collection(
                {"type": "Feature", "geometry": point(200.0, 43.24), "properties": {"lit": "no"}}
            ),
            0,
            "geometry",
            "longitude 200.0 is outside",
        ),
        (
            feature_collection({"type": "Feature", "geometry": None, "properties": {"lit": "yes"}}),
            0,
            "geometry",
            "no target",
        ),
        (
            feature_collection({**GOOD_FEATURE, "properties": {"osm": "node/1", "name": "x"}}),
            0,
            "name",
            "unknown property 'name'",
        ),
        (
            feature_collection({**GOOD_FEATURE, "properties": {"osm": "node/1", "lit": True}}),
            0,
            "lit",
            "must be a string or a number",
        ),
        (
            feature_collection({**GOOD_FEATURE, "properties": {"osm": 5, "lit": "yes"}}),
            0,
            "osm",
            "must be a string",
        ),
        (
            feature_collection(
                GOOD_FEATURE, {**GOOD_FEATURE, "properties": {"osm": "node/1", "kerb": "high"}}
            ),
            1,
            "kerb",
            "kerb 'high' is not one of",
        ),
    ],
)
def test_malformed_geojson(tmp_path: Path, text: str, line: int, field: str, part: str) -> None:
    path = write(tmp_path, "bad.geojson", text)
    with raises_overlay(path, line, field, part):
        read_overlay(path)


def test_geojson_target_not_found(tmp_path: Path, data: OsmData) -> None:
    feature = {**GOOD_FEATURE, "properties": {"osm": "node/42", "lit": "yes"}}
    path = write(tmp_path, "lamps.geojson", feature_collection(GOOD_FEATURE, feature))
    with raises_overlay(path, 1, "osm", "features[1]: node/42 is not in the OSM data"):
        apply_overlays(data, read_overlay(path))


def test_file_level_errors(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("osm,note,lit\nnode/1,Алматы,yes\n".encode("cp1251"))
    with raises_overlay(path, None, None, "not UTF-8"):
        read_overlay(path)
    with raises_overlay(tmp_path / "missing.csv", None, None, "cannot read"):
        read_overlay(tmp_path / "missing.csv")
    path = write(tmp_path, "kerbs.xlsx", "")
    with raises_overlay(path, None, None, "unknown overlay format"):
        read_overlay(path)


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffosm,note,lit\nnode/1,Алматы,yes\n".encode())
    (patch,) = read_overlay(path)
    assert patch.osm_id == 1 and patch.note == "Алматы"


# --- the shipped example and its documentation ---------------------------------------------


def test_example_overlay_is_valid() -> None:
    patches = read_overlay(EXAMPLE_DIR / "example-almaty.csv")
    assert len(patches) >= 3
    for patch in patches:
        assert patch.osm_id is None and patch.lat is not None and patch.lon is not None
        # Central Almaty, around Republic Square and Abylai Khan Avenue.
        assert 43.22 < patch.lat < 43.26 and 76.93 < patch.lon < 76.96
        assert "illustrative" in patch.note.lower()
        assert patch.tags["tactile_paving"] == "yes"


def test_readme_documents_every_key() -> None:
    readme = (EXAMPLE_DIR / "README.md").read_text(encoding="utf-8")
    missing = [key for key in TAG_RULES if f"`{key}`" not in readme]
    assert not missing, f"data/overlays/README.md does not document {missing}"
