"""The relapse view as one self-contained HTML page: inline CSS and server-side SVG, no script,
nothing fetched from elsewhere, readable printed. Every value from the record is escaped by the
templates' autoescaping (``templates/``)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader

from service.engine.mrd import AT_OR_ABOVE, BELOW, compare
from service.facts import Mrd
from service.sources import SOURCES
from service.view.charts import mrd_chart, timeline
from service.view.model import MrdPoint, RelapseView
from service.view.scales import power_of_ten

SCHEMES = (("bfm", "BFM"), ("ukall", "UK ALLR3"), ("ibfm", "I-BFM"), ("cog", "COG"))
ORDINALS = {0: "Refractory ALL", 1: "1st relapse", 2: "2nd relapse", 3: "3rd relapse"}


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(loader=PackageLoader("service.view", "templates"), autoescape=True,
                       trim_blocks=True, lstrip_blocks=True)


def render_page(view: RelapseView) -> str:
    """The page for one patient's view."""
    a = view.assessment
    warnings = a.get("warnings") or []
    return _environment().get_template("relapse.html.j2").render(
        v=view, a=a, headline=_headline(a), relapse_rows=_relapse_rows(a),
        critical=[w for w in warnings if w.get("severity") == "critical"],
        advice_sections=[(id_, title, items) for id_, title, items in (
            ("warnings", "Warnings", [w for w in warnings if w.get("severity") != "critical"]),
            ("recommendations", "Recommendations", a.get("recommendations") or [])) if items],
        timeline=timeline(view), chart=mrd_chart(view),
        mrd_rows=[(p, _against(p)) for p in view.mrd], strata_rows=_strata_rows(a),
        sources=list(SOURCES.values()))


def _headline(a: dict[str, Any]) -> str:
    relapse = a.get("relapse") or {}
    number = relapse.get("number", 0)
    words = [ORDINALS.get(number, f"{number}th relapse") if not relapse.get("refractory")
             else "Refractory ALL"]
    words.append(str(relapse.get("site", "site indeterminate")).replace("-", " "))
    phenotype = relapse.get("immunophenotype")
    words.append(f"{phenotype}-ALL" if phenotype in ("B", "T") else "phenotype indeterminate")
    timing = relapse.get("timing") or {}
    words += [f"{name} timing {timing[key]}" for key, name in (("cog", "COG"), ("bfm", "BFM"))
              if timing.get(key)]
    return ", ".join(words)


def _relapse_rows(a: dict[str, Any]) -> list[tuple[str, str]]:
    relapse = a.get("relapse") or {}
    rows = [("Population", a.get("population")),
            ("Age at diagnosis (years)", a.get("age_at_diagnosis_years")),
            ("Age at relapse (years)", a.get("age_at_relapse_years")),
            ("Relapse date", relapse.get("date") or "not recorded"),
            ("Site", relapse.get("site")),
            ("Months from diagnosis", relapse.get("months_from_diagnosis")),
            ("Months after frontline therapy ended", relapse.get("months_after_frontline_end")),
            ("Months since the previous relapse", relapse.get("months_since_previous_relapse")),
            ("Months after HSCT", relapse.get("months_after_hsct")),
            ("Months after CAR-T", relapse.get("months_after_car_t"))]
    return [(name, str(value)) for name, value in rows if value is not None]


def _strata_rows(a: dict[str, Any]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for key, name in SCHEMES:
        stratum = (a.get("strata") or {}).get(key)
        if isinstance(stratum, dict):
            rows.append((name, str(stratum.get("group", "")), str(stratum.get("risk", "")),
                         str(stratum.get("reason", "")), ", ".join(stratum.get("depends_on", []))))
        elif stratum is not None:
            rows.append((name, str(stratum), "", "", ""))
    return rows


def _against(point: MrdPoint) -> str:
    """Where the value stands against each threshold, as the engine compares it."""
    mrd = Mrd(when=point.when, fraction=point.fraction, comparator=point.comparator,
              method=point.method)
    words = {AT_OR_ABOVE: "at or above", BELOW: "below", None: "cannot tell against"}
    return "; ".join(f"{words[compare(mrd, t)]} {power_of_ten(e)}"
                     for t, e in ((1e-3, -3), (1e-4, -4)))
