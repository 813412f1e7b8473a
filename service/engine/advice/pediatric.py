"""Pediatric first relapse pathways: 000 Figure 1A (B-ALL marrow), 1B (isolated CNS), 1C (T-ALL);
testicular and other extramedullary relapse (001, 002).  CLINICAL_RULES §3.1–§3.4."""

from __future__ import annotations

from service.engine.advice.state import (
    blinatumomab_cycles_after_relapse,
    cd_status,
    latest_mrd_after,
    mrd_positive,
    refractory_to_reinduction,
)
from service.engine.case import Case
from service.engine.mrd import AT_OR_ABOVE, compare
from service.engine.schemes import cog
from service.engine.site import BM, COMB, IEM

# Radiation doses (001): cranial 18 Gy (1800 cGy, 000 Patient 2), 15 Gy after prior cranial
# irradiation > 20 Gy (applied in safety.py); testis 15 Gy to the remaining testis after a
# unilateral orchiectomy (15–18 Gy by biopsy), 24 Gy for bilateral involvement.
CRANIAL_DOSE_GY = 18
TESTIS_REMAINING_DOSE_GY = 15
TESTIS_BILATERAL_DOSE_GY = 24
BLINATUMOMAB_CYCLES = 2  # two 28-day cycles (000 Figure 1A)


def first_relapse(case: Case) -> None:
    site = case.site
    if site is None or site.unconfirmed:
        _unconfirmed(case)
        return
    categories = site.categories
    if "repeat-lumbar-puncture" in site.actions:
        case.recommend("repeat-lumbar-puncture", "Repeat the lumbar puncture: the CSF with blasts "
                       "was blood-contaminated, so CNS status cannot be called (002).", ["002"],
                       rests_on=["csf-findings"], refs=site.refs)
    if case.phenotype == "T":
        t_all(case)
    elif categories and categories <= {BM, COMB}:
        b_marrow(case)
    elif categories == {IEM}:
        if "cns" in site.extramedullary:
            isolated_cns(case)
        else:
            isolated_other(case)
    else:
        case.recommend("reinduction-4-drug", "Reinduction as for a marrow relapse while the site "
                       "is clarified: dexamethasone, vincristine, mitoxantrone, pegaspargase and "
                       "intrathecal methotrexate (UKALL R3) or another 4-drug regimen (000).",
                       ["000"], rests_on=["relapse-site"])
    if "cns" in site.extramedullary:
        cns_directed(case)
    if "testis" in site.extramedullary:
        testicular(case)
    before_hsct(case)


def before_hsct(case: Case) -> None:
    """HSCT planned and the last MRD positive (≥ 10⁻⁴): further MRD-directed therapy first (000),
    but positive MRD is not a bar to HSCT (002: 43% survival with MRD 0.1–< 5%)."""
    planned = any(p.kind == "hsct-allogeneic" and p.status == "planned"
                  for p in case.facts.procedures)
    last = latest_mrd_after(case, case.reinduction_start)
    if not planned or not mrd_positive(last) or last is None:
        return
    agent = "blinatumomab or inotuzumab" if cd_status(case, "cd19") is not False else "inotuzumab"
    case.recommend("mrd-assessment", f"HSCT planned with MRD ≥ 0.01% ({last.fraction * 100:.3g}%): "
                   f"further MRD-directed therapy before HSCT ({agent}, 000) and repeat MRD; "
                   "positive MRD predicts relapse after HSCT but is not a bar to it (002).",
                   ["000", "002"], rests_on=["mrd"], refs=last.refs, threshold_percent=0.01)


def _unconfirmed(case: Case) -> None:
    site = case.site
    actions = site.actions if site else []
    if "repeat-marrow" in actions:
        case.recommend("repeat-marrow", "Repeat the marrow: an M2 marrow (5–25% blasts) without "
                       "extramedullary disease or blood blasts does not meet relapse criteria "
                       "(002).", ["002"], rests_on=["marrow-blasts"], refs=site.refs if site else ())
    if "repeat-lumbar-puncture" in actions:
        case.recommend("repeat-lumbar-puncture", "Repeat the lumbar puncture: CNS status cannot be "
                       "called from this CSF (CNS2 or a blood-contaminated tap) (002).", ["002"],
                       rests_on=["csf-findings"], refs=site.refs if site else ())


