"""The transit section of the HTML report (the ``transit`` part of a scenario result).

Same rules as :mod:`routing.scenario.report`: a heading, every figure with a text
alternative stating its finding, and its numbers in a table too.
"""

from __future__ import annotations

import html
from typing import Any

from routing.scenario.report import _figure, _label, _minutes, _png, _table


def _share(x: Any) -> str:
    return "–" if x is None else f"{100 * x:.1f} %"


def _rules(entry: dict) -> list[tuple[str, dict]]:
    """The profile's figures, and the known-accessible ones for wheelchair profiles."""
    out = [("", entry)]
    if "known_accessible" in entry:
        out.append((" (known accessible only)", entry["known_accessible"]))
    return out


def _cdf_figure(section: dict) -> tuple[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    profiles = list(section["profiles"])
    fig, axes = plt.subplots(1, len(profiles), figsize=(4 * len(profiles), 3), squeeze=False,
                             sharey=True)  # fmt: skip
    findings = []
    for ax, p in zip(axes.ravel(), profiles, strict=True):
        entry = section["profiles"][p]
        for variant, style in (("before", "--"), ("after", "-")):
            q = entry[variant]["p50_quantiles_s"]
            xs = [v / 60 for v in q.values() if v is not None]
            ys = [int(k) for k, v in q.items() if v is not None]
            ax.plot(xs, ys, style, label=variant)
        ax.set_title(_label(p))
        ax.set_xlabel("median door-to-door minutes")
        ax.set_ylabel("% of pairs")
        ax.grid(alpha=0.3)
        ax.legend()
        before, after = entry["before"], entry["after"]
        m_before, m_after = before["median_s"].get("p50"), after["median_s"].get("p50")
        findings.append(
            f"{_label(p)}: {_share(before['usable_share'])} of pairs usable before, "
            f"{_share(after['usable_share'])} after; median {_minutes(m_before)} before, "
            f"{_minutes(m_after)} after"
        )
    fig.tight_layout()
    return _png(fig), "; ".join(findings) + "."


def render_transit_section(section: dict) -> str:
    """HTML of a scenario result's ``transit`` section."""
    opts = section["options"]
    parts = [
        "<section><h2>Journeys with transit</h2>",
        f"<p>Door-to-door travel times (walk, wait and ride) between {section['origins']} "
        f"places, for every departure from {html.escape(opts['departure'])} over "
        f"{opts['window_s'] // 60} minutes every {opts['step_s'] // 60} minutes; a pair is "
        "usable when at least half of the departures can make the trip, and its time is the "
        "median over the departures (definitions in docs/scenarios.md).</p>",
    ]
    changes = section.get("feed_changes", {})
    if any(changes.values()):
        parts.append(f"<p>The scenario adds {changes['stops_added']} stop(s), "
                     f"{changes['routes_added']} route(s) and {changes['trips_added']} "
                     "trip(s) to the timetable.</p>")  # fmt: skip
    src, alt = _cdf_figure(section)
    parts.append(_figure(src, alt, "Median travel time of each pair, before and after "
                                   "(table below)."))  # fmt: skip
    rows = []
    for p, entry in section["profiles"].items():
        for suffix, figures in _rules(entry):
            b, a, c = figures["before"], figures["after"], figures["change"]
            rows.append([
                _label(p) + suffix, _share(b["usable_share"]), _share(a["usable_share"]),
                _minutes(b["median_s"].get("p50")), _minutes(a["median_s"].get("p50")),
                str(c["newly_usable_pairs"]), str(c["lost_pairs"]), str(c["faster_pairs"]),
                str(c["slower_pairs"]), _minutes(c["median_change_s"], signed=True),
            ])  # fmt: skip
    parts.append(_table(
        "Transit journeys per profile, before and after",
        ["Profile", "Usable before", "Usable after", "Median before", "Median after",
         "Newly usable pairs", "Lost pairs", "Faster pairs", "Slower pairs",
         "Median change"], rows))  # fmt: skip
    parts.append("</section>")
    return "".join(parts)
