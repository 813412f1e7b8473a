"""A first relapse built from (phenotype, site, timing): the cells of the scheme tables."""

from __future__ import annotations

from datetime import date
from typing import Any

import builders as b
from dateutil.relativedelta import relativedelta

from service.pipeline import assess_bundle

DIAGNOSIS = date(2015, 1, 10)
# months from diagnosis to relapse, and months from diagnosis to the end of frontline therapy
# (None: still on therapy at relapse)
TIMING = {"very-early": (12, None), "early": (24, None), "late": (40, 26)}


def iso(months: int, days: int = 0) -> str:
    return (DIAGNOSIS + relativedelta(months=months, days=days)).isoformat()


def site_resources(site: str, day: str) -> list[dict[str, Any]]:
    if site == "BM":
        return [b.marrow(day, 60), *b.csf(day, 1, 0, False)]
    if site == "COMB":
        return [b.marrow(day, 60), *b.csf(day, 12, 0, True)]
    if site == "IEM-cns":
        return [b.marrow(day, 1), *b.csf(day, 10, 2, True)]
    if site == "IEM-testis":
        return [b.marrow(day, 1), *b.csf(day, 1, 0, False),
                b.coded_obs("testicular-biopsy-leukemia", day, True)]
    raise ValueError(site)


def first_relapse(phenotype: str | None, site: str, months: int, frontline_end: int | None,
                  *, birth: str = "2010-05-05", extra: tuple[Any, ...] = ()) -> dict[str, Any]:
    day = iso(months)
    resources: list[Any] = [b.patient(birth), b.diagnosis(DIAGNOSIS.isoformat(), phenotype),
                            b.relapse(day)]
    if frontline_end is None:
        resources.append(b.medication("103", iso(6), status="active"))
    else:
        resources.append(b.medication("103", iso(6), iso(frontline_end)))
    resources += site_resources(site, day)
    resources += list(extra)
    return b.bundle(*resources)


def assess_cell(phenotype: str | None, site: str, timing: str,
                extra: tuple[Any, ...] = (), as_of_months: int = 1) -> dict[str, Any]:
    months, end = TIMING[timing]
    bundle = first_relapse(phenotype, site, months, end, extra=extra)
    return assess_bundle(bundle, as_of=date.fromisoformat(iso(months + as_of_months)))
