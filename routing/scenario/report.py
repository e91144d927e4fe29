"""The scenario report as one self-contained HTML page (figures embedded as PNG data URIs).

Readable with a screen reader: one ``h1``, sections with headings, every figure with a text
alternative that states its finding, and every number of a figure also in a table
(``caption``, ``th scope``). No script, no external resource.
"""

from __future__ import annotations

import base64
import html
import io
from typing import Any

import numpy as np

from routing.cost.profiles import PROFILES

#: Most areas listed in the per-area table and bars when areas are grid cells.
TOP_AREAS = 25

_CSS = """
body{font-family:system-ui,sans-serif;max-width:70rem;margin:1rem auto;padding:0 1rem;
color:#111;line-height:1.45}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}th,td{border:1px solid #777;
padding:.25rem .5rem;text-align:right}th[scope=row],td.text{text-align:left}
caption{text-align:left;font-weight:600;padding:.25rem 0}figure{margin:1rem 0}
img{max-width:100%;height:auto}.note{background:#fff4d6;border-left:4px solid #b07d00;
padding:.5rem 1rem}
"""


def _label(profile: str) -> str:
    """The profile's own label (as in the web app); the name for one this engine lacks."""
    return PROFILES[profile].label if profile in PROFILES else profile


def _fmt(x: Any, digits: int = 2, *, pct: bool = False, signed: bool = False) -> str:
    if x is None:
        return "–"
    if pct:
        return f"{100 * x:+.1f} %" if signed else f"{100 * x:.1f} %"
    if isinstance(x, float):
        return f"{x:+.{digits}f}" if signed else f"{x:.{digits}f}"
    return f"{x:+d}" if signed else str(x)


