// Inclusive routing web page: place search (WAI-ARIA combobox over /places), a Leaflet map
// drawn from the server's own /basemap, street routes (/route) and journeys (/plan), in
// Kazakh, Russian or English, with the query kept in the URL.
// Everything server-sent is inserted with textContent, never as HTML.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const I18N = JSON.parse($("i18n").textContent);
  const LANG = I18N.lang;

  // t(message, params): the catalogue's text for message, its %(name)s placeholders filled.
  function t(message, params) {
    const text = I18N.messages[message] || message;
    return text.replace(/%\((\w+)\)s/g, (_m, key) => String(params && key in params ? params[key] : ""));
  }

  // Like t(), but placeholders named in `nodes` become those nodes (names in their own
  // language), wherever the translation puts them.
  function tNodes(message, params, nodes) {
    const text = I18N.messages[message] || message;
    const frag = document.createDocumentFragment();
    for (const [i, piece] of text.split(/%\((\w+)\)s/).entries()) {
      if (i % 2 === 0) { if (piece) frag.append(document.createTextNode(piece)); continue; }
      if (nodes && piece in nodes) frag.append(nodes[piece]);
      else frag.append(document.createTextNode(String(params && piece in params ? params[piece] : "")));
    }
    return frag;
  }

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  // A name in its own language, so a screen reader switches voice (WCAG 3.1.2).
  function nameSpan(text, lang) {
    const guess = lang || (/[\u0400-\u04ff]/.test(text) ? "ru" : "en");
    const span = el("span", {}, text);
    if (guess !== LANG) span.setAttribute("lang", guess);
    return span;
  }

  function sentence(parts) {
    // parts: strings and nodes, appended in order into a text-bearing element
    const frag = document.createDocumentFragment();
    for (const part of parts) frag.append(typeof part === "string" ? document.createTextNode(part) : part);
    return frag;
  }

  const numberFormat = new Intl.NumberFormat(LANG === "kk" ? "kk-KZ" : LANG === "ru" ? "ru-RU" : "en-GB",
    { maximumFractionDigits: 1 });

  const areaFormat = new Intl.NumberFormat(numberFormat.resolvedOptions().locale,
    { maximumSignificantDigits: 2 });

  function formatDistance(metres) {
    if (metres >= 1000) return t("%(km)s km", { km: numberFormat.format(Math.round(metres / 100) / 10) });
    return t("%(m)s m", { m: Math.round(metres) });
  }

  function formatDuration(seconds) {
    const minutes = Math.round(seconds / 60);
    if (minutes < 1) return t("under 1 min");
    if (minutes < 90) return t("%(min)s min", { min: minutes });
    return t("%(h)s h %(min)s min", { h: Math.floor(minutes / 60), min: minutes % 60 });
  }

  // N(message) only marks a text for the catalogue; t() translates it where it is used.
  const N = (message) => message;
  const FIELD_LABELS = { from: N("Start"), to: N("Destination") };

  const statusBox = $("status");
  function announce(text) {
    statusBox.textContent = "";
    window.setTimeout(() => { statusBox.textContent = text; }, 50);
  }

  async function getJson(url) {
    const sep = url.includes("?") ? "&" : "?";
    const response = await fetch(url + sep + "lang=" + LANG, { headers: { Accept: "application/json" } });
    let body = null;
    try { body = await response.json(); } catch (_err) { body = null; }
    return { response, body };
  }

  // -- places: the combobox (WAI-ARIA APG, list autocomplete) ---------------------------
  const chosen = { from: null, to: null };  // {lat, lon, name, name_lang}
  const COORDS = /^\s*(-?\d+(?:\.\d+)?)\s*[,;\s]\s*(-?\d+(?:\.\d+)?)\s*$/;
  const KIND_LABELS = {
    metro_station: N("metro station"), bus_stop: N("bus stop"), place: N("place"), street: N("street"),
    poi: N("place of interest"), address: N("address"), position: N("position"),
  };

  function setChosen(field, place, quiet) {
    chosen[field] = place;
    const input = $(field);
    const note = $(field + "-chosen");
    note.textContent = "";
    if (place) {
      input.value = place.name;
      note.append(sentence([t("Chosen:") + " ", nameSpan(place.name, place.name_lang),
        " (" + t(KIND_LABELS[place.kind] || "position") + ", " + place.lat.toFixed(5) + ", " +
        place.lon.toFixed(5) + ")"]));
      if (!quiet) announce(t("%(field)s set to %(name)s.", { field: t(FIELD_LABELS[field]), name: place.name }));
    }
    drawEnds();
  }

  function setUpCombobox(field) {
    const input = $(field);
    const listbox = $(field + "-listbox");
    let options = [];
    let active = -1;
    let timer = null;
    let seq = 0;

    function close() {
      listbox.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      const items = listbox.querySelectorAll("[role=option]");
      items.forEach((item, i) => item.setAttribute("aria-selected", i === index ? "true" : "false"));
      active = index;
      if (index >= 0 && items[index]) {
        input.setAttribute("aria-activedescendant", items[index].id);
        items[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function pick(index) {
      const place = options[index];
      if (!place) return;
      close();
      setChosen(field, place);
    }

    function render(places, unmatched) {
      options = places;
      listbox.textContent = "";
      places.forEach((place, i) => {
        const item = el("li", { role: "option", id: field + "-option-" + i, "aria-selected": "false" });
        item.append(nameSpan(place.name, place.name_lang));
        item.append(el("span", { class: "option-kind" }, " — " + t(KIND_LABELS[place.kind] || place.kind)));
        item.addEventListener("mousedown", (event) => { event.preventDefault(); pick(i); });
        listbox.append(item);
      });
      const open = places.length > 0;
      listbox.hidden = !open;
      input.setAttribute("aria-expanded", open ? "true" : "false");
      active = -1;
      const missing = unmatched.length ? " " + t("%(words)s is not on the map; these match the other words.", { words: unmatched.join(" ") }) : "";
      $(field + "-chosen").textContent = missing.trim();
      announce((open ? t("%(n)s suggestions. Use the up and down arrows to choose.", { n: places.length }) : t("No place found.")) + missing);
    }

    async function suggest() {
      const text = input.value.trim();
      if (text.length < 2 || COORDS.test(text)) { close(); return; }
      const mine = ++seq;
      try {
        const { response, body } = await getJson("/places?limit=8&q=" + encodeURIComponent(text));
        if (mine !== seq) return;  // a newer query is on its way
        if (response.ok && body) render(body.places, body.unmatched || []);
      } catch (_err) { /* offline: typing still works with coordinates */ }
    }

    input.addEventListener("input", () => {
      chosen[field] = null;
      $(field + "-chosen").textContent = "";
      window.clearTimeout(timer);
      timer = window.setTimeout(suggest, 150);
    });
    input.addEventListener("keydown", (event) => {
      const open = !listbox.hidden;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (!open) { suggest(); return; }
        highlight(Math.min(active + 1, options.length - 1));
      } else if (event.key === "ArrowUp" && open) {
        event.preventDefault();
        highlight(Math.max(active - 1, 0));
      } else if (event.key === "Enter" && open && active >= 0) {
        event.preventDefault();
        pick(active);
      } else if (event.key === "Escape" && open) {
        event.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", () => window.setTimeout(close, 100));
  }

  // The point of a field: the chosen place, typed coordinates, or the best match of the text.
  async function resolvePoint(field) {
    const text = $(field).value.trim();
    if (chosen[field] && chosen[field].name === text) return chosen[field];
    if (!text) return { error: t(field === "from" ? N("Enter a start.") : N("Enter a destination.")) };
    const match = COORDS.exec(text);
    if (match) {
      const lat = Number(match[1]);
      const lon = Number(match[2]);
      if (Math.abs(lat) > 90 || Math.abs(lon) > 180) return { error: t("Latitude must be within ±90 and longitude within ±180.") };
      const place = { lat, lon, name: lat.toFixed(5) + ", " + lon.toFixed(5), kind: "position", name_lang: "en" };
      setChosen(field, place, true);
      return place;
    }
    const { response, body } = await getJson("/places?limit=1&q=" + encodeURIComponent(text));
    if (response.ok && body && body.places.length) {
      setChosen(field, body.places[0], true);
      return body.places[0];
    }
    return { error: t("No place matches “%(text)s”. Try another spelling, a nearby stop, or a position.", { text }) };
  }

  // -- profiles and their settings -----------------------------------------------------
  let profiles = {};
  const paramsList = $("params-list");

  function renderParameters() {
    const profile = profiles[$("profile").value];
    paramsList.textContent = "";
    if (!profile) { paramsList.append(el("p", { class: "hint" }, t("Settings are not available."))); return; }
    for (const param of profile.parameters) {
      const id = "param-" + param.name;
      const wrap = el("div", { class: "field" });
      const unit = param.unit ? " (" + param.unit + ")" : "";
      wrap.append(el("label", { for: id, lang: "en" }, param.description.charAt(0).toUpperCase() + param.description.slice(1) + unit));
      let hint;
      let input;
      if (param.type === "boolean") {
        hint = t("Default: %(value)s.", { value: t(param.default ? N("yes") : N("no")) });
        input = el("select", { id, name: param.name });
        input.append(el("option", { value: "" }, t("Default")), el("option", { value: "true" }, t("yes")), el("option", { value: "false" }, t("no")));
      } else {
        hint = t("Default %(value)s. Allowed from %(min)s to %(max)s.", { value: param.default, min: param.minimum, max: param.maximum });
        input = el("input", { id, name: param.name, type: "text", inputmode: "decimal", autocomplete: "off" });
      }
      input.setAttribute("aria-describedby", id + "-hint " + id + "-error");
      const errorNode = el("p", { class: "error-text", id: id + "-error" });
      errorNode.hidden = true;
      wrap.append(el("p", { class: "hint", id: id + "-hint" }, hint), input, errorNode);
      paramsList.append(wrap);
    }
    if (pendingOverrides) {
      for (const [key, value] of Object.entries(pendingOverrides)) {
        const input = $("param-" + key);
        if (input) input.value = value;
      }
      pendingOverrides = null;
    }
  }

  async function loadProfiles() {
    try {
      const { response, body } = await getJson("/profiles");
      if (!response.ok) throw new Error("HTTP " + response.status);
      for (const profile of body) profiles[profile.name] = profile;
    } catch (_err) { /* settings stay unavailable; default routes still work */ }
    renderParameters();
  }

  // -- the map -------------------------------------------------------------------------
  let map = null;
  let baseLayer = null;
  let resultLayer = null;
  let endsLayer = null;
  const ALMATY = [43.2383, 76.9453];

  function markIcon(symbol, cls) {
    return window.L.divIcon({ className: "map-mark " + cls, html: "<span>" + symbol + "</span>", iconSize: [28, 28] });
  }

  function setUpMap(loadNow) {
    if (!window.L) { $("map").textContent = t("The map could not be loaded; the form and the directions work without it."); return; }
    const L = window.L;
    map = L.map("map", { zoomControl: false, attributionControl: true, keyboard: true, preferCanvas: false })
      .setView(ALMATY, 15);
    L.control.zoom({ zoomInTitle: t("Zoom in"), zoomOutTitle: t("Zoom out") }).addTo(map);
    map.attributionControl.setPrefix(false);
    map.attributionControl.addAttribution("© OpenStreetMap");
    baseLayer = L.geoJSON(null, { interactive: false, style: baseStyle, pointToLayer: basePoint }).addTo(map);
    resultLayer = L.featureGroup().addTo(map);
    endsLayer = L.layerGroup().addTo(map);
    let timer = null;
    map.on("moveend", () => { window.clearTimeout(timer); timer = window.setTimeout(loadBase, 200); });
    map.on("click", (event) => {
      const field = document.querySelector("input[name=click]:checked").value;
      const { lat, lng } = event.latlng;
      setChosen(field, { lat, lon: lng, name: lat.toFixed(5) + ", " + lng.toFixed(5), kind: "position", name_lang: "en" });
    });
    $("map").setAttribute("tabindex", "0");
    if (loadNow) loadBase();
  }

  function baseStyle(feature) {
    const p = feature.properties;
    if (p.kind === "street" || p.kind === "sidewalk") return { color: "#7a7a7a", weight: p.road_class >= 4 ? 5 : p.road_class >= 2 ? 3 : 2, opacity: 0.7 };
    if (p.kind === "steps") return { color: "#5a5a5a", weight: 3, dashArray: "1 4", opacity: 0.9 };
    if (p.kind === "crossing") return { color: "#5a5a5a", weight: 3, dashArray: "6 3", opacity: 0.9 };
    return { color: "#8a6d3b", weight: 2, dashArray: "4 4", opacity: 0.8 };
  }

  function basePoint(feature, latlng) {
    const metro = feature.properties.kind === "metro_station";
    return window.L.circleMarker(latlng, {
      radius: metro ? 7 : 4, color: metro ? "#b0001e" : "#004a9f", weight: 2, fillColor: "#ffffff", fillOpacity: 1, interactive: false,
    });
  }

  async function loadBase() {
    if (!map) return;
    const b = map.getBounds();
    const bbox = [b.getSouth(), b.getWest(), b.getNorth(), b.getEast()].map((v) => v.toFixed(5)).join(",");
    try {
      const { response, body } = await getJson("/basemap?bbox=" + bbox);
      if (!response.ok || !body) return;
      baseLayer.clearLayers();
      baseLayer.addData(body);
    } catch (_err) { /* the route is still drawn */ }
  }

  function drawEnds() {
    if (!endsLayer) return;
    endsLayer.clearLayers();
    for (const [field, symbol] of [["from", "A"], ["to", "B"]]) {
      const place = chosen[field];
      if (place) window.L.marker([place.lat, place.lon], { icon: markIcon(symbol, field === "from" ? "start" : "end"), keyboard: false, interactive: false }).addTo(endsLayer);
    }
  }

  function drawLine(coordinates, cls) {
    const latlngs = coordinates.map((c) => [c[1], c[0]]);
    const styles = {
      route: [{ color: "#ffffff", weight: 10 }, { color: "#004a9f", weight: 6 }],
      blocked: [{ color: "#ffffff", weight: 10 }, { color: "#6b2c00", weight: 6, dashArray: "6 8" }],
      walk: [{ color: "#ffffff", weight: 9 }, { color: "#004a9f", weight: 5, dashArray: "1 9", lineCap: "round" }],
      bus: [{ color: "#ffffff", weight: 10 }, { color: "#006b3c", weight: 6, dashArray: "16 8" }],
      metro: [{ color: "#b0001e", weight: 10 }, { color: "#ffffff", weight: 4 }],
    }[cls];
    for (const style of styles) window.L.polyline(latlngs, Object.assign({ interactive: false, opacity: 1 }, style)).addTo(resultLayer);
  }

  function drawMark(location, symbol, cls) {
    window.L.marker([location[0], location[1]], { icon: markIcon(symbol, cls), keyboard: false, interactive: false }).addTo(resultLayer);
  }

  function fitResult() {
    if (!map) return;
    const bounds = resultLayer.getBounds();
    if (bounds.isValid()) map.fitBounds(bounds, { padding: [24, 24] });
  }

  // -- the form: all field errors at once ----------------------------------------------
  const form = $("trip-form");
  const FIELD_IDS = { from: "from", to: "to", profile: "profile", time: "time", max_transfers: "max-transfers" };

  function clearErrors() {
    for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
    for (const node of form.querySelectorAll(".error-text")) { node.textContent = ""; node.hidden = true; }
    $("form-errors").hidden = true;
    $("form-errors").textContent = "";
  }

  function fieldInput(name) {
    return $(FIELD_IDS[name] || "param-" + name);
  }

  function showErrors(errors) {
    // errors: [{field, message}]; every one is shown beside its field and listed on top.
    const box = $("form-errors");
    box.textContent = "";
    box.append(el("p", {}, errors.length === 1 ? t("Please correct 1 field:") : t("Please correct %(n)s fields:", { n: errors.length })));
    const list = el("ul");
    for (const { field, message } of errors) {
      const input = fieldInput(field);
      if (input) {
        input.setAttribute("aria-invalid", "true");
        const errorText = $(input.id + "-error");
        if (errorText) { errorText.textContent = message; errorText.hidden = false; }
        if (input.id.startsWith("param-")) $("params-details").open = true;
        const item = el("li");
        item.append(el("a", { href: "#" + input.id }, message));
        list.append(item);
      } else {
        list.append(el("li", {}, message));
      }
    }
    box.append(list);
    box.hidden = false;
    box.focus();
  }

  function almatyToday() {
    const parts = {};
    for (const part of new Intl.DateTimeFormat("en-GB", { timeZone: "Asia/Almaty", year: "numeric", month: "2-digit", day: "2-digit" }).formatToParts(new Date())) parts[part.type] = part.value;
    return parts.year + "-" + parts.month + "-" + parts.day;
  }

  // "08:30" -> today 08:30 in Almaty; "2026-12-07 08:30" -> that day; "" -> now.
  function parseTime(text) {
    if (!text) return { value: "" };
    let m = /^(\d{1,2}):(\d{2})$/.exec(text);
    if (m && Number(m[1]) < 24 && Number(m[2]) < 60) return { value: almatyToday() + "T" + m[1].padStart(2, "0") + ":" + m[2] };
    m = /^(\d{4}-\d{2}-\d{2})[ T](\d{1,2}):(\d{2})$/.exec(text);
    if (m && Number(m[2]) < 24 && Number(m[3]) < 60) return { value: m[1] + "T" + m[2].padStart(2, "0") + ":" + m[3] };
    return { error: t("Write the time as HH:MM (e.g. 08:30) or YYYY-MM-DD HH:MM.") };
  }

  function mode() {
    return document.querySelector("input[name=mode]:checked").value;
  }

  function overrides() {
    const out = {};
    for (const input of paramsList.querySelectorAll("input, select")) {
      if (input.value.trim() !== "") out[input.name] = input.value.trim();
    }
    return out;
  }

  // -- URL state -----------------------------------------------------------------------
  let pendingOverrides = null;

  function stateQuery(fromPlace, toPlace, time) {
    const q = new URLSearchParams();
    q.set("lang", LANG);
    q.set("from", fromPlace.lat.toFixed(6) + "," + fromPlace.lon.toFixed(6));
    q.set("from_name", fromPlace.name);
    if (toPlace) {
      q.set("to", toPlace.lat.toFixed(6) + "," + toPlace.lon.toFixed(6));
      q.set("to_name", toPlace.name);
    }
    q.set("profile", $("profile").value);
    q.set("mode", mode());
    if (time) q.set("time", time);
    if (mode() === "transit" && $("max-transfers").value !== "") q.set("max_transfers", $("max-transfers").value);
    for (const [key, value] of Object.entries(overrides())) q.set(key, value);
    return q;
  }

  const STATE_KEYS = ["lang", "from", "from_name", "to", "to_name", "profile", "mode", "time", "max_transfers", "minutes"];

  function restoreFromUrl() {
    const q = new URLSearchParams(window.location.search);
    for (const field of ["from", "to"]) {
      const m = COORDS.exec(q.get(field) || "");
      if (m) {
        const name = q.get(field + "_name") || (Number(m[1]).toFixed(5) + ", " + Number(m[2]).toFixed(5));
        setChosen(field, { lat: Number(m[1]), lon: Number(m[2]), name, kind: "position" }, true);
      }
    }
    if (q.get("profile") && [...$("profile").options].some((o) => o.value === q.get("profile"))) $("profile").value = q.get("profile");
    const m = ["transit", "reach"].includes(q.get("mode")) ? q.get("mode") : "street";
    if (q.get("minutes") && [...$("minutes").options].some((o) => o.value === q.get("minutes"))) $("minutes").value = q.get("minutes");
    document.querySelector("input[name=mode][value=" + m + "]").checked = true;
    $("time").value = (q.get("time") || "").replace("T", " ");
    $("max-transfers").value = q.get("max_transfers") || "";
    const extra = {};
    for (const [key, value] of q.entries()) if (!STATE_KEYS.includes(key)) extra[key] = value;
    pendingOverrides = Object.keys(extra).length ? extra : null;
    if (pendingOverrides) $("params-details").open = true;
    return Boolean(chosen.from && (chosen.to || m === "reach"));
  }

  function updateLanguageLinks() {
    const q = new URLSearchParams(window.location.search);
    for (const link of document.querySelectorAll("a[data-lang]")) {
      q.set("lang", link.dataset.lang);
      link.setAttribute("href", "?" + q.toString());
    }
  }

  // -- results -------------------------------------------------------------------------
  const results = $("results");
  const resultsBody = $("results-body");
  let busy = false;

  function reveal(heading) {
    $("results-heading").textContent = heading;
    results.hidden = false;
    performance.mark("result-shown");  // time to first result, read by the measurements
    $("results-heading").focus();
    fitResult();
  }

  function stepText(step) {
    // Instructions come from the server in the request's language; names keep their own.
    const li = el("li", { class: "step" });
    // the street's name keeps its own language inside the sentence (WCAG 3.1.2)
    const at = step.name ? step.instruction.indexOf(step.name) : -1;
    if (at >= 0) {
      li.append(step.instruction.slice(0, at), nameSpan(step.name),
        step.instruction.slice(at + step.name.length));
    } else {
      li.append(document.createTextNode(step.instruction));
    }
    if (step.instruction_lang && step.instruction_lang !== LANG) li.setAttribute("lang", step.instruction_lang);
    return li;
  }

  function warningItem(warning) {
    const li = el("li", {}, warning.message);
    if (warning.message_lang && warning.message_lang !== LANG) li.setAttribute("lang", warning.message_lang);
    return li;
  }

  function summaryList(pairs) {
    const dl = el("dl", { class: "summary" });
    for (const [term, value] of pairs) dl.append(el("dt", {}, term), el("dd", {}, value));
    return dl;
  }

  function snapNotes(body) {
    // How far each end was moved onto the walking network.
    const out = [];
    const messages = {
      from: N("The start is %(d)s from the nearest usable path; the route begins there."),
      to: N("The destination is %(d)s from the nearest usable path; the route ends there."),
    };
    for (const key of ["from", "to"]) {
      const snap = body.snapped && body.snapped[key];
      if (snap && snap.distance_m >= 25) out.push(t(messages[key], { d: formatDistance(snap.distance_m) }));
    }
    return out;
  }

  function showRoute(body, fromPlace, toPlace) {
    resultLayer.clearLayers && resultLayer.clearLayers();
    resultsBody.textContent = "";
    const profileLabel = $("profile").selectedOptions[0].textContent;
    const fromTo = el("p");
    fromTo.append(tNodes("From %(from)s to %(to)s.", {}, { from: nameSpan(fromPlace.name, fromPlace.name_lang), to: nameSpan(toPlace.name, toPlace.name_lang) }));
    resultsBody.append(fromTo);
    resultsBody.append(summaryList([
      [t("Distance"), formatDistance(body.distance_m)],
      [t("Time"), formatDuration(body.duration_s)],
      [t("Confidence"), Math.round(body.confidence * 100) + " %"],
    ]));
    const notes = snapNotes(body);
    if (body.duration_s > 45 * 60) notes.push(t("This is a long way on foot. Try “With bus and metro” for a journey with low-floor buses and the metro."));
    if (notes.length) {
      const box = el("div", { class: "note" });
      for (const note of notes) box.append(el("p", {}, note));
      resultsBody.append(box);
    }
    if (body.warnings && body.warnings.length) {
      resultsBody.append(el("h3", {}, t("Warnings")));
      const ul = el("ul", { class: "warnings" });
      body.warnings.forEach((w) => { ul.append(warningItem(w)); if (w.location) drawMark(w.location, "?", "unknown"); });
      resultsBody.append(ul);
    }
    resultsBody.append(el("h3", {}, t("Steps")));
    const ol = el("ol", { class: "steps" });
    for (const step of body.steps || []) ol.append(stepText(step));
    resultsBody.append(ol);
    if (map) drawLine(body.geometry.coordinates, "route");
    announce(t("Route found: %(d)s, %(time)s.", { d: formatDistance(body.distance_m), time: formatDuration(body.duration_s) }));
    reveal(t("Route for %(profile)s", { profile: profileLabel }));
  }

  function showNoRoute(error) {
    resultsBody.textContent = "";
    const profileLabel = $("profile").selectedOptions[0].textContent;
    resultsBody.append(el("p", { class: "message" }, error.summary || error.message));
    if (error.summary && error.message) {
      const more = el("details");
      more.append(el("summary", {}, t("Details from the route engine")));
      more.append(el("p", { lang: error.message_lang || "en" }, error.message));
      resultsBody.append(more);
    }
    const barriers = error.barriers || [];
    if (barriers.length) {
      resultsBody.append(el("h3", {}, t("What blocks the way")));
      const ol = el("ol", { class: "barriers" });
      barriers.forEach((b, i) => {
        const li = el("li", {}, b.message || b.description || "");
        if (b.message_lang && b.message_lang !== LANG) li.setAttribute("lang", b.message_lang);
        ol.append(li);
        if (b.location && map) drawMark(b.location, String(i + 1), "barrier");
      });
      resultsBody.append(ol);
    }
    const walking = error.walking_route;
    if (walking) {
      resultsBody.append(el("h3", {}, t("The walking route, which this profile cannot use")));
      resultsBody.append(summaryList([[t("Distance"), formatDistance(walking.distance_m)], [t("Time on foot"), formatDuration(walking.duration_s)]]));
      const ol = el("ol", { class: "steps" });
      for (const step of walking.steps || []) ol.append(stepText(step));
      resultsBody.append(ol);
      if (map) drawLine(walking.geometry.coordinates, "blocked");
    }
    if (mode() === "street") resultsBody.append(el("p", {}, t("Try “With bus and metro”: a journey may avoid what blocks this route.")));
    announce(t("No route for %(profile)s.", { profile: profileLabel }));
    reveal(t("No route for %(profile)s", { profile: profileLabel }));
  }

  function clock(text) {
    const match = /T(\d{2}):(\d{2})/.exec(text || "");
    return match ? match[1] + ":" + match[2] : String(text);
  }

  function stopName(stop, fromPlace, toPlace) {
    if (!stop) return "";
    if (!stop.stop_id && stop.name === "origin") return fromPlace.name;
    if (!stop.stop_id && stop.name === "destination") return toPlace.name;
    return stop.name || "";
  }

  const MODE_LABELS = { bus: N("Bus"), trolleybus: N("Trolleybus"), metro: N("Metro"), tram: N("Tram"), rail: N("Train") };

  function legHeading(leg, fromPlace, toPlace) {
    const to = nameSpan(stopName(leg.to, fromPlace, toPlace));
    if (leg.mode === "walk") {
      return tNodes("Walk %(distance)s (%(time)s) to %(place)s.", { distance: formatDistance(leg.distance_m || 0), time: formatDuration(leg.duration_s) }, { place: to });
    }
    const from = nameSpan(stopName(leg.from, fromPlace, toPlace));
    // "Almaty Metro Line 1" names its mode already; "90" does not
    const number = String(leg.route || "").trim();
    const route = /metro|bus|tram|train/i.test(number) ? number : (t(MODE_LABELS[leg.mode] || leg.mode) + " " + number).trim();
    const frag = tNodes("%(route)s: board at %(from)s at %(dep)s, get off at %(to)s at %(arr)s.",
      { route, dep: clock(leg.departure), arr: clock(leg.arrival) }, { from, to });
    if (leg.headsign) frag.append(" ", tNodes("Towards %(headsign)s.", {}, { headsign: nameSpan(leg.headsign) }));
    if (leg.accessible_vehicle === "yes") frag.append(" " + t("Low-floor vehicle with a ramp."));
    return frag;
  }

  function showPlan(body, fromPlace, toPlace) {
    resultsBody.textContent = "";
    const profileLabel = $("profile").selectedOptions[0].textContent;
    const itineraries = body.itineraries || [];
    if (!itineraries.length) resultsBody.append(el("p", { class: "message" }, t("No journey found.")));
    const list = el("ol", { class: "itineraries" });
    itineraries.forEach((it, i) => {
      const item = el("li", { class: "itinerary" });
      item.append(el("h3", {}, t("Option %(n)s: leave %(dep)s, arrive %(arr)s, %(time)s, %(changes)s changes, walking %(walk)s", {
        n: i + 1, dep: clock(it.departure), arr: clock(it.arrival), time: formatDuration(it.duration_s), changes: it.transfers, walk: formatDistance(it.walk_distance_m),
      })));
      const legs = el("ol", { class: "legs" });
      for (const leg of it.legs || []) {
        const li = el("li", { class: "leg leg-" + leg.mode });
        const p = el("p", { class: "leg-title" });
        p.append(legHeading(leg, fromPlace, toPlace));
        li.append(p);
        if (leg.mode === "walk" && leg.steps && leg.steps.length) {
          const d = el("details");
          d.append(el("summary", {}, t("Walking directions (%(n)s steps)", { n: leg.steps.length })));
          const ol = el("ol", { class: "steps" });
          for (const step of leg.steps) ol.append(stepText(step));
          d.append(ol);
          li.append(d);
        }
        const warnings = leg.warnings || [];
        if (warnings.length) {
          const ul = el("ul", { class: "warnings", "aria-label": t("Warnings for this leg") });
          for (const w of warnings) ul.append(warningItem(w));
          li.append(ul);
        }
        legs.append(li);
        if (i === 0 && map && leg.geometry && leg.geometry.coordinates) {
          drawLine(leg.geometry.coordinates, leg.mode === "walk" ? "walk" : leg.mode === "metro" ? "metro" : "bus");
        } else if (i === 0 && map && leg.from && leg.to && leg.from.lat !== undefined) {
          drawLine([[leg.from.lon, leg.from.lat], [leg.to.lon, leg.to.lat]], leg.mode === "metro" ? "metro" : leg.mode === "walk" ? "walk" : "bus");
        }
      }
      item.append(legs);
      const own = (it.warnings || []).filter((w) => !(it.legs || []).some((leg) => (leg.warnings || []).some((lw) => lw.message === w.message)));
      if (own.length) {
        item.append(el("h4", {}, t("Warnings for the whole journey")));
        const ul = el("ul", { class: "warnings" });
        for (const w of own) ul.append(warningItem(w));
        item.append(ul);
      }
      list.append(item);
    });
    resultsBody.append(list);
    if (itineraries.length) resultsBody.append(el("p", { class: "hint" }, t("Only the first option is drawn on the map.")));
    announce(t("%(n)s journeys found.", { n: itineraries.length }));
    reveal(t("Journeys for %(profile)s", { profile: profileLabel }));
  }

  // Square kilometres of a GeoJSON (Multi)Polygon: shoelace on a local flat projection.
  function areaKm2(geometry) {
    const polygons = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
    let total = 0;
    for (const rings of polygons) {
      rings.forEach((ring, i) => {
        const k = Math.cos(ring[0][1] * Math.PI / 180);
        let sum = 0;
        for (let j = 0; j < ring.length - 1; j++) {
          sum += ring[j][0] * k * ring[j + 1][1] - ring[j + 1][0] * k * ring[j][1];
        }
        total += (i === 0 ? 1 : -1) * Math.abs(sum / 2);  // holes are subtracted
      });
    }
    return total * 111.32 * 111.32;
  }

  const REACH_STYLES = [{ dashArray: null, weight: 4 }, { dashArray: "12 6", weight: 3 }, { dashArray: "2 6", weight: 3 }];

  function showReach(body, fromPlace) {
    resultsBody.textContent = "";
    const profileLabel = $("profile").selectedOptions[0].textContent;
    const from = el("p");
    from.append(tNodes("From %(from)s.", {}, { from: nameSpan(fromPlace.name, fromPlace.name_lang) }));
    resultsBody.append(from);
    const features = (body.features || []).slice().sort((a, b) => a.properties.minutes - b.properties.minutes);
    const list = el("ul", { class: "reach" });
    features.forEach((feature, i) => {
      list.append(el("li", {}, t("Within %(min)s minutes: about %(area)s km² (the %(edge)s edge on the map).", {
        min: Math.round(feature.properties.minutes), area: areaFormat.format(areaKm2(feature.geometry)),
        edge: t([N("solid"), N("dashed"), N("dotted")][Math.min(i, 2)]),
      })));
      if (map) {
        window.L.geoJSON(feature, { interactive: false, style: Object.assign({ color: "#004a9f", fillColor: "#004a9f", fillOpacity: 0.08, opacity: 1 }, REACH_STYLES[Math.min(i, 2)]) }).addTo(resultLayer);
      }
    });
    resultsBody.append(list);
    resultsBody.append(el("p", { class: "hint" }, t("Gaps inside an area are places that cannot be reached in that time. The areas follow the ways this traveller can use, with their slopes and barriers.")));
    if (map && body.origin) drawMark([body.origin.lat, body.origin.lon], "A", "start");
    announce(t("Reachable areas for %(profile)s are shown.", { profile: profileLabel }));
    reveal(t("Reachable areas: %(profile)s", { profile: profileLabel }));
  }

  function showServerError(status, error) {
    resultsBody.textContent = "";
    resultsBody.append(el("p", { class: "message" }, (error && error.message) || t("The request failed (HTTP %(status)s).", { status })));
    reveal(t("Something went wrong"));
  }

  async function submit(event, fromHistory) {
    if (event) event.preventDefault();
    if (busy) return;
    busy = true;
    $("submit").setAttribute("aria-disabled", "true");
    clearErrors();
    try {
      announce(t("Searching…"));
      const reach = mode() === "reach";
      const [fromPlace, toPlace] = await Promise.all([resolvePoint("from"),
        reach ? Promise.resolve(null) : resolvePoint("to")]);
      const time = parseTime($("time").value.trim());
      const errors = [];
      if (fromPlace.error) errors.push({ field: "from", message: fromPlace.error });
      if (toPlace && toPlace.error) errors.push({ field: "to", message: toPlace.error });
      if (mode() === "transit" && time.error) errors.push({ field: "time", message: time.error });
      for (const [key, value] of Object.entries(overrides())) {
        if ($("param-" + key).tagName === "INPUT" && !Number.isFinite(Number(value))) errors.push({ field: key, message: t("Enter a number.") });
      }
      if (errors.length) { showErrors(errors); announce(""); return; }
      const q = stateQuery(fromPlace, toPlace, mode() === "transit" ? time.value : "");
      if (reach) q.set("minutes", $("minutes").value);
      if (!fromHistory) window.history.pushState(null, "", "?" + q.toString());
      updateLanguageLinks();
      const api = new URLSearchParams(q);
      api.delete("from_name"); api.delete("to_name"); api.delete("mode"); api.delete("lang");
      if (resultLayer) resultLayer.clearLayers();
      const url = { transit: "/plan?", reach: "/isochrone?", street: "/route?" }[mode()] + api.toString();
      const { response, body } = await getJson(url);
      if (response.ok && body) {
        if (mode() === "transit") showPlan(body, fromPlace, toPlace);
        else if (reach) showReach(body, fromPlace);
        else showRoute(body, fromPlace, toPlace);
      } else if (response.status === 422 && body && body.error && body.error.code === "no_route") {
        showNoRoute(body.error);
      } else if (response.status === 400 && body && body.error && body.error.field && fieldInput(body.error.field === "time" ? "time" : body.error.field)) {
        showErrors([{ field: body.error.field, message: body.error.message }]);
        announce("");
      } else {
        showServerError(response.status, body && body.error);
      }
    } catch (err) {
      showServerError(0, { message: t("The server could not be reached. Try again.") });
    } finally {
      busy = false;
      $("submit").removeAttribute("aria-disabled");
    }
  }

  // -- start ---------------------------------------------------------------------------
  function swap() {
    const a = chosen.from;
    const b = chosen.to;
    const ta = $("from").value;
    $("from").value = $("to").value;
    $("to").value = ta;
    chosen.from = null; chosen.to = null;
    $("from-chosen").textContent = ""; $("to-chosen").textContent = "";
    if (b) setChosen("from", b, true);
    if (a) setChosen("to", a, true);
    announce(t("Start and destination swapped."));
  }

  function syncMode() {
    $("transit-fields").hidden = mode() !== "transit";
    $("reach-fields").hidden = mode() !== "reach";
    $("to-field").hidden = mode() === "reach";
  }

  setUpCombobox("from");
  setUpCombobox("to");
  form.addEventListener("submit", (event) => submit(event, false));
  $("swap").addEventListener("click", swap);
  for (const radio of document.querySelectorAll("input[name=mode]")) radio.addEventListener("change", syncMode);
  $("profile").addEventListener("change", renderParameters);
  $("form-errors").addEventListener("click", (event) => {
    const link = event.target.closest("a[href^='#']");
    if (link) { event.preventDefault(); $(link.getAttribute("href").slice(1)).focus(); }
  });
  if ("geolocation" in navigator && window.isSecureContext) {
    $("locate").hidden = false;
    $("locate").addEventListener("click", () => navigator.geolocation.getCurrentPosition(
      (pos) => setChosen("from", { lat: pos.coords.latitude, lon: pos.coords.longitude, name: t("My location"), kind: "position" }),
      (err) => announce(t("Your location is not available: %(why)s", { why: err.message })),
    ));
  }
  window.addEventListener("popstate", () => { if (restoreFromUrl()) submit(null, true); });
  window.addEventListener("DOMContentLoaded", () => {});
  const ready = restoreFromUrl();
  // A shared link shows its result first: the base map follows (fitting the route moves the
  // map, which loads it), and the profile settings are awaited only when the link has some.
  setUpMap(!ready);
  syncMode();
  updateLanguageLinks();
  const profilesLoaded = loadProfiles();
  if (ready && !pendingOverrides) submit(null, true);
  else if (ready) profilesLoaded.then(() => submit(null, true));
})();
