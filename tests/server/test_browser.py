"""The web page in a real browser: Debian's Chromium driven by Playwright, checked by axe-core.

Every state a resident meets (a route, a journey, no route, form errors) is checked in all
three languages with axe-core (WCAG 2.0/2.1 A and AA: 0 violations); a keyboard-only flow
searches places, picks them, routes and reaches the steps; at 320 px with WCAG 1.4.12 text
spacing the page must not scroll sideways; the URL keeps the query and Back restores it.
The dispatcher's page shows a plan made through ``/dispatch`` on a small generated Almaty day,
held to the same bar (axe in three languages, keyboard only, no sideways scrolling).
The browser is ``/usr/bin/chromium`` (``make test`` installs Debian's package); nothing is
downloaded, and the page only talks to the local server.
"""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from werkzeug.serving import make_server

from routing.dispatch.carnet import load_car_network
from routing.dispatch.day import generate_day
from routing.router import StreetRouter
from server import create_app

REPO = Path(__file__).resolve().parents[2]
AXE = REPO / "server" / "static" / "vendor" / "axe.min.js"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]  # fmt: skip
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# WCAG 1.4.12 text spacing, as the bookmarklets that testers use apply it.
TEXT_SPACING = """* { line-height: 1.5 !important; letter-spacing: 0.12em !important;
  word-spacing: 0.16em !important; } p { margin-bottom: 2em !important; }"""

REPUBLIC_SQUARE = "43.2383,76.9453"
ABAY_STATION = "43.2425,76.9484"
RAIYMBEK = "43.2725,76.9440"
MOMYSHULY = "43.2150,76.8390"
MONDAY_0800 = "2026-12-07T08:00"


@pytest.fixture(scope="module")
def dispatch_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dispatch")


@pytest.fixture(scope="module")
def base_url(almaty_router: StreetRouter, almaty_gtfs: Path, shared_data: Path,
             dispatch_dir: Path) -> Iterator[str]:  # fmt: skip
    almaty = shared_data / "almaty"
    app = create_app({
        "TESTING": True, "GTFS": str(almaty_gtfs),
        "CACHE_DIR": str(dispatch_dir / "cache"),
        "DISPATCH_DB": f"sqlite:///{dispatch_dir / 'dispatch.sqlite'}",
        "OSM": str(almaty / "osm" / "almaty-2012.osm.pbf"),
        "PLACE_OVERPASS": [str(almaty / "bus" / "bus_stops_overpass.json")],
        "PLACE_STATIONS": [str(almaty / "metro" / "stations.json")],
    }, router=almaty_router)  # fmt: skip
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"Chromium not found at {CHROMIUM}: `make test` installs Debian's chromium "
                    "package (apt-get install chromium)", pytrace=False)  # fmt: skip
    assert AXE.is_file(), "axe-core is missing: `make web` runs npm ci and copies it"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture()
def page(browser, base_url: str) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    # the page may only talk to our own server
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
        base_url) or route.request.url.startswith("data:") else route.abort())  # fmt: skip
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    yield page
    context.close()
    assert errors == [], "script errors on the page"


def axe_violations(page) -> list[dict]:
    # axe-core from npm, served by our own static folder (the page's CSP allows only 'self')
    page.add_script_tag(url="/static/vendor/axe.min.js")
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})",
                           WCAG_TAGS)  # fmt: skip
    return [{"id": v["id"], "nodes": [n["target"] for n in v["nodes"]][:3]}
            for v in result["violations"]]  # fmt: skip


def open_state(page, base_url: str, **query: str) -> None:
    page.goto(f"{base_url}/?{urlencode(query)}")
    page.wait_for_selector("#results:not([hidden]), #form-errors:not([hidden])", timeout=60_000)


ROUTE = {"from": REPUBLIC_SQUARE, "from_name": "Republic Square", "to": ABAY_STATION,
         "to_name": "Abay", "profile": "wheelchair_manual", "mode": "street"}  # fmt: skip