def _minutes(s: Any, *, signed: bool = False) -> str:
    return "–" if s is None else (f"{s / 60:+.1f} min" if signed else f"{s / 60:.1f} min")


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _figure(src: str, alt: str, caption: str) -> str:
    return (
        f'<figure><img src="{src}" alt="{html.escape(alt)}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def _table(caption: str, head: list[str], rows: list[list[str]]) -> str:
    out = [f"<table><caption>{html.escape(caption)}</caption><thead><tr>"]
    out += [f'<th scope="col">{html.escape(h)}</th>' for h in head]
    out.append("</tr></thead><tbody>")
    for row in rows:
        out.append(f'<tr><th scope="row">{html.escape(row[0])}</th>')
        out += [f"<td>{html.escape(c)}</td>" for c in row[1:]]
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _cdf_figure(doc: dict) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    profiles = list(doc["profiles"])
    cols = min(3, len(profiles))
    rows = int(np.ceil(len(profiles) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3 * rows), squeeze=False, sharey=True)
    for ax, p in zip(axes.ravel(), profiles, strict=False):
        for variant, style in (("before", "--"), ("after", "-")):
            cdf = doc["profiles"][p][variant]["cdf"]
            xs = [int(k) for k in cdf]
            ys = [100 * (v or 0) for v in cdf.values()]
            ax.plot(xs, ys, style, marker="o" if variant == "after" else "s", label=variant)
        ax.set_title(_label(p))
        ax.set_xlabel("minutes")
        ax.set_ylabel("% of OD pairs reached")
        ax.grid(alpha=0.3)
        ax.legend()
    for ax in axes.ravel()[len(profiles) :]:
        ax.axis("off")
    fig.tight_layout()
    return _png(fig)


#: What the maps show: (key in an area's figures, title, unit, scale to the unit).
MAP_LAYERS = (
    ("usable_share", "change in OD pairs with a usable route", "percentage points", 100.0),
    ("opportunities_30", "change in opportunities within 30 min", "per origin", 1.0),
)


def _area_changes(doc: dict, profile: str, key: str, scale: float) -> list[tuple[str, float]]:
    out = []
    for area in doc["areas"]:
        v = area["profiles"][profile]
        b, a = v["before"][key], v["after"][key]
        out.append((area["id"], scale * ((a or 0) - (b or 0))))
    return out


def _map_figure(doc: dict, profile: str) -> tuple[str, dict[str, list[tuple[str, float]]]]:
    """Maps of the change per area (one panel per :data:`MAP_LAYERS` entry)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import PolyCollection

    fig, axes = plt.subplots(1, len(MAP_LAYERS), figsize=(5.5 * len(MAP_LAYERS), 4.6))
    lat0 = np.mean([a["lat"] for a in doc["areas"]] or [0])
    found = {}
    for ax, (key, title, unit, scale) in zip(axes, MAP_LAYERS, strict=True):
        changes = _area_changes(doc, profile, key, scale)
        found[key] = changes
        polys, values = [], []
        for area, (_, change) in zip(doc["areas"], changes, strict=True):
            for ring in area["polygon"]:
                polys.append(np.asarray(ring))
                values.append(change)
        span = max(max((abs(v) for v in values), default=0.0), 0.05)
        coll = PolyCollection(
            polys, array=np.asarray(values), cmap="PuOr", edgecolors="#555", linewidths=0.2
        )
        coll.set_clim(-span, span)
        ax.add_collection(coll)
        ax.autoscale_view()
        ax.set_aspect(1 / np.cos(np.radians(lat0)))
        ax.set_xlabel("longitude")
        ax.set_ylabel("latitude")
        ax.set_title(f"{_label(profile)}: {title}", fontsize=10)
        fig.colorbar(coll, ax=ax, label=unit)
    fig.tight_layout()
    return _png(fig), found


def _bars_figure(doc: dict, areas: list[dict], profile: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [a["id"] for a in areas]
    before = [100 * (a["profiles"][profile]["before"]["usable_share"] or 0) for a in areas]
    after = [100 * (a["profiles"][profile]["after"]["usable_share"] or 0) for a in areas]
    y = np.arange(len(areas))
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(areas) + 1.2))
    ax.barh(y - 0.2, before, height=0.4, label="before", color="#bbb", hatch="//")
    ax.barh(y + 0.2, after, height=0.4, label="after", color="#3b6ea5")
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlabel(f"% of OD pairs with a usable route ({_label(profile)})")
    ax.legend()
    return _png(fig)


def render_html(doc: dict, *, lang: str = "en") -> str:
    """The report page of a scenario result document (``ScenarioResult.data``)."""
    sc = doc["scenario"]
    parts = [
        f'<!doctype html><html lang="{html.escape(lang)}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>Scenario report: {html.escape(sc['name'])}</title>"
        f"<style>{_CSS}</style></head><body><main>"
        f"<h1>Scenario report: {html.escape(sc['name'])}</h1>"
    ]
    if sc.get("description"):
        parts.append(f"<p>{html.escape(sc['description'])}</p>")
    if sc.get("illustrative"):
        parts.append(
            '<p class="note"><strong>Illustrative:</strong> this scenario rests on '
            "assumptions, not on decided plans.</p>"
        )
    if sc.get("assumptions"):
        parts.append(
            "<h2>Assumptions</h2><ul>"
            + "".join(f"<li>{html.escape(a)}</li>" for a in sc["assumptions"])
            + "</ul>"
        )
    grid = doc["grid"]
    parts.append(
        f"<p>Measured on {grid['cells']} origins (centres of {grid['cell_m']:.0f} m "
        f"grid cells with a walkable way), {grid['od_pairs']} origin–destination pairs "
        f"at most {grid['trip_radius_m']:.0f} m apart, and the opportunities listed "
        "below. Definitions: docs/scenarios.md.</p>"
    )

    parts.append("<h2>Edits</h2>")
    parts.append(
        _table(
            "What each edit matched and changed",
            ["edit", "where in the file", "sites", "edges changed", "nodes changed"],
            [
                [
                    e["edit"],
                    e["json_path"],
                    str(e["sites"]),
                    str(e["edges_changed"]),
                    str(e["nodes_changed"]),
                ]
                for e in doc["edits"]
            ],
        )
    )
    parts.append(f"<p>{doc['edges_recosted']} edges were re-costed per profile.</p>")

    parts.append("<h2>Results per profile</h2>")
    rows = []
    for p, e in doc["profiles"].items():
        b, a, c = e["before"], e["after"], e["change"]
        rows.append(
            [
                _label(p),
                _fmt(b["usable_share"], pct=True),
                _fmt(a["usable_share"], pct=True),
                _fmt(c["usable_share"], pct=True, signed=True),
                _minutes(b["travel_time_s"]["p50"]),
                _minutes(a["travel_time_s"]["p50"]),
                _minutes(b["travel_time_s"]["p90"]),
                _minutes(a["travel_time_s"]["p90"]),
                _fmt(b["opportunities"]["30"]["all"]),
                _fmt(a["opportunities"]["30"]["all"]),
                _fmt(c["opportunities"]["30"]["all"], signed=True),
            ]
        )
    parts.append(
        _table(
            "Usable routes, travel times and opportunities, before and after",
            [
                "profile",
                "usable before",
                "usable after",
                "change",
                "median before",
                "median after",
                "90th pct before",
                "90th pct after",
                "opportunities ≤30 min before",
                "after",
                "change",
            ],
            rows,
        )
    )
    opp_rows = []
    for p, e in doc["profiles"].items():
        for minutes in e["before"]["opportunities"]:
            for cat, b in e["before"]["opportunities"][minutes].items():
                a = e["after"]["opportunities"][minutes][cat]
                opp_rows.append(
                    [
                        f"{_label(p)}, ≤{minutes} min, {cat}",
                        _fmt(b),
                        _fmt(a),
                        _fmt((a or 0) - (b or 0), signed=True),
                    ]
                )
    counts = ", ".join(f"{k}: {v}" for k, v in doc["opportunities"].items())
    parts.append(f"<p>Opportunities counted: {html.escape(counts)}.</p>")
    parts.append(
        _table(
            "Opportunities reachable per origin (mean), by category",
            ["profile, time, category", "before", "after", "change"],
            opp_rows,
        )
    )
    crossing_rows = [
        [
            _label(p),
            _fmt(e["before"].get("unsignalled_major_crossings_per_trip")),
            _fmt(e["after"].get("unsignalled_major_crossings_per_trip")),
        ]
        for p, e in doc["profiles"].items()
        if "unsignalled_major_crossings_per_trip" in e["before"]  # counted for this profile
    ]
    if crossing_rows:
        parts.append(_table("Unsignalled major-road crossings per trip (mean)",
                            ["profile", "before", "after"], crossing_rows))  # fmt: skip

    if doc["gaps"]:
        parts.append("<h2>Gaps to walking</h2>")
        rows = []
        for p, g in doc["gaps"].items():
            rows.append(
                [
                    _label(p),
                    _fmt(g["before"]["usable_share_gap"], pct=True),
                    _fmt(g["after"]["usable_share_gap"], pct=True),
                    _fmt(g["before"]["median_time_ratio"]),
                    _fmt(g["after"]["median_time_ratio"]),
                    _fmt(g["before"]["opportunities_30_ratio"]),
                    _fmt(g["after"]["opportunities_30_ratio"]),
                ]
            )
        parts.append(
            _table(
                "Each profile against walking (usable-share gap in points; ratios: "
                "1 = same as walking)",
                [
                    "profile",
                    "usable gap before",
                    "after",
                    "time ratio before",
                    "after",
                    "opportunities ratio before",
                    "after",
                ],
                rows,
            )
        )

    parts.append("<h2>Travel-time distributions</h2>")
    alt = "; ".join(
        f"{_label(p)}: {_fmt(e['before']['cdf'].get('30'), pct=True)} of pairs within 30 min "
        f"before, {_fmt(e['after']['cdf'].get('30'), pct=True)} after"
        for p, e in doc["profiles"].items()
    )
    parts.append(
        _figure(
            _cdf_figure(doc),
            "Cumulative travel-time curves. " + alt,
            "Share of OD pairs reached within each time, before (dashed) and "
            "after (solid), per profile; the table below gives every point.",
        )
    )
    minutes = list(next(iter(doc["profiles"].values()))["before"]["cdf"])
    rows = [
        [f"{_label(p)} {v}"] + [_fmt(e[v]["cdf"][t], pct=True) for t in minutes]
        for p, e in doc["profiles"].items()
        for v in ("before", "after")
    ]
    parts.append(
        _table(
            "Share of OD pairs reached within t minutes",
            ["profile"] + [f"{t} min" for t in minutes],
            rows,
        )
    )

    if doc["areas"]:
        parts.append(
            f"<h2>Per {'district' if doc['grid']['areas'] == 'districts' else 'cell'}</h2>"
        )
        changed = [p for p in doc["profiles"] if p in doc.get("profiles_changed", doc["profiles"])]
        same = [_label(p) for p in doc["profiles"] if p not in changed]
        if same:
            parts.append(
                f"<p>The edits change no cost for: {html.escape(', '.join(same))}; their "
                "figures are the same before and after, so they have no map.</p>"
            )
        for p in changed:
            src, found = _map_figure(doc, p)
            said = []
            for key, title, unit, _ in MAP_LAYERS:
                ranked = sorted(found[key], key=lambda x: -x[1])
                gains = ", ".join(f"{n} ({c:+.2f})" for n, c in ranked[:3] if c > 0) or "none"
                losses = ", ".join(f"{n} ({c:+.2f})" for n, c in ranked[::-1][:3] if c < 0)
                said.append(
                    f"{title.capitalize()} ({unit}): largest gains {gains}; "
                    f"losses {losses or 'none'}"
                )
            alt = f"Maps per area for {_label(p)}. " + ". ".join(said) + "."
            parts.append(_figure(src, alt, f"{_label(p)}: change per area (table below)."))
        areas = [
            a for a in doc["areas"] if any(v["before"]["od_pairs"] for v in a["profiles"].values())
        ]
        if doc["grid"]["areas"] != "districts":

            def moved(a):
                return sum(
                    abs(
                        (a["profiles"][p]["after"]["opportunities_30"] or 0)
                        - (a["profiles"][p]["before"]["opportunities_30"] or 0)
                    )
                    + abs(
                        (a["profiles"][p]["after"]["usable_share"] or 0)
                        - (a["profiles"][p]["before"]["usable_share"] or 0)
                    )
                    for p in doc["profiles"]
                )

            areas = sorted(areas, key=lambda a: -moved(a))[:TOP_AREAS]
        focus = next(
            (p for p in ("wheelchair_manual", "blind") if p in doc["profiles"]),
            next(iter(doc["profiles"])),
        )
        parts.append(
            _figure(
                _bars_figure(doc, areas, focus),
                f"Bars of the share of OD pairs with a usable route for "
                f"{_label(focus)} in {len(areas)} areas, before and after; "
                "the table below gives the values.",
                f"{_label(focus)}: usable share per area",
            )
        )
        rows = []
        for a in areas:
            for p in doc["profiles"]:
                b, f = a["profiles"][p]["before"], a["profiles"][p]["after"]
                rows.append(
                    [
                        f"{a['id']}, {_label(p)}",
                        _fmt(b["usable_share"], pct=True),
                        _fmt(f["usable_share"], pct=True),
                        _minutes(b["median_s"]),
                        _minutes(f["median_s"]),
                        _fmt(b["opportunities_30"]),
                        _fmt(f["opportunities_30"]),
                    ]
                )
        what = (
            "every district"
            if doc["grid"]["areas"] == "districts"
            else (f"the {len(areas)} cells that change most")
        )
        parts.append(
            _table(
                f"Per area ({what})",
                [
                    "area, profile",
                    "usable before",
                    "after",
                    "median before",
                    "after",
                    "opportunities ≤30 min before",
                    "after",
                ],
                rows,
            )
        )

    if doc.get("rank"):
        parts.append(render_rank_section(doc["rank"]))
    if doc.get("transit"):  # journeys with transit (routing.scenario.transit_report)
        from routing.scenario.transit_report import render_transit_section

        parts.append(render_transit_section(doc["transit"]))
    parts.append("</main></body></html>")
    return "".join(parts)


def render_rank_page(rank: dict, *, lang: str = "en") -> str:
    """A page of its own for a ranking (``scenario rank --html``)."""
    title = f"Where to build next: {rank['feature'].replace('_', ' ')}"
    return (
        f'<!doctype html><html lang="{html.escape(lang)}"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body><main>"
        f"<h1>{html.escape(title)}</h1>{render_rank_section(rank)}</main></body></html>"
    )


def render_rank_section(rank: dict) -> str:
    """The ranked list of sites (from :func:`routing.scenario.rank.rank_sites`)."""
    out = [
        f"<h2>Where to build next: {html.escape(rank['feature'].replace('_', ' '))}</h2>",
        f"<p>{html.escape(rank['objective'])}</p>",
    ]
    rows = [
        [
            str(i + 1),
            s["label"],
            f"{s['lat']:.5f},{s['lon']:.5f}",
            _fmt(s["gain"], 3),
            _fmt(s["cumulative"], 3),
        ]
        for i, s in enumerate(rank["ranked"])
    ]
    out.append(
        _table(
            "Ranked sites (greedy, each gain given the sites above it)",
            ["rank", "site", "lat,lon", "gain", "cumulative"],
            rows,
        )
    )
    if rank.get("barriers"):
        rows = [
            [_label(b["profile"]), b["label"], b["reason"], str(b["pairs_blocked"])]
            for b in rank["barriers"]
        ]
        out.append(
            _table(
                "Single barriers that block the most OD pairs",
                ["profile", "barrier", "why", "pairs it blocks"],
                rows,
            )
        )
    return "".join(out)