def _reinduction(case: Case, text_extra: str = "") -> None:
    if case.reinduction_under_way:
        return
    case.recommend("reinduction-4-drug", "Reinduction with the UKALL R3 block (dexamethasone, "
                   "vincristine, mitoxantrone, pegaspargase, intrathecal methotrexate) or another "
                   f"4-drug regimen{text_extra} (000).", ["000"],
                   rests_on=["relapse-site", "immunophenotype"])
    case.recommend("infection-prophylaxis", "Infection risk is high: hospitalise until count "
                   "recovery with antibacterial, antifungal and Pneumocystis prophylaxis (000).",
                   ["000"], rests_on=["relapse-date"])


def _donor_search(case: Case, why: str) -> None:
    case.recommend("donor-search", f"Start HLA typing and a donor search now: {why}. Matched "
                   "sibling, matched unrelated and haploidentical donors give similar survival "
                   "(000); 001 prefers a matched sibling, then an unrelated donor with ≤ 1 allele "
                   "mismatch at HLA-A, -B, -C, -DRB1.", ["000", "001"],
                   rests_on=["relapse-site", "immunophenotype", "diagnosis-date"])


def _mrd_end_block_1(case: Case, affects: list[str], why: str) -> None:
    if case.end_block_1 is not None:
        return
    case.recommend("mrd-assessment", f"Marrow MRD at the end of reinduction block 1 (day 29–36): "
                   f"{why}.", ["000"], rests_on=["mrd-end-of-reinduction"],
                   timepoint="end of block 1", threshold_percent=0.1)
    case.need("mrd-end-of-reinduction", affects, "the post-reinduction allocation depends on it")


def _cog_late(case: Case) -> bool | None:
    timing = case.cog_timing
    return None if len(timing) != 1 else timing == {"late"}


def b_marrow(case: Case) -> None:
    """000 Figure 1A: B-ALL first marrow relapse, isolated or combined."""
    _reinduction(case)
    late = _cog_late(case)
    if refractory_to_reinduction(case):
        _refractory_options(case)
        return
    mrd = case.end_block_1
    side = compare(mrd, cog.MRD_CUTOFF) if mrd else None
    if late is True and side is None:
        _mrd_end_block_1(case, ["cog", "pathway"], "for a late relapse, < 0.1% leads to "
                         "chemotherapy without HSCT, ≥ 0.1% to blinatumomab and HSCT")
        return
    if late is True and side != AT_OR_ABOVE:
        case.recommend("chemotherapy-continuation", "Late relapse with end-block-1 MRD < 0.1%: "
                       "chemotherapy to a total of 2 years without HSCT; UKALL R3 preferred for its "
                       "lower cumulative dose (ALL-REZ BFM 2002 or COG AALL0433 are alternatives) "
                       "(000).", ["000"], rests_on=["diagnosis-date", "mrd-end-of-reinduction"],
                       refs=mrd.refs if mrd else (), duration_years=2)
        return
    why = ("early relapse" if late is False else
           "late relapse with end-block-1 MRD ≥ 0.1%" if late else "timing not yet known")
    _donor_search(case, f"HSCT in CR2 is planned ({why})")
    _blinatumomab_then_hsct(case, why)


def _blinatumomab_then_hsct(case: Case, why: str) -> None:
    cd19 = cd_status(case, "cd19")
    cycles = blinatumomab_cycles_after_relapse(case)
    if cd19 is False:
        case.recommend("inotuzumab", "CD19-negative: blinatumomab is not an option; inotuzumab if "
                       "CD22-positive before HSCT, noting veno-occlusive disease risk (000).",
                       ["000"], rests_on=["cd19-status", "cd22-status"])
    elif cycles < BLINATUMOMAB_CYCLES:
        case.recommend("blinatumomab-consolidation", f"{why.capitalize()}: two 28-day cycles of "
                       "blinatumomab after reinduction, then HSCT in CR2 if MRD-negative (after "
                       "cycle 1 if a donor is ready and MRD is negative) (000).", ["000"],
                       rests_on=["diagnosis-date", "mrd-end-of-reinduction", "cd19-status"],
                       cycles=BLINATUMOMAB_CYCLES - cycles, cycle_days=28)
    after = latest_mrd_after(case, case.reinduction_start) if cycles else None
    positive = mrd_positive(after)
    if cycles >= BLINATUMOMAB_CYCLES and positive:
        case.recommend("inotuzumab", "MRD ≥ 0.01% after 2 blinatumomab cycles: alternative "
                       "strategies, inotuzumab (veno-occlusive disease risk after HSCT) or a CAR-T "
                       "trial (000).", ["000"], rests_on=["mrd-end-of-reinduction"],
                       refs=after.refs if after else ())
        if cd19 is not False:
            case.recommend("car-t-cd19", "MRD persisting after blinatumomab: CD19 CAR-T (trial) "
                           "is an alternative strategy (000).", ["000"], rests_on=["cd19-status"])
        return
    case.recommend("hsct-cr2", "HSCT in CR2 from the best available donor once MRD < 0.01% "
                   "(000). MRD ≥ 10⁻⁴ before HSCT predicts relapse (002) but MRD 0.1–< 5% still "
                   "gave 43% survival in one series: positive MRD is not a bar to HSCT.",
                   ["000", "002"], rests_on=["diagnosis-date", "mrd-end-of-reinduction"],
                   mrd_threshold_percent=0.01)