STATES = {
    "route": ROUTE,
    "journey": {"from": RAIYMBEK, "to": MOMYSHULY, "profile": "walk", "mode": "transit",
                "time": MONDAY_0800},
    "no-route": {**ROUTE, "max_uphill": "0.01"},
    "reach": {"from": REPUBLIC_SQUARE, "profile": "wheelchair_manual", "mode": "reach",
              "minutes": "5,10,15"},
}  # fmt: skip


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_every_state_has_no_axe_violations(page, base_url: str, lang: str) -> None:
    page.goto(f"{base_url}/?lang={lang}")
    page.wait_for_selector(".leaflet-container")
    assert page.get_attribute("html", "lang") == lang
    assert axe_violations(page) == [], "empty form"
    for name, query in STATES.items():
        open_state(page, base_url, lang=lang, **query)
        heading = page.text_content("#results-heading")
        if name == "no-route":
            assert page.locator(".barriers li").count() > 0, heading
        elif name == "reach":
            assert page.locator(".reach li").count() == 3, heading
        elif name == "journey":
            assert page.locator(".itinerary").count() > 0, heading
            assert page.locator(".leg-walk details").count() > 0  # walking steps are shown
        else:
            assert page.locator(".steps li").count() > 1, heading
            # the route (two paths: halo and line), then the base map's ways around it
            page.wait_for_function("() => document.querySelectorAll("
                                   "'.leaflet-overlay-pane path').length > 10")  # fmt: skip
        assert axe_violations(page) == [], name
    # the error state: nothing typed, every field error at once
    page.goto(f"{base_url}/?lang={lang}")
    page.click("#submit")
    page.wait_for_selector("#form-errors:not([hidden])")
    assert page.locator("[aria-invalid=true]").count() == 2  # start and destination
    assert axe_violations(page) == [], "form errors"


def test_keyboard_only_search_pick_route_and_read_steps(page, base_url: str) -> None:
    page.goto(f"{base_url}/?lang=ru")
    page.wait_for_selector(".leaflet-container")
    for _ in range(12):  # from the top of the page to the start field, by Tab alone
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "from":
            break
    assert page.evaluate("document.activeElement.id") == "from"
    for field, text in (("from", "Абая"), ("to", "Almaly")):
        if field == "to":
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.id") == "to"
        page.keyboard.type(text, delay=30)
        page.wait_for_selector(f"#{field}-listbox:not([hidden]) [role=option]")
        assert page.get_attribute(f"#{field}", "aria-expanded") == "true"
        page.keyboard.press("ArrowDown")
        active = page.get_attribute(f"#{field}", "aria-activedescendant")
        assert active == f"{field}-option-0"
        page.keyboard.press("Enter")
        assert page.get_attribute(f"#{field}", "aria-expanded") == "false"
        assert "Выбрано" in page.text_content(f"#{field}-chosen")
    assert page.input_value("#from") == "Абая" and page.input_value("#to") == "Алмалы"
    page.keyboard.press("Enter")  # submits the form
    page.wait_for_selector("#results:not([hidden])", timeout=60_000)
    assert page.evaluate("document.activeElement.id") == "results-heading"
    steps = page.locator(".steps li").all_text_contents()
    assert steps and steps[-1] == "Вы на месте."
    query = parse_qs(urlparse(page.url).query)
    assert query["from_name"] == ["Абая"] and query["lang"] == ["ru"]


def test_url_keeps_the_query_and_back_restores_it(page, base_url: str) -> None:
    open_state(page, base_url, lang="en", **ROUTE)
    first = page.text_content("#results-body .summary")
    page.fill("#to", "43.2520,76.9471")
    page.click("#submit")
    page.wait_for_function("() => location.search.includes('43.252')")
    page.wait_for_function(f"() => document.querySelector('#results-body .summary')"
                           f".textContent !== {first!r}")  # fmt: skip
    page.go_back()
    page.wait_for_function("() => document.querySelector('#to').value === 'Abay'")
    page.wait_for_function(f"() => document.querySelector('#results-body .summary')"
                           f".textContent === {first!r}")  # fmt: skip


@pytest.mark.parametrize("width", [1280, 320])
def test_no_sideways_scrolling_with_text_spacing(browser, base_url: str, width: int,
                                                 tmp_path: Path) -> None:  # fmt: skip
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    for lang, query in (("kk", STATES["journey"]), ("ru", STATES["no-route"])):
        open_state(page, base_url, lang=lang, **query)
        page.add_style_tag(content=TEXT_SPACING)
        page.wait_for_timeout(100)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        page.screenshot(path=str(tmp_path / f"{lang}-{width}.png"), full_page=True)
        assert overflow <= 0, f"{lang} at {width} px scrolls sideways by {overflow} px"
        # every control is inside the viewport
        outside = page.evaluate("""w => [...document.querySelectorAll('input, select, button')]
            .filter(e => e.offsetParent && e.getBoundingClientRect().right > w + 1)
            .map(e => e.id)""", width)  # fmt: skip
        assert outside == []
    context.close()


