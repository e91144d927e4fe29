"""Each accessibility rule proved on a small hand-written OSM fixture."""

from __future__ import annotations

import pytest
from routing_helpers import OVERLAY_FIXTURES, route_ways, router_for

from routing.cost import get_profile
from routing.errors import NoRouteError, OutsideAreaError

A, B = (43.2400, 76.9400), (43.2400, 76.9420)


class TestSteps:
    def test_walk_takes_the_steps(self):
        r = router_for("steps.osm.xml")
        assert 101 in route_ways(r, A, B, "walk")

    @pytest.mark.parametrize("profile", ["wheelchair_manual", "wheelchair_electric"])
    def test_wheelchair_avoids_steps(self, profile):
        r = router_for("steps.osm.xml")
        ways = route_ways(r, A, B, profile)
        assert 101 not in ways and ways == [102]

    def test_reduced_mobility_refuses_long_flights(self):
        r = router_for("steps.osm.xml")
        with pytest.raises(NoRouteError) as exc:
            r.route(A, (43.2390, 76.9420), get_profile("reduced_mobility", {"max_step_count": 15}))
        assert "long flight of steps" in exc.value.message

    def test_only_reachable_by_steps_is_422_with_reason_and_walking_route(self):
        r = router_for("steps.osm.xml")
        with pytest.raises(NoRouteError) as exc:
            r.route(A, (43.2390, 76.9420), get_profile("wheelchair_manual"))
        err = exc.value
        assert err.http_status == 422
        assert "steps without a ramp" in err.message
        walking = err.details["walking_route"]
        assert walking["profile"] == "walk" and walking["distance_m"] > 0
        assert any("steps without a ramp" in b["reasons"] for b in err.details["barriers"])
        assert all(b["osm_way"] in (101, 103) for b in err.details["barriers"])

    def test_steps_instruction_mentions_count_and_handrail(self):
        r = router_for("steps.osm.xml")
        steps = r.route(A, B, get_profile("walk")).to_dict()["steps"]
        text = " ".join(s["instruction"] for s in steps)
        assert "12 steps" in text and "handrail present" in text


class TestKerbsAndCrossings:
    NORTH, SOUTH = (43.2402, 76.9400), (43.2398, 76.9400)

    def test_walk_crosses_directly(self):
        r = router_for("crossings.osm.xml")
        assert route_ways(r, self.NORTH, self.SOUTH, "walk") == [301]

    def test_wheelchair_avoids_raised_kerbs(self):
        r = router_for("crossings.osm.xml")
        ways = route_ways(r, self.NORTH, self.SOUTH, "wheelchair_manual")
        assert 301 not in ways

    def test_unknown_kerb_is_used_but_priced_and_warned(self):
        r = router_for("crossings.osm.xml")
        route = r.route(self.NORTH, self.SOUTH, get_profile("wheelchair_manual"))
        assert 302 in [int(r.graph.edge["osmid"][e]) for e in route.edges]
        codes = [w["code"] for w in route.warnings]
        assert "unknown_kerb" in codes
        assert route.confidence < 1.0
        # Pricing unknown kerbs higher sends the chair to the crossing with known lowered kerbs.
        ways = route_ways(r, self.NORTH, self.SOUTH, "wheelchair_manual", unknown_cost_s=600)
        assert 303 in ways and 302 not in ways

    def test_lowered_kerbs_pass(self):
        r = router_for("crossings.osm.xml", overlays=[OVERLAY_FIXTURES / "close_c2.csv"])
        ways = route_ways(r, self.NORTH, self.SOUTH, "wheelchair_manual")
        assert 303 in ways

    def test_blind_prefers_audible_tactile_crossing(self):
        r = router_for("crossings.osm.xml")
        blind = route_ways(r, self.NORTH, self.SOUTH, "blind")
        walk = route_ways(r, self.NORTH, self.SOUTH, "walk")
        assert 303 in blind and 301 not in blind and 302 not in blind
        assert walk == [301]
        steps = r.route(self.NORTH, self.SOUTH, get_profile("blind")).to_dict()["steps"]
        crossing = [s for s in steps if s["maneuver"] == "cross"]
        assert crossing and "audible signal" in crossing[0]["instruction"]
        assert "tactile paving present" in crossing[0]["instruction"]
        assert "Abai Avenue" in crossing[0]["instruction"]

    def test_blind_crossing_costs_are_tunable(self):
        r = router_for("crossings.osm.xml")
        cheap = dict(
            crossing_unsignalled_s=0,
            crossing_unmarked_s=0,
            no_tactile_s=0,
            unknown_cost_s=0,
            crossing_no_sound_s=0,
        )
        assert route_ways(r, self.NORTH, self.SOUTH, "blind", **cheap) == [301]

    def test_closing_a_crossing_by_overlay_changes_the_route(self):
        r = router_for("crossings.osm.xml", overlays=[OVERLAY_FIXTURES / "close_c3.csv"])
        blind = route_ways(r, self.NORTH, self.SOUTH, "blind")
        assert 303 not in blind


