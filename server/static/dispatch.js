// Dispatcher's page: the map of the day of one stored plan, from /dispatch/plans/<id>/geojson.
// The tables of the page carry the same facts in text; the map adds where. Each van has its
// own line pattern and a label, stops carry their number in the van's order (never colour alone).
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const I18N = JSON.parse($("i18n").textContent);
  const t = (message, params) => (I18N.messages[message] || message)
    .replace(/%\((\w+)\)s/g, (_m, key) => String(params && key in params ? params[key] : ""));

  // Each van's dash array, as the legend (server/web.py VEHICLE_PATTERNS) draws it.
  const dashOf = {};
  for (const item of document.querySelectorAll(".van-key")) dashOf[item.dataset.van] = item.dataset.dash || null;

  function markIcon(symbol, cls) {
    const html = "<span>" + String(symbol).replace(/[^0-9A-Za-z!]/g, "") + "</span>";
    return window.L.divIcon({ className: "map-mark " + cls, html, iconSize: [28, 28] });
  }

  async function drawDay(map, planId) {
    const L = window.L;
    const response = await fetch("/dispatch/plans/" + planId + "/geojson", { headers: { Accept: "application/geo+json" } });
    if (!response.ok) { $("map").textContent = t("The map of the day could not be loaded; the tables above list the same stops."); return; }
    const day = await response.json();
    const group = L.featureGroup().addTo(map);
    for (const feature of day.features) {
      const p = feature.properties;
      if (p.kind !== "route") continue;
      if (!(p.vehicle_id in dashOf)) continue;  // a van without stops
      const coords = feature.geometry.coordinates.map(([lon, lat]) => [lat, lon]);
      L.polyline(coords, { color: "#ffffff", weight: 9, interactive: false }).addTo(group);
      L.polyline(coords, { color: "#004a9f", weight: 5, dashArray: dashOf[p.vehicle_id], interactive: false }).addTo(group);
      const middle = coords[Math.floor(coords.length / 2)];
      L.tooltip({ permanent: true, direction: "right", className: "van-label", interactive: false })
        .setLatLng(middle).setContent(t("Van %(id)s", { id: p.vehicle_id }).replace(/[<>&]/g, "")).addTo(group);
    }
    for (const feature of day.features) {
      const p = feature.properties;
      if (p.kind === "route") continue;
      const [lon, lat] = feature.geometry.coordinates;
      const icon = p.kind === "unserved" ? markIcon("!", "barrier") : markIcon(p.order, p.kind === "pickup" ? "start" : "end");
      L.marker([lat, lon], { icon, keyboard: false, interactive: false }).addTo(group);
    }
    if (group.getLayers().length) map.fitBounds(group.getBounds(), { padding: [20, 20] });
  }

  function setUp() {
    const section = $("plan");
    if (!section || !$("map")) return;
    if (!window.L) { $("map").textContent = t("The map could not be loaded; the form and the directions work without it."); return; }
    const L = window.L;
    const map = L.map("map", { zoomControl: false, attributionControl: true, keyboard: true }).setView([43.2383, 76.9453], 12);
    L.control.zoom({ zoomInTitle: t("Zoom in"), zoomOutTitle: t("Zoom out") }).addTo(map);
    map.attributionControl.setPrefix(false);
    map.attributionControl.addAttribution("© OpenStreetMap");
    $("map").setAttribute("tabindex", "0");
    drawDay(map, section.dataset.plan).then(() => $("map").setAttribute("data-drawn", "true"));
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();
