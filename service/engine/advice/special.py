"""Special situations (CLINICAL_RULES §4; 000 scenarios 2–4; 001; 002): relapse after HSCT or
CAR-T, second and later relapses, and what every relapse needs."""

from __future__ import annotations

from service.engine.advice.state import cd_status, mrd_positive
from service.engine.case import Case
from service.engine.dates import months_between
from service.engine.window import closest

EARLY_POST_HSCT_MONTHS = 12  # outcome worse < 6–12 months after HSCT (000)
CD3_COLLECTION_FROM = 200.0  # /µL: collect T cells before further therapy (000)
ALC_COLLECTION_FROM = 500.0  # /µL, and ≥ 2 weeks after chemotherapy (000)
CAR_T_WATCH_MONTHS = 6  # MRD or B-cell recovery within 6 months of CAR-T → HSCT (000)


def common(case: Case) -> None:
    """CD19/CD22 status of a B-lineage relapse decides the immunotherapy options (000)."""
    if case.phenotype == "T":
        return
    cd19 = cd_status(case, "cd19")
    if cd19 is None:
        case.need("cd19-status", ["blinatumomab", "car-t-cd19"])
    elif cd19 is False:
        case.warn("cd19-negative", "CD19-negative relapse: blinatumomab and CD19 CAR-T are not "
                  "options (target absent) (000).", ["000"], "warning", rests_on=["cd19-status"])
    if cd_status(case, "cd22") is None:
        case.need("cd22-status", ["inotuzumab", "car-t-cd22-trial"])


def _car_t_route(case: Case) -> bool:
    """Relapse after HSCT, CD19-positive B-ALL, no CAR-T yet: CD19 CAR-T comes next (000
    scenario 2), and inotuzumab is better avoided before it."""
    return (case.hsct_before is not None and case.car_t_before is None
            and case.phenotype == "B" and cd_status(case, "cd19") is not False
            and case.population.name == "pediatric")


def later_relapse(case: Case) -> None:
    """Second or later relapse: remission rates ≈ 40% (001, 000 scenario 4)."""
    marrow = case.site is not None and bool(case.site.categories - {"IEM"})
    if _car_t_route(case):
        case.notes.append("Relapse after HSCT heading for CD19 CAR-T: prefer to avoid inotuzumab "
                          "before CAR-T (not a contraindication) (000).")
    elif case.phenotype != "T":
        if marrow:
            case.recommend("clofarabine-regimen", "Second or later marrow relapse of BCP-ALL: "
                           "clofarabine-based regimens (001).", ["001"], rests_on=["relapse-date"])
        if cd_status(case, "cd22") is not False:
            case.recommend("inotuzumab", "Second or later relapse: inotuzumab if the blasts are "
                           "CD22-positive (000).", ["000"], rests_on=["cd22-status"])
    if case.phenotype == "T":
        case.recommend("nelarabine-regimen", "Relapsed T-ALL: nelarabine-based regimen (000).",
                       ["000"], rests_on=["immunophenotype"])
    case.recommend("early-phase-trial", "Second or later relapse: early-phase trials (000 Table "
                   "3, listed in the source review; check current status).", ["000"],
                   rests_on=["relapse-date"])
    case.recommend("genomic-profiling", "Genomic profiling for targeted therapy (000).", ["000"],
                   rests_on=["genetics"])
    if case.hsct_before is not None and case.car_t_before is not None:
        case.recommend("goals-of-care", "Multiply relapsed after HSCT and CAR-T: potentially "
                       "curative options may remain, but explore with the patient and family "
                       "whether to focus on quality of life (000 scenario 4).", ["000"],
                       rests_on=["relapse-date"])
    elif not _car_t_route(case):
        case.recommend("goals-of-care", "Remission rates fall with each relapse (about 40%): "
                       "discuss goals of care, cure and quality of life, with the family (000, "
                       "001).", ["000", "001"], rests_on=["relapse-date"])


def after_cellular_therapy(case: Case) -> None:
    if case.current is None:
        return
    if case.hsct_before is not None:
        _after_hsct(case)
    if case.car_t_before is not None:
        _after_car_t(case)
    car_t_since_relapse(case)