# -- the dispatcher's page ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def dispatch_plan(base_url: str, almaty_osm: Path, dispatch_dir: Path) -> int:
    """A plan of a small generated day (8 trips, 3 vans) plus one booking no van can carry,
    made through the HTTP API as a dispatcher's system would."""
    network = load_car_network(almaty_osm, cache_dir=dispatch_dir / "cache")  # the server's cache
    day = generate_day(almaty_osm, network, bookings=8, vehicles=3, seed=3)
    too_big = dict(day["bookings"][0], id="group-of-three", passengers={"wheelchair": 3})
    post = _post_json(base_url)
    assert post("/dispatch/vehicles", {"vehicles": day["vehicles"]})[0] == 201
    assert post("/dispatch/bookings", {"bookings": [*day["bookings"], too_big]})[0] == 201
    status, plan = post("/dispatch/plan?wait=true", {"time_limit": 2})
    assert status == 200 and plan["status"] == "done", plan
    assert plan["result"]["kpis"]["served"] >= 1
    assert [u["reason"] for u in plan["result"]["plan"]["unserved"]
            if u["booking_id"] == "group-of-three"] == ["no_vehicle_with_places"]  # fmt: skip
    return plan["id"]


def _post_json(base_url: str):
    import json
    import urllib.request

    def post(path: str, body: dict) -> tuple[int, dict]:
        request = urllib.request.Request(base_url + path, data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})  # fmt: skip
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.load(response)

    return post


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_dispatch_view_has_no_axe_violations(page, base_url: str, dispatch_plan: int,
                                             lang: str) -> None:  # fmt: skip
    # reachable from the trip planner by its link
    page.goto(f"{base_url}/?lang={lang}")
    page.click("a[href^='/dispatcher']")
    page.wait_for_selector("#plan-heading")
    assert page.get_attribute("html", "lang") == lang
    # the newest finished plan is shown and marked in the list
    assert page.get_attribute(f"table a[href$='plan={dispatch_plan}']", "aria-current") == "page"
    page.wait_for_selector("#map[data-drawn=true]")
    vans = page.locator(".vehicle").count()
    assert vans >= 1
    kpis = page.text_content(".kpis")
    # figures in the language's own notation: 81,0 км in Russian and Kazakh, 81.0 km in English
    assert re.search(r"\d\.\d km" if lang == "en" else r"\d,\d км", kpis), kpis
    # each van: a table of its stops with times, and a drawn timeline named in words
    assert page.locator(".stops-table").count() == vans
    rows = page.locator(".stops-table tbody tr").count()
    assert rows >= 2 and rows % 2 == 0  # a pickup and a drop-off per served booking
    assert page.locator("svg.timeline[role=img] title").count() == vans
    assert page.locator("svg.timeline .stop-mark text").count() == rows  # P/D letters
    # the map: one pattern and a label per van, a numbered mark per stop, the left-out booking
    assert page.locator(".leaflet-tooltip.van-label").count() == vans
    assert page.locator(".van-key").count() == vans
    dashes = page.locator(".van-key").evaluate_all("items => items.map(i => i.dataset.dash)")
    assert len(set(dashes)) == min(vans, 6)
    unserved = page.locator("table.unserved tbody th").all_text_contents()
    assert "group-of-three" in unserved
    assert page.locator(".leaflet-marker-pane .map-mark").count() == rows + len(unserved)
    assert axe_violations(page) == []


def test_dispatch_view_keyboard_only(page, base_url: str, dispatch_plan: int) -> None:
    page.goto(f"{base_url}/dispatcher?lang=kk&plan={dispatch_plan}")
    page.wait_for_selector("#map[data-drawn=true]")
    reached = []
    for _ in range(40):  # every link and the scrollable tables and map are reached by Tab
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.id || document.activeElement"
                                     ".getAttribute('aria-label') || document.activeElement.href"))
        if page.evaluate("document.activeElement.id") == "map":
            break
    assert reached[-1] == "map", reached
    assert any("Көлігінің аялдамалары".lower() in str(r).lower() for r in reached), reached
    # the map moves by keyboard (Leaflet's arrow keys)
    before = page.evaluate("document.querySelector('.leaflet-map-pane').style.transform")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("b => document.querySelector('.leaflet-map-pane').style.transform !== b",
                           arg=before)  # fmt: skip
    # the plan list's link opens a plan by Enter
    page.focus(f"a[href$='plan={dispatch_plan}']")
    page.keyboard.press("Enter")
    page.wait_for_selector("#plan-heading")
    assert f"plan={dispatch_plan}" in page.url


def test_dispatch_view_at_320_px_with_text_spacing(browser, base_url: str,
                                                   dispatch_plan: int) -> None:  # fmt: skip
    context = browser.new_context(viewport={"width": 320, "height": 800})
    page = context.new_page()
    page.goto(f"{base_url}/dispatcher?lang=ru&plan={dispatch_plan}")
    page.wait_for_selector("#map[data-drawn=true]")
    page.add_style_tag(content=TEXT_SPACING)
    page.wait_for_timeout(100)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
                && !(e.parentElement && e.parentElement.closest('.table-wrap, .leaflet-container')))
        .slice(0, 5).map(e => e.tagName + '.' + e.className)""")  # fmt: skip
    context.close()
    assert overflow <= 0, f"the dispatcher's page scrolls sideways by {overflow} px: {wide}"
