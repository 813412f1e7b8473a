"""The cohort report as one self-contained HTML page: a bar chart (inline SVG) per count, the
data problems and the changed patients as tables. Every value from the data is escaped."""

from __future__ import annotations

from html import escape
from typing import Any

BAR_WIDTH = 320
ROW = 22
LABEL = 230

STYLE = """body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222;max-width:70em}
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em}section{display:inline-block;
vertical-align:top;margin:0 2em 1em 0}table{border-collapse:collapse}td,th{padding:2px 8px;
border-bottom:1px solid #ddd;text-align:left}svg text{font:12px system-ui,sans-serif}
.bar{fill:#4b7bb5}.muted{color:#666}"""


def bar_chart(title: str, counts: dict[str, int]) -> str:
    """Horizontal bars, one per value, labelled with the count."""
    if not counts:
        return f"<section><h2>{escape(title)}</h2><p class=muted>none</p></section>"
    top = max(counts.values()) or 1
    height = ROW * len(counts) + 4
    rows = []
    for i, (label, count) in enumerate(counts.items()):
        y = i * ROW + 2
        width = max(1, round(BAR_WIDTH * count / top))
        rows.append(f'<text x="{LABEL - 6}" y="{y + 15}" text-anchor="end">{escape(label)}</text>'
                    f'<rect class="bar" x="{LABEL}" y="{y + 3}" width="{width}" height="{ROW - 6}">'
                    f'<title>{escape(label)}: {count}</title></rect>'
                    f'<text x="{LABEL + width + 4}" y="{y + 15}">{count}</text>')
    svg = (f'<svg role="img" aria-label="{escape(title)}" width="{LABEL + BAR_WIDTH + 60}" '
           f'height="{height}">{"".join(rows)}</svg>')
    return f"<section><h2>{escape(title)}</h2>{svg}</section>"


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _groups(found: dict[str, str] | None) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(found.items())) if found else "—"


def render(report: dict[str, Any]) -> str:
    charts = [bar_chart("Patients", report["applicable"]),
              bar_chart("Population", report["population"]),
              bar_chart("Site of relapse", report["site"]),
              bar_chart("Immunophenotype", report["immunophenotype"])]
    charts += [bar_chart(f"Timing ({scheme.upper()})", counts)
               for scheme, counts in report["timing"].items()]
    charts += [bar_chart(f"Group ({scheme.upper()})", counts)
               for scheme, counts in report["groups"].items()]
    charts += [bar_chart("Discordances between schemes", report["discordances"]),
               bar_chart("Missing facts (patients)", report["missing_facts"]),
               bar_chart("Resources read", report["export"]["resources"])]
    problems = report["data_problems"]
    parts = [f"<h1>Relapsed ALL cohort — {report['patients']} patients, as of "
             f"{escape(report['as_of'])}</h1>",
             f"<p class=muted>Files: {escape(', '.join(report['export']['files']))}</p>",
             *charts,
             f"<h2>Data problems: {problems['bad_lines']} lines not used</h2>",
             _table(["file", "problem", "lines"],
                    [[p["file"], p["problem"], p["count"]] for p in problems["by_file"]]),
             _table(["file", "line", "problem"],
                    [[p["file"], p["line"], p["problem"]] for p in problems["lines"]]),
             _table(["in the export"], [[p] for p in problems["export"]]),
             _table(["in the records", "count"], [[k, v] for k, v in problems["records"].items()])]
    if "compare" in report:
        compare = report["compare"]
        parts += [f"<h2>{compare['changed']} patients changed group since "
                  f"{escape(compare['other'])}</h2>",
                  _table(["patient", "before", "after"],
                         [[c["patient"], _groups(c["before"]), _groups(c["after"])]
                          for c in compare["patients"]])]
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>Relapsed ALL "
            f"cohort</title><style>{STYLE}</style></head><body>{''.join(parts)}</body></html>\n")