def _refractory_options(case: Case) -> None:
    case.recommend("inotuzumab", "M3 marrow after reinduction (refractory): inotuzumab (CD22) "
                   "(000).", ["000"], rests_on=["marrow-blasts", "cd22-status"])
    if cd_status(case, "cd19") is not False:
        case.recommend("car-t-cd19", "Refractory to reinduction: CD19 CAR-T (trial) (000).",
                       ["000"], rests_on=["marrow-blasts", "cd19-status"])
    case.recommend("clofarabine-regimen", "Resistant marrow relapse of BCP-ALL: clofarabine-based "
                   "regimens can be considered (001).", ["001"], rests_on=["marrow-blasts"])


def refractory(case: Case) -> None:
    """Primary refractory ALL (no relapse date): the refractory options of §3.1."""
    if case.phenotype == "T":
        case.recommend("nelarabine-regimen", "Refractory T-ALL: nelarabine-based therapy "
                       "(nelarabine, cyclophosphamide, etoposide) (000).", ["000"],
                       rests_on=["immunophenotype"])
        case.recommend("early-phase-trial", "Refractory T-ALL: early-phase trial (000 Table 3; "
                       "check current status).", ["000"], rests_on=["immunophenotype"])
    else:
        _refractory_options(case)
    _donor_search(case, "refractory disease needs HSCT once in remission")


def isolated_cns(case: Case) -> None:
    """000 Figure 1B: isolated CNS relapse of B-ALL."""
    late = _cog_late(case)
    if late is False:
        _reinduction(case, ", dexamethasone-based, with weekly triple intrathecal therapy")
        _donor_search(case, "early isolated CNS relapse is treated with HSCT in CR2")
        case.recommend("hsct-cr2", "Early isolated CNS relapse (< 18 months): 3 blocks of "
                       "reinduction, then HSCT with TBI conditioning and a CNS boost (000). If "
                       "MRD ≥ 0.01% after 3 blocks, alternative strategies (CAR-T trial).",
                       ["000"], rests_on=["diagnosis-date", "relapse-site"], blocks=3,
                       mrd_threshold_percent=0.01)
        return
    _reinduction(case, " with triple intrathecal therapy")
    case.recommend("chemotherapy-continuation", "Late isolated CNS relapse: intensive chemotherapy "
                   "for 2 years with delayed cranial radiation at about 12 months (000).",
                   ["000"], rests_on=["diagnosis-date", "relapse-site"], duration_years=2)
    mrd = case.end_block_1
    if mrd is None:
        _mrd_end_block_1(case, ["pathway"], "for isolated CNS relapse HSCT only if marrow MRD is "
                         "≥ 0.01% (000), even when the COG group is low")
    elif mrd_positive(mrd):
        _donor_search(case, "marrow MRD ≥ 0.01% at the end of reinduction")
        case.recommend("hsct-cr2", "Isolated CNS relapse with marrow MRD ≥ 0.01% at the end of "
                       "reinduction: HSCT (000; this 0.01% threshold applies even when the COG "
                       "group is low).", ["000"], rests_on=["mrd-end-of-reinduction"],
                       refs=mrd.refs, mrd_threshold_percent=0.01)


def cns_directed(case: Case) -> None:
    """Any CNS involvement: intensified intrathecal therapy (002), cranial radiation 18 Gy (001)
    unless HSCT with TBI and a CNS boost is planned."""
    case.recommend("intrathecal-therapy", "CNS involvement: intensified (triple) intrathecal "
                   "therapy (002); consider an Ommaya reservoir (000).", ["002", "000"],
                   rests_on=["csf-findings"], refs=case.site.refs if case.site else ())
    if any(r.code == "hsct-cr2" for r in case.recommendations):
        return
    case.recommend("cranial-radiation", f"CNS involvement without planned HSCT: cranial radiation "
                   f"{CRANIAL_DOSE_GY} Gy ({CRANIAL_DOSE_GY * 100} cGy), delayed to about 12 "
                   "months of therapy for a late isolated CNS relapse (000, 001).", ["001", "000"],
                   rests_on=["csf-findings", "relapse-site"], dose_gy=CRANIAL_DOSE_GY)