def _after_hsct(case: Case) -> None:
    months = case.months_after_hsct
    if months is None:
        return
    if case.number == 1:
        case.notes.append("First relapse after HSCT in first remission: the schemes apply, but "
                          "outcome after HSCT is worse than their figures (002).")
    if months < EARLY_POST_HSCT_MONTHS:
        case.warn("early-post-hsct-relapse", f"Relapse {months} months after HSCT (< 12): "
                  "outcome is worse when relapse comes within 6–12 months of HSCT (000).", ["000"],
                  "warning", rests_on=["hsct"], months_after_hsct=months)
    if case.population.name != "pediatric":
        return
    cd19 = cd_status(case, "cd19")
    if case.phenotype == "B" and cd19 is not False and case.car_t_before is None:
        case.recommend("car-t-cd19", "Relapse after HSCT, CD19-positive B-ALL: CD19 CAR-T "
                       "(tisagenlecleucel or a trial); prefer to avoid inotuzumab before CAR-T "
                       "(not a contraindication) (000).", ["000"], rests_on=["hsct", "cd19-status"])
        _t_cell_collection(case)
    if months >= EARLY_POST_HSCT_MONTHS:
        case.recommend("dli-or-second-hsct", "Relapse more than 12 months after HSCT: a second "
                       "HSCT in remission gives better results (000).", ["000"], rests_on=["hsct"])


def _t_cell_collection(case: Case) -> None:
    assert case.day is not None
    cd3 = closest(case.facts.measurements, "cd3-count", case.day, days=30)
    alc = closest(case.facts.measurements, "alc", case.day, days=30)
    if cd3 is not None and cd3.value > CD3_COLLECTION_FROM:
        text = (f"Peripheral blood CD3 count {cd3.value:g}/µL (> 200): collect T cells for CAR-T "
                "before further therapy (000).")
        refs = cd3.refs
    else:
        text = ("Collect T cells for CAR-T before further therapy if the blood CD3 count is "
                "> 200/µL; after chemotherapy wait ≥ 2 weeks and an absolute lymphocyte count "
                "> 500/µL (000).")
        refs = alc.refs if alc else ()
    case.recommend("t-cell-collection", text, ["000"], rests_on=["cd3-count"], refs=refs,
                   cd3_threshold_per_ul=CD3_COLLECTION_FROM, alc_threshold_per_ul=ALC_COLLECTION_FROM)


def _after_car_t(case: Case) -> None:
    """Relapse after CAR-T (000 scenario 3)."""
    cd19, cd22 = cd_status(case, "cd19"), cd_status(case, "cd22")
    if cd19 is False:
        if cd22 is not False:
            case.recommend("inotuzumab", "CD19-negative relapse after CAR-T, CD22-positive: "
                           "inotuzumab (immediately available; veno-occlusive disease risk after a "
                           "later HSCT) (000).", ["000"], rests_on=["cd19-status", "cd22-status"])
            case.recommend("car-t-cd22-trial", "CD22 CAR-T on a clinical trial (000; trial "
                           "identifiers in the source review, check current status).", ["000"],
                           rests_on=["cd22-status"])
    else:
        case.recommend("car-t-cd19", "CD19-positive relapse after CAR-T: blinatumomab, CD19 CAR "
                       "retreatment, or humanized CD19 or CD19/CD22 CAR trials (000).", ["000"],
                       rests_on=["cd19-status"])
    case.recommend("hsct-after-car-t", "After a new MRD-negative remission, a (second) HSCT is "
                   "likely needed for cure; minimise toxicity on the way (000).", ["000"],
                   rests_on=["car-t"])


def car_t_since_relapse(case: Case) -> None:
    """CAR-T given for this relapse: monitoring and the HSCT decision (000 authors' practice)."""
    assert case.day is not None
    infusions = [p.when for p in case.facts.procedures if p.kind == "car-t-infusion"
                 and p.status == "done" and p.when and p.when >= case.day]
    infusions += [t.start for t in case.facts.therapies if t.agent in ("car-t-cd19", "car-t-cd22")
                  and t.status == "given" and t.start and t.start >= case.day]
    if not infusions:
        return
    infused = max(d for d in infusions if d is not None)
    case.recommend("car-t-monitoring", "After CAR-T: marrow MRD at day 30 and 90, then every 3 "
                   "months in year 1; blood B cells monthly for at least 6 months (000).", ["000"],
                   rests_on=["car-t"])
    recovery = [f for f in case.facts.findings if f.kind == "b-cell-recovery" and f.positive
                and f.when >= infused and months_between(infused, f.when) < CAR_T_WATCH_MONTHS]
    relapsing = [m for m in case.facts.mrd if m.when > infused and mrd_positive(m)
                 and months_between(infused, m.when) < CAR_T_WATCH_MONTHS]
    if recovery or relapsing:
        case.recommend("hsct-after-car-t", "MRD recurrence or B-cell recovery within 6 months of "
                       "CAR-T: an indication for a (second) HSCT (000).", ["000"],
                       rests_on=["b-cell-recovery", "mrd"],
                       refs=[r for f in [*recovery, *relapsing] for r in f.refs])
