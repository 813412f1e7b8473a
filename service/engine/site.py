"""Site of relapse from marrow, blood, CSF and testicular results, else from the coded sites
(CLINICAL_RULES §1.3; definitions of seed 002 Table 2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import product

from service.engine.episodes import Episode
from service.engine.index import FactIndex
from service.engine.window import AT_RELAPSE_DAYS
from service.facts import PatientFacts

# Marrow morphology (002 Table 2): M1 < 5 %, M2 5–25 % (25 % is M2), M3 > 25 %.
M2_FROM, M3_ABOVE = 5.0, 25.0
# CNS3: ≥ 5 leukocytes/µL with blasts (001, 002); CNS2: < 5 with blasts; CNS1: no blasts.
CNS3_WBC = 5.0
# A count calls CNS disease only "without major blood contamination" (002): ≤ 20 RBC/µL.
# Service's choice for a bloody tap with blasts: indeterminate and a repeat lumbar puncture.
TRAUMATIC_RBC = 20.0

# Scheme site categories: isolated marrow, combined, isolated extramedullary.
BM, COMB, IEM = "BM", "COMB", "IEM"


@dataclass
class SiteReading:
    site: str  # the OUTPUT.md enumeration
    categories: frozenset[str]  # possible scheme categories (one when known)
    extramedullary: list[str] = field(default_factory=list)
    marrow_status: str | None = None
    cns_status: str | None = None
    from_coding: bool = False
    # Some reading of the results does not meet relapse criteria.  read_site sets it on every
    # path, so this default is never read (a mutant changing it is equivalent).
    unconfirmed: bool = False
    missing: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)  # repeat-marrow, repeat-lumbar-puncture
    notes: list[str] = field(default_factory=list)
    refs: list[str] = field(default_factory=list)


def _marrow_level(percent: float) -> str:
    if percent > M3_ABOVE:
        return "M3"
    return "M2" if percent >= M2_FROM else "M1"


def _category(marrow: str, blood_blasts: bool, extramedullary: bool) -> str | None:
    """002 Table 2; None when the results do not meet relapse criteria."""
    marrow_relapse = marrow == "M3" or (marrow == "M2" and blood_blasts)
    if marrow in ("M2", "M3") and extramedullary:
        return COMB
    if marrow_relapse:
        return BM
    if marrow == "M1" and extramedullary and not blood_blasts:
        return IEM
    return None


def _cns(facts: PatientFacts, index: FactIndex, ep: Episode, reading: SiteReading) -> bool | None:
    """True (CNS3 or clinical CNS disease), False (CNS1/CNS2), None (unknown)."""
    day = ep.day
    clinical = index.finding("cns-clinical-involvement", day)
    meningeal = [c for c in facts.cns_conditions
                 if abs((c.onset.earliest - day).days) <= AT_RELAPSE_DAYS]
    if clinical is not None and clinical.positive:
        reading.refs += clinical.refs
        reading.cns_status = "CNS3 (clinical signs)"
        return True
    if meningeal:
        reading.refs += [r for c in meningeal for r in c.refs]
        reading.cns_status = "CNS3 (CNS leukaemia condition)"
        return True
    blasts = index.finding("csf-blasts", day)
    wbc = index.measurement("csf-wbc", day)
    rbc = index.measurement("csf-rbc", day)
    for item in (blasts, wbc, rbc):
        if item is not None:
            reading.refs += item.refs
    if blasts is None and wbc is None:
        return None
    if blasts is None:
        reading.cns_status = "unknown (no cytospin result)"
        return None
    if not blasts.positive:
        reading.cns_status = "CNS1"
        return False
    if rbc is not None and rbc.value > TRAUMATIC_RBC:
        reading.cns_status = "traumatic tap with blasts"
        reading.actions.append("repeat-lumbar-puncture")
        reading.notes.append(f"CSF with blasts and > {TRAUMATIC_RBC:g} erythrocytes/µL (traumatic "
                             "tap): CNS status cannot be called; repeat the lumbar puncture (002)")
        return None
    if wbc is None:
        reading.cns_status = "blasts, leukocyte count unknown"
        return None
    if wbc.value >= CNS3_WBC:
        if rbc is None:
            reading.cns_status = "CNS3 by count, erythrocytes not recorded"
            reading.notes.append("CSF erythrocyte count not recorded: a CNS relapse is called from "
                                 "a count only without blood contamination (002)")
            return None
        reading.cns_status = "CNS3"
        return True
    reading.cns_status = "CNS2"
    reading.notes.append("CNS2 (blasts with < 5 leukocytes/µL) is not an extramedullary relapse; "
                         "intensify intrathecal therapy (002)")
    return False


def read_site(facts: PatientFacts, ep: Episode, index: FactIndex) -> SiteReading:
    """``index``: the record's facts grouped by kind (the case's)."""
    day = ep.day
    coded = ep.coded_sites
    reading = SiteReading(site="indeterminate", categories=frozenset())
    marrow = index.measurement("marrow-blasts", day)
    blood = index.measurement("pb-blasts", day)
    blood_blasts = blood is not None and blood.value > 0
    testis = index.finding("testicular-biopsy", day)
    for item in (marrow, blood, testis):
        if item is not None:
            reading.refs += item.refs

    cns = _cns(facts, index, ep, reading)
    traumatic = "repeat-lumbar-puncture" in reading.actions
    if cns is None and not traumatic:
        reading.missing.append("csf-findings")
        if coded:
            reading.from_coding = True
            cns = "cns" in coded
            reading.cns_status = "CNS involved (coded)" if cns else reading.cns_status
    elif coded and cns is not None and cns != ("cns" in coded):
        reading.conflicts.append(
            f"the relapse is coded {'with' if 'cns' in coded else 'without'} CNS involvement but "
            f"the CSF reads {reading.cns_status}; the result is used")

    if testis is not None:
        testicular = testis.positive
        # Either way round, as for the marrow and the CNS: coded sites that leave out a
        # biopsy-proven testicular relapse disagree with the results too (§1.3).
        if coded and ("testis" in coded) != testicular:
            reading.conflicts.append("testis coded as involved but the biopsy is negative"
                                     if testicular is False else
                                     "the relapse is coded without testicular involvement but "
                                     "the testicular biopsy is positive; the result is used")
    else:
        testicular = "testis" in coded
        if testicular:
            reading.notes.append("testicular involvement from the coded site only: biopsy-proven "
                                 "involvement is required (002); enlargement alone is suspected")
            reading.missing.append("testicular-biopsy")
    other = "other" in coded
    reading.extramedullary = [s for s, on in (("cns", cns is True), ("testis", testicular),
                                              ("other", other)) if on]

    if marrow is not None:
        level = _marrow_level(marrow.value)
        levels = [level]
        reading.marrow_status = f"{level} ({marrow.value:g}% blasts)"
        if coded and ("marrow" in coded) != (level != "M1"):
            reading.conflicts.append(
                f"the relapse is coded {'with' if 'marrow' in coded else 'without'} marrow "
                f"involvement but the marrow shows {reading.marrow_status}; the result is used")
    elif coded:
        reading.from_coding = True
        levels = ["M3" if "marrow" in coded else "M1"]
        reading.marrow_status = "involved (coded)" if "marrow" in coded else "not involved (coded)"
        reading.missing.append("marrow-blasts")
    else:
        levels = ["M1", "M2", "M3"]
        reading.missing.append("marrow-blasts")

    other_em = testicular or other
    em_options = [True] if other_em or cns else [False] if cns is False else [True, False]
    outcomes = {_category(m, blood_blasts, e) for m, e in product(levels, em_options)}
    if outcomes == {None}:
        reading.unconfirmed = True
        _unconfirmed(reading, levels, cns)
        return reading
    reading.categories = frozenset(o for o in outcomes if o is not None)
    reading.unconfirmed = None in outcomes
    if len(outcomes) == 1:
        reading.site = _site_name(next(iter(reading.categories)), reading.extramedullary)
    return reading


def _unconfirmed(reading: SiteReading, levels: list[str], cns: bool | None) -> None:
    """Results that do not meet relapse criteria (CLINICAL_RULES §1.3)."""
    if levels == ["M2"]:
        reading.actions.append("repeat-marrow")
        reading.notes.append("M2 marrow (5–25% blasts) without extramedullary disease or blood "
                             "blasts does not meet relapse criteria: repeat the marrow (002)")
    elif reading.cns_status == "CNS2":
        reading.actions.append("repeat-lumbar-puncture")
    else:
        reading.notes.append("the results at the relapse date do not meet relapse criteria")


def _site_name(category: str, extramedullary: list[str]) -> str:
    if category == BM:
        return "isolated-marrow"
    if category == COMB:
        return "combined"
    # Several extramedullary sites without marrow disease: the CNS is named first (it decides the
    # local therapy most), then the testis; every site is listed in extramedullary_sites.
    if "cns" in extramedullary:
        return "isolated-cns"
    if "testis" in extramedullary:
        return "isolated-testicular"
    return "isolated-other-extramedullary"
