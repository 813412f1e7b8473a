"""Safety checks (CLINICAL_RULES §6).

A check fires when the record shows the therapy given, active or planned, or when this
assessment itself recommends it.  ``critical`` when the contraindication is in the record,
``warning`` when it comes from this assessment's own recommendation.
"""

from __future__ import annotations

from service.engine.advice.state import CD19_DIRECTED, cd_status, in_record
from service.engine.case import Case
from service.engine.therapy import agents

PRIOR_CRANIAL_LIMIT_GY = 20.0  # prior cranial irradiation > 20 Gy → 15 Gy (001)
REDUCED_CRANIAL_DOSE_GY = 15

RECOMMENDATION_AGENT = {
    "blinatumomab-consolidation": "blinatumomab", "blinatumomab-salvage": "blinatumomab",
    "car-t-cd19": "car-t-cd19", "inotuzumab": "inotuzumab", "nelarabine-regimen": "nelarabine",
}


def _recommended(case: Case, agent: str) -> bool:
    return any(RECOMMENDATION_AGENT.get(r.code) == agent for r in case.recommendations)


def _planned_or_active(case: Case, agent: str) -> bool:
    return in_record(case, agent, "current", "planned")


def _severity(in_the_record: bool) -> str:
    return "critical" if in_the_record else "warning"


def check(case: Case) -> None:
    _cd19_negative(case)
    _blinatumomab_cns(case)
    _inotuzumab_hsct(case)
    _nelarabine_intrathecal(case)
    _cranial_dose(case)
    _prior_blinatumomab(case)


def _cd19_negative(case: Case) -> None:
    """CD19-negative: no CD19-directed therapy is recommended; one in the record is critical."""
    if cd_status(case, "cd19") is not False:
        return
    case.recommendations = [r for r in case.recommendations
                            if RECOMMENDATION_AGENT.get(r.code) not in CD19_DIRECTED]
    planned = [a for a in CD19_DIRECTED if _planned_or_active(case, a)]
    if planned:
        refs = [r for a in planned for t in agents(case.facts, "current", "planned")[a]
                for r in t.refs]
        case.warn("cd19-negative", f"{' and '.join(planned)} planned but the relapse is "
                  "CD19-negative: the target is absent (000).", ["000"], "critical",
                  rests_on=["cd19-status"], refs=refs)


def _blinatumomab_cns(case: Case) -> None:
    if not case.cns_involved:
        return
    in_the_record = _planned_or_active(case, "blinatumomab")
    if in_the_record or _recommended(case, "blinatumomab"):
        case.warn("blinatumomab-cns-disease", "Blinatumomab with active CNS disease: 004's authors "
                  "consider it contraindicated (the trials excluded CNS disease); clear the CNS "
                  "first.", ["004"], _severity(in_the_record), rests_on=["csf-findings"],
                  refs=case.site.refs if case.site else ())


def _inotuzumab_hsct(case: Case) -> None:
    ino_record = in_record(case, "inotuzumab")
    hsct_planned = any(p.kind == "hsct-allogeneic" and p.status == "planned"
                       for p in case.facts.procedures)
    hsct_next = hsct_planned or any(r.code in ("hsct-cr2", "hsct-after-car-t", "dli-or-second-hsct")
                                    for r in case.recommendations)
    if (ino_record or _recommended(case, "inotuzumab")) and hsct_next:
        case.warn("inotuzumab-vod-risk", "Inotuzumab before HSCT raises the risk of "
                  "veno-occlusive disease: use the fewest cycles (000, 004).", ["000", "004"],
                  _severity(ino_record and hsct_planned), rests_on=["inotuzumab", "hsct"])


def _nelarabine_intrathecal(case: Case) -> None:
    nelarabine = [t for t in case.facts.therapies if t.agent == "nelarabine"
                  and t.status in ("current", "planned")]
    intrathecal = [t for t in case.facts.therapies if t.intrathecal
                   and t.status in ("current", "planned")]
    recommended = _recommended(case, "nelarabine") and (
        bool(intrathecal) or any(r.code == "intrathecal-therapy" for r in case.recommendations))
    if (nelarabine and intrathecal) or recommended:
        case.warn("nelarabine-intrathecal-neurotoxicity", "Nelarabine with concurrent intrathecal "
                  "chemotherapy: neurotoxicity; avoid giving them together (000).", ["000"],
                  _severity(bool(nelarabine and intrathecal)), rests_on=["nelarabine"],
                  refs=[r for t in nelarabine + intrathecal for r in t.refs])


def _cranial_dose(case: Case) -> None:
    prior = [p for p in case.facts.procedures if p.kind == "radiotherapy" and p.status == "done"
             and p.regions & {"cranial", "spinal", "tbi"} and (p.dose_gy or 0) > PRIOR_CRANIAL_LIMIT_GY]
    planned = [p for p in case.facts.procedures if p.kind == "radiotherapy"
               and p.status == "planned" and p.regions & {"cranial", "spinal"}]
    recommended = [r for r in case.recommendations if r.code == "cranial-radiation"]
    if not prior or not (planned or recommended):
        return
    for rec in recommended:
        rec.params["dose_gy"] = REDUCED_CRANIAL_DOSE_GY
        rec.text += (f" Dose reduced to {REDUCED_CRANIAL_DOSE_GY} Gy after prior cranial "
                     f"irradiation > {PRIOR_CRANIAL_LIMIT_GY:g} Gy (001).")
    case.warn("cranial-radiation-dose-reduction", f"Prior cranial irradiation > "
              f"{PRIOR_CRANIAL_LIMIT_GY:g} Gy: reduce CNS radiation to {REDUCED_CRANIAL_DOSE_GY} Gy "
              "(001).", ["001"], _severity(bool(planned)), rests_on=["radiotherapy"],
              refs=[r for p in prior + planned for r in p.refs], dose_gy=REDUCED_CRANIAL_DOSE_GY)


def _prior_blinatumomab(case: Case) -> None:
    given = in_record(case, "blinatumomab", "given")
    car_t = _planned_or_active(case, "car-t-cd19") or _recommended(case, "car-t-cd19") or any(
        p.kind == "car-t-infusion" and p.status == "planned" for p in case.facts.procedures)
    if given and car_t:
        case.warn("prior-blinatumomab-before-car-t", "Prior blinatumomab may raise the risk of "
                  "non-response or CD19-negative relapse after CAR-T; not a contraindication "
                  "(000).", ["000"], "info", rests_on=["blinatumomab"])