class TestGrade:
    LOW, HIGH = (43.2400, 76.9400), (43.2400, 76.9412)

    def test_manual_wheelchair_may_roll_down_but_not_climb(self):
        r = router_for("ramp.osm.xml")
        assert route_ways(r, self.LOW, self.HIGH, "wheelchair_manual") == [401]
        assert route_ways(r, self.HIGH, self.LOW, "wheelchair_manual") == [400]

    def test_electric_wheelchair_climbs_the_ramp(self):
        r = router_for("ramp.osm.xml")
        assert route_ways(r, self.LOW, self.HIGH, "wheelchair_electric") == [400]

    def test_limit_is_a_request_parameter(self):
        r = router_for("ramp.osm.xml")
        assert route_ways(r, self.LOW, self.HIGH, "wheelchair_manual", max_uphill=0.1) == [400]

    def test_grade_is_directional(self):
        r = router_for("ramp.osm.xml")
        g = r.graph
        ramp = g.edge["osmid"] == 400
        grades = sorted(float(x) for x in g.edge["grade"][ramp])
        assert grades == pytest.approx([-0.09, 0.09], abs=1e-6)

    def test_uphill_is_slower_than_downhill(self):
        r = router_for("ramp.osm.xml")
        p = get_profile("wheelchair_electric")
        up = r.route(self.LOW, self.HIGH, p)
        down = r.route(self.HIGH, self.LOW, p)
        assert up.distance_m == pytest.approx(down.distance_m)
        assert up.duration_s > down.duration_s


class TestSurfacesAndElevators:
    def test_wheelchair_avoids_gravel_and_very_bad_smoothness(self):
        r = router_for("surfaces.osm.xml")
        assert route_ways(r, A, B, "walk") in ([500], [503])
        assert route_ways(r, A, B, "wheelchair_manual") == [501]

    def test_loose_surface_allowed_by_override(self):
        r = router_for("surfaces.osm.xml")
        ways = route_ways(r, A, B, "wheelchair_manual", allow_loose_surface="true")
        assert ways in ([500], [501])

    def test_elevator_used_then_overlay_closes_it(self):
        c = (43.2400, 76.9440)
        r = router_for("surfaces.osm.xml")
        route = r.route(c, B, get_profile("wheelchair_manual"))
        assert [s["maneuver"] for s in route.to_dict()["steps"]].count("elevator") == 1
        lift = next(s for s in route.steps if s.code == "elevator")
        assert lift.params == {"levels": "0;1"} and "levels 0, 1" in lift.instruction
        closed = router_for("surfaces.osm.xml", overlays=[OVERLAY_FIXTURES / "elevator_out.csv"])
        detour = closed.route(c, B, get_profile("wheelchair_manual"))
        assert 502 not in [int(closed.graph.edge["osmid"][e]) for e in detour.edges]
        assert detour.distance_m > route.distance_m * 3


class TestQueryContract:
    def test_route_body_has_contract_keys(self):
        r = router_for("crossings.osm.xml")
        body = r.route((43.2402, 76.9385), (43.2398, 76.9425), get_profile("walk")).to_dict()
        assert {
            "profile",
            "distance_m",
            "duration_s",
            "geometry",
            "steps",
            "warnings",
            "confidence",
        } <= body.keys()
        assert body["geometry"]["type"] == "LineString"
        assert all(s["instruction"] for s in body["steps"])
        assert 0.0 <= body["confidence"] <= 1.0

    def test_geojson_is_a_feature_collection(self):
        r = router_for("crossings.osm.xml")
        fc = r.route((43.2402, 76.9385), (43.2398, 76.9425), get_profile("walk")).to_geojson()
        assert fc["type"] == "FeatureCollection"
        assert fc["features"][0]["geometry"]["type"] == "LineString"

    def test_point_outside_area_is_rejected_naming_the_field(self):
        r = router_for("crossings.osm.xml")
        with pytest.raises(OutsideAreaError) as exc:
            r.route((43.30, 76.90), (43.2398, 76.9400), get_profile("walk"))
        assert exc.value.field == "from" and exc.value.http_status == 400

    def test_snaps_to_a_usable_way_not_to_the_raised_kerb(self):
        r = router_for("crossings.osm.xml")
        # The point lies on crossing C1 beside its raised kerb: a wheelchair starts on the
        # sidewalk 3 m away instead, a walker right there.
        point = (43.24017, 76.9400)
        chair = r.route(point, (43.2398, 76.9430), get_profile("wheelchair_manual"))
        walk = r.route(point, (43.2398, 76.9430), get_profile("walk"))
        assert int(r.graph.edge["osmid"][chair.edges[0]]) == 200
        assert 2.0 < chair.snapped["from"]["distance_m"] < 5.0
        assert walk.snapped["from"]["distance_m"] < 0.5


def test_same_point_gives_a_valid_empty_route():
    r = router_for("crossings.osm.xml")
    body = r.route((43.2402, 76.9385), (43.2402, 76.9385), get_profile("walk")).to_dict()
    assert body["distance_m"] == 0
    assert len(body["geometry"]["coordinates"]) == 2
    assert body["steps"][0]["maneuver"] == "arrive"