def testicular(case: Case) -> None:
    """Local therapy of testicular relapse (001, 002)."""
    case.recommend("orchiectomy", "Testicular relapse: orchiectomy of the involved testis with "
                   "biopsy of the other; for bilateral involvement orchiectomy or radiation "
                   f"{TESTIS_BILATERAL_DOSE_GY} Gy. Either causes infertility and impaired hormone "
                   "production: fertility and endocrine counselling (001, 002).", ["001", "002"],
                   rests_on=["relapse-site"])
    case.recommend("testicular-radiation", f"Radiation {TESTIS_REMAINING_DOSE_GY} Gy (15–18 Gy by "
                   "biopsy) to the remaining testis after unilateral orchiectomy; "
                   f"{TESTIS_BILATERAL_DOSE_GY} Gy when both are involved. 002: most groups "
                   "irradiate both testes at 24 Gy; DCOG treated late testicular relapse with "
                   "neither surgery nor radiation.", ["001", "002"], rests_on=["relapse-site"],
                   dose_gy=TESTIS_REMAINING_DOSE_GY, bilateral_dose_gy=TESTIS_BILATERAL_DOSE_GY)


def isolated_other(case: Case) -> None:
    """Isolated testicular or other extramedullary relapse: systemic therapy by scheme (002)."""
    _reinduction(case)
    late = _cog_late(case)
    if late is False:
        _donor_search(case, "early isolated extramedullary relapse goes to HSCT")
        case.recommend("hsct-cr2", "Early isolated extramedullary relapse: HSCT in CR2 (002 Table "
                       "6; BFM S2 by MRD).", ["002"], rests_on=["diagnosis-date", "relapse-site"])
    else:
        case.recommend("chemotherapy-continuation", "Late isolated extramedullary relapse: "
                       "chemotherapy; HSCT only if MRD-positive (002).", ["002"],
                       rests_on=["diagnosis-date", "relapse-site"], duration_years=2)
        _mrd_end_block_1(case, ["cog", "pathway"], "HSCT only if MRD-positive (002)")
    if "other" in (case.site.extramedullary if case.site else []):
        case.notes.append("Other extramedullary site: no local therapy unless disease persists "
                          "after induction, then biopsy and local radiation (002).")


def t_all(case: Case) -> None:
    """000 Figure 1C: T-ALL first relapse, HSCT regardless of site and timing."""
    if not case.reinduction_under_way:
        case.recommend("reinduction-4-drug", "T-ALL reinduction: UKALL R3 block, or NECTAR "
                       "(nelarabine, cyclophosphamide, etoposide), or bortezomib with a 4-drug "
                       "reinduction (AALL07P1) (000).", ["000"], rests_on=["immunophenotype"])
        case.recommend("infection-prophylaxis", "Hospitalise until count recovery with "
                       "antimicrobial prophylaxis (000).", ["000"], rests_on=["relapse-date"])
        case.recommend("nelarabine-regimen", "NECTAR (nelarabine, cyclophosphamide, etoposide) "
                       "is an option, more practical after induction when CNS disease needs "
                       "intrathecal therapy: avoid nelarabine with concurrent intrathecal "
                       "chemotherapy (000).", ["000"], rests_on=["immunophenotype"])
    _donor_search(case, "HSCT is preferred for relapsed T-ALL regardless of site and timing")
    after = case.end_block_1 or latest_mrd_after(case, case.reinduction_start)
    if mrd_positive(after):
        case.recommend("early-phase-trial", "T-ALL with MRD ≥ 0.01% after reinduction: further "
                       "reinduction cycles, then an early-phase trial (daratumumab, venetoclax/"
                       "navitoclax, CDK4/6 or mTOR inhibitors; 000 Table 3, check current status).",
                       ["000"], rests_on=["mrd-end-of-reinduction"], refs=after.refs if after else ())
    case.recommend("hsct-cr2", "Relapsed T-ALL: HSCT from the best available donor as soon as an "
                   "MRD-negative CR2 is reached, regardless of site and timing (000).", ["000"],
                   rests_on=["immunophenotype"], mrd_threshold_percent=0.01)
