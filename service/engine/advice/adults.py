"""Adults and young adults with relapsed/refractory Ph-negative ALL (CLINICAL_RULES §5; 004)."""

from __future__ import annotations

from service.engine.advice.genetics import findings
from service.engine.advice.state import cd_status
from service.engine.case import Case

RETREAT_AFTER_MONTHS = 12  # relapse > 1 year after initial induction: may retreat (004)


def advise(case: Case) -> None:
    if "BCR-ABL1" in findings(case) or any(d.ph_positive for d in case.facts.diagnoses):
        case.warn("outside-trial-population", "Ph-positive ALL in an adult is outside seed 004 "
                  "(Ph-negative): TKI-based therapy applies (000); the adult advice below is "
                  "Ph-negative advice.", ["004", "000"], "warning", rests_on=["genetics"])
    case.recommend("hsct-cr2", "Allogeneic HSCT in CR2 is the only curative approach for adults: "
                   "refer to a transplant centre; aim for a morphologic, preferably MRD-negative, "
                   "remission before HSCT (004).", ["004"], rests_on=["population"])
    case.recommend("donor-search", "Start the donor search at once (HLA typing of patient and "
                   "siblings) (004).", ["004"], rests_on=["population"])
    if case.number >= 2:
        case.recommend("liposomal-vincristine", "Second or later relapse: liposomal vincristine is "
                       "approved for Ph-negative ALL (004).", ["004"], rests_on=["relapse-date"])
    _salvage(case)
    if case.phenotype == "T":
        case.recommend("nelarabine-regimen", "T-lineage: a nelarabine-based regimen (neurotoxicity; "
                       "trials excluded CNS disease) (004).", ["004"], rests_on=["immunophenotype"])
    elif case.phenotype == "B":
        if cd_status(case, "cd19") is not False:
            case.recommend("blinatumomab-salvage", "B-lineage: blinatumomab" + (
                " once the CNS has cleared" if case.cns_involved else "") + " (contraindicated with "
                "active CNS disease) (004).", ["004"], rests_on=["immunophenotype"])
            case.recommend("car-t-cd19", "B-lineage: CD19 CAR-T trials (004).", ["004"],
                           rests_on=["immunophenotype"])
        case.recommend("inotuzumab", "B-lineage: inotuzumab (veno-occlusive disease risk with a "
                       "later HSCT) (004).", ["004"], rests_on=["immunophenotype"])
    site = case.site
    if site is not None and "cns" in site.extramedullary:
        case.recommend("intrathecal-therapy", "CNS relapse: intrathecal methotrexate alternating "
                       "with cytarabine twice weekly until the CSF clears, then weekly; systemic "
                       "high-dose methotrexate/cytarabine (004).", ["004"],
                       rests_on=["csf-findings"], refs=site.refs)
        case.recommend("repeat-marrow", "CNS relapse: restaging marrow with MRD — a CNS relapse "
                       "often heralds a systemic one (004).", ["004"], rests_on=["relapse-site"])
        case.notes.append("Adult CNS relapse: radiation is reserved for intrathecal failure or "
                          "cranial nerve palsy (004).")
    elif site is not None and site.categories - {"IEM"}:
        case.recommend("cns-testes-reevaluation", "Systemic relapse: re-evaluate the CNS and "
                       "testes (004).", ["004"], rests_on=["relapse-site"])
        case.recommend("intrathecal-therapy", "Systemic relapse: restart intrathecal prophylaxis "
                       "(004).", ["004"], rests_on=["relapse-site"])
    if case.hsct_before is not None:
        case.recommend("dli-or-second-hsct", "Relapse after HSCT: withdraw immunosuppression / "
                       "donor lymphocyte infusion (responses 0–20%), second HSCT for selected "
                       "younger patients, haploidentical an option (004).", ["004"],
                       rests_on=["hsct"])


def _salvage(case: Case) -> None:
    if case.reinduction_under_way or case.day is None:
        return
    if case.months is not None and case.months[0] > RETREAT_AFTER_MONTHS:
        text = ("Relapse more than 1 year after initial induction: retreatment with the regimen "
                "that worked is possible; an asparaginase-containing regimen if asparaginase was "
                "not given before (004).")
    else:
        text = ("Relapse within 1 year of initial induction (or timing unknown): an alternative "
                "regimen — high-dose cytarabine-based, FLAG-IDA, hyper-CVAD or clofarabine "
                "combinations (004 Table 1).")
    case.recommend("salvage-regimen", text, ["004"], rests_on=["diagnosis-date", "relapse-date"])
