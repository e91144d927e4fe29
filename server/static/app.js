// Inclusive routing web page: fills the forms from /profiles and /health, asks /route
// (a street route, shown as text first and as an SVG sketch) and /plan (journeys by bus and
// metro, shown as a list of itineraries with their legs as sentences).
// Everything server-sent is inserted with textContent, never as HTML.
"use strict";

(function () {
  const SVG_NS = "http://www.w3.org/2000/svg";
  const $ = (id) => document.getElementById(id);

  const form = $("route-form");
  const profileSelect = $("profile");
  const paramsList = $("params-list");
  const statusBox = $("status");
  const alertBox = $("alert");
  const results = $("results");
  const submitButton = $("submit");

  let profiles = {};
  let busy = false;

  // -- small helpers -------------------------------------------------------------------
  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      node.setAttribute(key, value);
    }
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function svgEl(tag, attrs, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      node.setAttribute(key, String(value));
    }
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function formatDistance(metres) {
    if (metres >= 1000) return (metres / 1000).toFixed(1) + " kilometres";
    return Math.round(metres) + " metres";
  }

  function formatDuration(seconds) {
    const minutes = Math.round(seconds / 60);
    if (minutes < 1) return "under 1 minute";
    if (minutes < 90) return "about " + minutes + (minutes === 1 ? " minute" : " minutes");
    const hours = Math.floor(minutes / 60);
    return "about " + hours + " h " + (minutes % 60) + " min";
  }

  function formatPoint(lat, lon) {
    return lat.toFixed(5) + ", " + lon.toFixed(5);
  }

  function announce(text) {
    // Clear first so that the same message twice is announced twice.
    statusBox.textContent = "";
    window.setTimeout(() => { statusBox.textContent = text; }, 50);
  }

  function showAlert(text) {
    alertBox.textContent = text;
    alertBox.hidden = !text;
  }

  // -- field errors --------------------------------------------------------------------
  function clearFieldErrors() {
    for (const node of form.querySelectorAll("[aria-invalid]")) {
      node.removeAttribute("aria-invalid");
    }
    for (const node of form.querySelectorAll(".error-text")) {
      node.textContent = "";
      node.hidden = true;
    }
  }

  function fieldFor(name) {
    if (!name) return null;
    if (["from", "to", "profile"].includes(name)) return $(name);
    return $("param-" + name);
  }

  function markFieldError(name, message) {
    const input = fieldFor(name);
    if (!input) return false;
    const errorText = $(input.id + "-error");
    if (errorText) {
      errorText.textContent = message;
      errorText.hidden = false;
    }
    input.setAttribute("aria-invalid", "true");
    if (input.id.startsWith("param-")) $("params-details").open = true;
    input.focus();
    return true;
  }

  // -- profiles and their parameters ---------------------------------------------------
  function renderParameters() {
    const profile = profiles[profileSelect.value];
    paramsList.textContent = "";
    if (!profile) {
      paramsList.append(el("p", { class: "hint" }, "Settings are not available."));
      return;
    }
    for (const param of profile.parameters) {
      const id = "param-" + param.name;
      const wrap = el("div", { class: "field" });
      const unit = param.unit ? " (" + param.unit + ")" : "";
      const label = param.description.charAt(0).toUpperCase() + param.description.slice(1);
      wrap.append(el("label", { for: id }, label + unit));
      let hint;
      let input;
      if (param.type === "boolean") {
        hint = "Default: " + (param.default ? "yes" : "no") + ".";
        input = el("select", { id: id, name: param.name });
        input.append(el("option", { value: "" }, "Default (" + (param.default ? "yes" : "no") + ")"));
        input.append(el("option", { value: "true" }, "Yes"));
        input.append(el("option", { value: "false" }, "No"));
      } else {
        hint = "Default " + param.default + unit + ". Allowed from " + param.minimum +
          " to " + param.maximum + ".";
        input = el("input", {
          id: id, name: param.name, type: "number", inputmode: "decimal", step: "any",
          min: String(param.minimum), max: String(param.maximum),
        });
      }
      const hintNode = el("p", { class: "hint", id: id + "-hint" }, hint);
      const errorNode = el("p", { class: "error-text", id: id + "-error" });
      errorNode.hidden = true;
      input.setAttribute("aria-describedby", id + "-hint " + id + "-error");
      wrap.append(hintNode, input, errorNode);
      paramsList.append(wrap);
    }
  }

  async function loadProfiles() {
    try {
      const response = await fetch("/profiles", { headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error("HTTP " + response.status);
      const list = await response.json();
      const current = profileSelect.value;
      const planCurrent = planProfileSelect.value;
      profileSelect.textContent = "";
      planProfileSelect.textContent = "";
      for (const profile of list) {
        profiles[profile.name] = profile;
        profileSelect.append(el("option", { value: profile.name }, profile.label));
        planProfileSelect.append(el("option", { value: profile.name }, profile.label));
      }
      if (profiles[current]) profileSelect.value = current;
      if (profiles[planCurrent]) planProfileSelect.value = planCurrent;
      renderParameters();
    } catch (err) {
      paramsList.textContent = "";
      paramsList.append(el("p", { class: "hint" },
        "The profile settings could not be loaded (" + err.message + "). " +
        "You can still find routes with the default settings."));
    }
  }

  async function loadCoverage() {
    const coverage = $("coverage");
    try {
      const response = await fetch("/health", { headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error("HTTP " + response.status);
      const body = await response.json();
      showPlanAvailability(body.planner);
      const b = body.graph.bounds;
      coverage.textContent = "This service covers latitudes " + b.min_lat.toFixed(3) + " to " +
        b.max_lat.toFixed(3) + " and longitudes " + b.min_lon.toFixed(3) + " to " +
        b.max_lon.toFixed(3) + ".";
      if (!$("from").value && !$("to").value) {
        const lat = (b.min_lat + b.max_lat) / 2;
        const lon = (b.min_lon + b.max_lon) / 2;
        $("from-hint").textContent = "Latitude, then longitude, in decimal degrees, separated " +
          "by a comma. Example: " + lat.toFixed(4) + ", " + lon.toFixed(4);
      }
    } catch (err) {
      coverage.textContent = "The service status could not be loaded (" + err.message + ").";
    }
  }

  // -- the request ---------------------------------------------------------------------
  function queryFromForm() {
    const query = new URLSearchParams();
    query.set("from", $("from").value.trim());
    query.set("to", $("to").value.trim());
    query.set("profile", profileSelect.value);
    for (const input of paramsList.querySelectorAll("input, select")) {
      const value = input.value.trim();
      if (value !== "") query.set(input.name, value);
    }
    return query;
  }

  // The response and its JSON body (null when the body is not JSON).
  async function getJson(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    let body = null;
    try {
      body = await response.json();
    } catch (_err) {
      body = null;
    }
    return { response, body };
  }

  async function findRoute(event) {
    event.preventDefault();
    if (busy) return;
    busy = true;
    submitButton.setAttribute("aria-disabled", "true");
    clearFieldErrors();
    showAlert("");
    announce("Searching for a route…");
    try {
      const { response, body } = await getJson("/route?" + queryFromForm().toString());
      if (response.ok && body) {
        showRoute(body);
      } else if (response.status === 422 && body && body.error) {
        showNoRoute(body.error);
      } else {
        showError(response.status, body && body.error);
      }
    } catch (err) {
      results.hidden = true;
      showAlert("The routing service could not be reached (" + err.message + "). Try again.");
      announce("");
    } finally {
      busy = false;
      submitButton.removeAttribute("aria-disabled");
    }
  }

  function showError(status, error) {
    results.hidden = true;
    const message = error && error.message ? error.message : "The request failed (HTTP " + status + ").";
    if (status === 400 && error && markFieldError(error.field, message)) {
      showAlert("Please correct the form: " + message);
    } else {
      showAlert(message);
    }
    announce("");
  }

  // -- showing a route -----------------------------------------------------------------
  function profileLabel(name) {
    return profiles[name] ? profiles[name].label : name;
  }

  function fillSummary(body) {
    const summary = $("summary");
    summary.textContent = "";
    const rows = [
      ["Profile", profileLabel(body.profile)],
      ["Distance", formatDistance(body.distance_m)],
      ["Time", formatDuration(body.duration_s)],
      ["Confidence", Math.round(body.confidence * 100) + "% of the route has known " +
        "accessibility information"],
    ];
    for (const [term, value] of rows) {
      summary.append(el("dt", {}, term), el("dd", {}, value));
    }
  }

  function fillSteps(steps) {
    const list = $("steps");
    list.textContent = "";
    for (const step of steps) list.append(el("li", {}, step.instruction));
    if (!steps.length) {
      list.append(el("li", {}, "No steps: the start and the destination are the same place."));
    }
  }

  function fillWarnings(warnings) {
    const list = $("warnings");
    list.textContent = "";
    for (const warning of warnings || []) list.append(el("li", {}, warning.message));
    $("warnings-section").hidden = !(warnings && warnings.length);
  }

  function fillBarriers(barriers) {
    const list = $("barriers");
    list.textContent = "";
    for (const barrier of barriers || []) list.append(el("li", {}, barrier.description));
    $("barriers-section").hidden = !(barriers && barriers.length);
  }

  function revealResults(headingText) {
    const heading = $("results-heading");
    heading.textContent = headingText;
    results.hidden = false;
    heading.focus();
  }

  function showRoute(body) {
    $("results-message").hidden = true;
    $("steps-heading").textContent = "Steps";
    fillSummary(body);
    fillBarriers(body.barriers);
    fillWarnings(body.warnings);
    fillSteps(body.steps);
    drawMap(body.geometry.coordinates, body.barriers || [], false);
    const warningCount = (body.warnings || []).length;
    announce("Route found: " + formatDistance(body.distance_m) + ", " +
      formatDuration(body.duration_s) + ", " + body.steps.length + " steps" +
      (warningCount ? ", " + warningCount + (warningCount === 1 ? " warning" : " warnings") : "") +
      ".");
    revealResults("Route for " + profileLabel(body.profile));
  }

  function showNoRoute(error) {
    const message = $("results-message");
    message.textContent = error.message;
    message.hidden = false;
    const walking = error.walking_route;
    fillBarriers(error.barriers);
    if (walking) {
      fillSummary(walking);
      fillWarnings(walking.warnings);
      fillSteps(walking.steps);
      $("steps-heading").textContent = "Steps of the walking route (not usable with this profile)";
      drawMap(walking.geometry.coordinates, error.barriers || [], true);
    } else {
      $("summary").textContent = "";
      fillWarnings([]);
      fillSteps([]);
      drawMap([], [], true);
    }
    const count = (error.barriers || []).length;
    announce("No route for " + profileLabel(error.profile || profileSelect.value) + "." +
      (count ? " " + count + (count === 1 ? " barrier blocks" : " barriers block") +
        " the walking route." : ""));
    revealResults("No route for " + profileLabel(error.profile || profileSelect.value));
  }

  // -- the SVG sketch ------------------------------------------------------------------
  function drawMap(coordinates, barriers, walking) {
    const svg = $("map");
    const title = $("map-title");
    const desc = $("map-desc");
    for (const node of Array.from(svg.childNodes)) {
      if (node !== title && node !== desc) svg.removeChild(node);
    }
    const width = 640;
    const height = 420;
    const pad = 36;
    // [lat, lon] pairs: route points, then barrier points.
    const line = coordinates.map((c) => [c[1], c[0]]);
    const marks = barriers.map((b) => b.location);
    const all = line.concat(marks);
    if (!all.length) {
      desc.textContent = "Nothing to draw.";
      return;
    }
    let minLat = Infinity, maxLat = -Infinity, minLon = Infinity, maxLon = -Infinity;
    for (const [lat, lon] of all) {
      minLat = Math.min(minLat, lat); maxLat = Math.max(maxLat, lat);
      minLon = Math.min(minLon, lon); maxLon = Math.max(maxLon, lon);
    }
    const midLat = (minLat + maxLat) / 2;
    const kx = Math.cos(midLat * Math.PI / 180); // shrink longitude to keep shapes true
    const spanX = Math.max((maxLon - minLon) * kx, 1e-6);
    const spanY = Math.max(maxLat - minLat, 1e-6);
    const scale = Math.min((width - 2 * pad) / spanX, (height - 2 * pad) / spanY);
    const offX = (width - spanX * scale) / 2;
    const offY = (height - spanY * scale) / 2;
    const project = ([lat, lon]) => [
      offX + (lon - minLon) * kx * scale,
      offY + (maxLat - lat) * scale,
    ];

    svg.append(svgEl("rect", { x: 0, y: 0, width: width, height: height, fill: "none" }));
    if (line.length) {
      const points = line.map((p) => project(p).map((v) => v.toFixed(1)).join(",")).join(" ");
      svg.append(svgEl("polyline", { class: "route-line-halo", points: points }));
      svg.append(svgEl("polyline", {
        class: "route-line" + (walking ? " walking" : ""), points: points,
      }));
      const [sx, sy] = project(line[0]);
      const [ex, ey] = project(line[line.length - 1]);
      svg.append(svgEl("circle", { class: "marker-start", cx: sx, cy: sy, r: 10 }));
      svg.append(svgEl("rect", { class: "marker-end", x: ex - 9, y: ey - 9, width: 18, height: 18 }));
      svg.append(svgEl("text", { class: "map-label", x: sx + 14, y: sy - 10 }, "Start"));
      svg.append(svgEl("text", { class: "map-label", x: ex + 14, y: ey - 10 }, "Destination"));
    }
    marks.forEach((location, i) => {
      const [bx, by] = project(location);
      svg.append(svgEl("path", {
        class: "marker-barrier",
        d: "M" + bx + " " + (by - 13) + " L" + (bx + 12) + " " + (by + 9) + " L" + (bx - 12) +
          " " + (by + 9) + " Z",
      }));
      svg.append(svgEl("text", { class: "barrier-number", x: bx, y: by + 6 }, String(i + 1)));
    });
    drawScaleBar(svg, scale, height);
    svg.append(svgEl("text", { class: "map-label", x: width - 40, y: 26 }, "N ↑"));

    const parts = [];
    if (line.length) {
      const s = line[0];
      const e = line[line.length - 1];
      parts.push((walking ? "Dashed walking route" : "Route line") + " from the start at " +
        formatPoint(s[0], s[1]) + " to the destination at " + formatPoint(e[0], e[1]) + ".");
    }
    if (marks.length) {
      parts.push(marks.length + (marks.length === 1 ? " barrier is" : " barriers are") +
        " marked with numbered triangles, in the order of the list of what blocks the way.");
    }
    title.textContent = walking ? "Sketch of the walking route and its barriers" : "Sketch of the route";
    desc.textContent = parts.join(" ");
  }

  function drawScaleBar(svg, scale, height) {
    const width = 640;
    // scale is pixels per degree of latitude; one degree of latitude is about 111,320 m.
    const pxPerMetre = scale / 111320;
    const candidates = [10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];
    let metres = candidates[0];
    for (const c of candidates) if (c * pxPerMetre <= width / 4) metres = c;
    const length = metres * pxPerMetre;
    const x = 16;
    const y = height - 16;
    svg.append(svgEl("line", { class: "scale-bar", x1: x, y1: y, x2: x + length, y2: y }));
    svg.append(svgEl("text", { class: "map-label", x: x, y: y - 8 },
      metres >= 1000 ? metres / 1000 + " km" : metres + " m"));
  }

  // -- small conveniences --------------------------------------------------------------
  function swap() {
    const from = $("from");
    const to = $("to");
    [from.value, to.value] = [to.value, from.value];
    announce("Start and destination swapped.");
  }

  function setUpLocate() {
    const button = $("locate");
    if (!("geolocation" in navigator) || !window.isSecureContext) return;
    button.hidden = false;
    button.addEventListener("click", () => {
      announce("Finding your location…");
      navigator.geolocation.getCurrentPosition(
        (position) => {
          $("from").value = position.coords.latitude.toFixed(6) + ", " +
            position.coords.longitude.toFixed(6);
          announce("Start set to your current location, accurate to about " +
            Math.round(position.coords.accuracy) + " metres.");
        },
        (err) => announce("Your location is not available: " + err.message),
        { enableHighAccuracy: true, timeout: 15000 },
      );
    });
  }

  // -- journeys by bus and metro (/plan) ------------------------------------------------
  const planForm = $("plan-form");
  const planProfileSelect = $("plan-profile");
  const planStatus = $("plan-status");
  const planAlert = $("plan-alert");
  const planResults = $("plan-results");
  const planSubmit = $("plan-submit");
  const PLAN_FIELDS = { from: "plan-from", to: "plan-to", time: "plan-time",
    profile: "plan-profile", max_transfers: "plan-max-transfers" };
  const MODE_NAMES = { bus: "Bus", trolleybus: "Trolleybus", metro: "Metro", tram: "Tram",
    rail: "Train" };
  let planBusy = false;

  function planAnnounce(text) {
    planStatus.textContent = "";
    window.setTimeout(() => { planStatus.textContent = text; }, 50);
  }

  function showPlanAlert(text) {
    planAlert.textContent = text;
    planAlert.hidden = !text;
  }

  function showPlanAvailability(planner) {
    const note = $("plan-availability");
    if (planner) {
      note.textContent = "Journeys combine walking with buses and the metro (" + planner.stops +
        " stops, " + planner.routes + " routes), using only the vehicles and stops the " +
        "traveller can use.";
    } else {
      note.textContent = "Public transport planning is not available on this server: it " +
        "runs without a timetable. Street routes above still work.";
    }
  }

  // Now in Almaty, as the value of a datetime-local input (YYYY-MM-DDTHH:MM).
  function almatyNow() {
    const parts = {};
    const format = new Intl.DateTimeFormat("en-GB", {
      timeZone: "Asia/Almaty", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    });
    for (const part of format.formatToParts(new Date())) parts[part.type] = part.value;
    return parts.year + "-" + parts.month + "-" + parts.day + "T" + parts.hour + ":" +
      parts.minute;
  }

  function setPlanTimeNow(say) {
    try {
      $("plan-time").value = almatyNow();
    } catch (_err) {
      $("plan-time").value = "";  // an empty time means now for the server
    }
    if (say) planAnnounce("Departure set to now.");
  }

  function clearPlanErrors() {
    for (const node of planForm.querySelectorAll("[aria-invalid]")) {
      node.removeAttribute("aria-invalid");
    }
    for (const node of planForm.querySelectorAll(".error-text")) {
      node.textContent = "";
      node.hidden = true;
    }
  }

  function markPlanFieldError(name, message) {
    const input = name && PLAN_FIELDS[name] ? $(PLAN_FIELDS[name]) : null;
    if (!input) return false;
    const errorText = $(input.id + "-error");
    if (errorText) {
      errorText.textContent = message;
      errorText.hidden = false;
    }
    input.setAttribute("aria-invalid", "true");
    input.focus();
    return true;
  }

  function planQuery() {
    const query = new URLSearchParams();
    query.set("from", $("plan-from").value.trim());
    query.set("to", $("plan-to").value.trim());
    query.set("profile", planProfileSelect.value);
    const time = $("plan-time").value.trim();
    if (time) query.set("time", time);
    const maxTransfers = $("plan-max-transfers").value;
    if (maxTransfers !== "") query.set("max_transfers", maxTransfers);
    return query;
  }

  async function findJourneys(event) {
    event.preventDefault();
    if (planBusy) return;
    planBusy = true;
    planSubmit.setAttribute("aria-disabled", "true");
    clearPlanErrors();
    showPlanAlert("");
    planAnnounce("Searching for journeys…");
    try {
      const { response, body } = await getJson("/plan?" + planQuery().toString());
      if (response.ok && body) {
        showPlan(body);
      } else {
        showPlanError(response.status, body && body.error);
      }
    } catch (err) {
      planResults.hidden = true;
      showPlanAlert("The journey planner could not be reached (" + err.message + "). Try again.");
      planAnnounce("");
    } finally {
      planBusy = false;
      planSubmit.removeAttribute("aria-disabled");
    }
  }

  function showPlanError(status, error) {
    planResults.hidden = true;
    const message = error && error.message ? error.message :
      "The request failed (HTTP " + status + ").";
    if (status === 400 && error && markPlanFieldError(error.field, message)) {
      showPlanAlert("Please correct the journey form: " + message);
    } else if (status === 422) {
      showPlanAlert("No journey found. " + message);
    } else {
      showPlanAlert(message);
    }
    planAnnounce("");
  }

  function clock(text) {
    // "2026-12-07T08:10:42+05:00" -> "08:10" (times are in the feed's zone, Almaty).
    const match = /T(\d{2}):(\d{2})/.exec(text || "");
    return match ? match[1] + ":" + match[2] : String(text);
  }

  function placeName(stop) {
    if (!stop) return "";
    if (!stop.stop_id && stop.name === "origin") return "the start";
    if (!stop.stop_id && stop.name === "destination") return "your destination";
    return stop.name || formatPoint(stop.lat, stop.lon);
  }

  function describeLeg(leg) {
    if (leg.mode === "walk") {
      const what = leg.distance_m !== undefined && leg.distance_m !== null ?
        "Walk " + formatDistance(leg.distance_m) : "Walk";
      return what + " to " + placeName(leg.to) + " (" + formatDuration(leg.duration_s) + ").";
    }
    const mode = MODE_NAMES[leg.mode] || leg.mode;
    const route = String(leg.route || "").trim();
    const name = route.toLowerCase().includes(mode.toLowerCase()) ? route :
      (mode + " " + route).trim();
    let text = name + " from " + placeName(leg.from) + " at " + clock(leg.departure) + " to " +
      placeName(leg.to) + " at " + clock(leg.arrival);
    if (leg.headsign) text += " (towards " + leg.headsign + ")";
    text += ".";
    if (leg.accessible_vehicle === "yes") text += " Low-floor vehicle with a ramp.";
    return text;
  }

  function itineraryTitle(itinerary, index) {
    const changes = itinerary.transfers === 1 ? "1 change" : itinerary.transfers + " changes";
    return "Option " + (index + 1) + ": leave " + clock(itinerary.departure) + ", arrive " +
      clock(itinerary.arrival) + ", " + formatDuration(itinerary.duration_s) + ", " + changes +
      ", walking " + formatDistance(itinerary.walk_distance_m);
  }

  function showPlan(body) {
    const list = $("itineraries");
    list.textContent = "";
    const message = $("plan-results-message");
    const itineraries = body.itineraries || [];
    itineraries.forEach((itinerary, i) => {
      const item = el("li", { class: "itinerary" });
      const headingId = "itinerary-" + (i + 1) + "-heading";
      item.setAttribute("aria-labelledby", headingId);
      item.append(el("h3", { id: headingId }, itineraryTitle(itinerary, i)));
      const legs = el("ol", { class: "legs", "aria-label": "Legs of option " + (i + 1) });
      for (const leg of itinerary.legs || []) {
        legs.append(el("li", { class: "leg leg-" + leg.mode }, describeLeg(leg)));
      }
      item.append(legs);
      const warnings = itinerary.warnings || [];
      if (warnings.length) {
        item.append(el("h4", {}, "Warnings for option " + (i + 1)));
        const warningList = el("ul", { class: "warnings" });
        for (const warning of warnings) warningList.append(el("li", {}, warning.message));
        item.append(warningList);
      }
      list.append(item);
    });
    message.hidden = itineraries.length > 0;
    message.textContent = itineraries.length ? "" : "No journey found.";
    const heading = $("plan-results-heading");
    heading.textContent = "Journeys for " + profileLabel(body.profile) + ", leaving " +
      clock(body.time);
    planResults.hidden = false;
    heading.focus();
    planAnnounce(itineraries.length + (itineraries.length === 1 ? " journey" : " journeys") +
      " found." + (itineraries.length ? " The first takes " +
        formatDuration(itineraries[0].duration_s) + "." : ""));
  }

  function swapPlan() {
    const from = $("plan-from");
    const to = $("plan-to");
    [from.value, to.value] = [to.value, from.value];
    planAnnounce("Start and destination swapped.");
  }

  planForm.addEventListener("submit", findJourneys);
  $("plan-swap").addEventListener("click", swapPlan);
  $("plan-now").addEventListener("click", () => setPlanTimeNow(true));
  setPlanTimeNow(false);

  form.addEventListener("submit", findRoute);
  profileSelect.addEventListener("change", renderParameters);
  $("swap").addEventListener("click", swap);
  setUpLocate();
  loadProfiles();
  loadCoverage();
})();
