"""The named conditions the advice tables are written in: one line each, read as a sentence.

Negate one with ``~`` (``~REINDUCTION_UNDER_WAY`` reads "not reinduction already under way").
"""

from __future__ import annotations

from service.engine.advice.rules import Condition, condition
from service.engine.site import BM, COMB, IEM

# Adverse findings the clinical schemes do not capture (CLINICAL_RULES §3.5; 001, 003, 000).
# iAMP21 is listed as the spec lists it, but no code map yields it yet (FHIR_INPUT.md has no
# iAMP21 code), so dropping it changes no output today; it counts once a map reads it.
ADVERSE = ("KMT2A", "hypodiploidy", "TCF3-PBX1", "iAMP21", "BCR-ABL1", "TP53", "TCF3-HLF")
# High-risk somatic alterations "such as TCF3-HLF" (000): HSCT or CAR-T in CR2 regardless of MRD.
HSCT_REGARDLESS_OF_MRD = ("TP53", "TCF3-HLF")

# who
CHILD = condition("age < 18 at diagnosis (or age unknown)",
                  lambda s: s.population in ("pediatric", "indeterminate"))
ADULT_OR_AYA = condition("age ≥ 18 at diagnosis", lambda s: s.population in ("aya", "adult"))
OUTSIDE_TRIALS = condition("infant at diagnosis, or diagnosed < 18 and relapsed > 30",
                           lambda s: s.outside_trials)
PH_POSITIVE = condition("Ph-positive (BCR-ABL1)", lambda s: s.ph_positive)

# which relapse
# ``number >= 1`` vs ``>= 0`` differs only for primary refractory disease (number 0), where the
# one rule that could tell is adult salvage-regimen (adults.py); see the issue 16 report.
A_RELAPSE = condition("a dated relapse", lambda s: s.number >= 1)
FIRST_RELAPSE = condition("first relapse", lambda s: s.number == 1)
LATER_RELAPSE = condition("second or later relapse", lambda s: s.number >= 2)
PRIMARY_REFRACTORY = condition("refractory disease without a relapse date",
                               lambda s: s.primary_refractory)

# lineage
B_LINEAGE = condition("B-lineage", lambda s: s.phenotype == "B")
T_LINEAGE = condition("T-lineage", lambda s: s.phenotype == "T")

# site
SITE_CONFIRMED = condition("results meet relapse criteria", lambda s: not s.site_unconfirmed)
MARROW_SITE = condition("marrow relapse (isolated or combined)",
                        lambda s: bool(s.categories) and s.categories <= {BM, COMB})
ISOLATED_EXTRAMEDULLARY = condition("isolated extramedullary relapse", lambda s: s.categories == {IEM})
SITE_UNCLEAR = condition("site not yet clear (marrow or extramedullary)",
                         lambda s: len(s.categories) > 1)
CNS_INVOLVED = condition("CNS involvement", lambda s: "cns" in s.extramedullary)
CNS_UNKNOWN = condition("CNS status at this relapse not known (no CSF result that calls it)",
                        lambda s: s.cns_unknown)
TESTIS_INVOLVED = condition("testicular involvement", lambda s: "testis" in s.extramedullary)
OTHER_EM_INVOLVED = condition("other extramedullary site", lambda s: "other" in s.extramedullary)
SYSTEMIC = condition("marrow involved or possibly involved", lambda s: bool(s.categories - {IEM}))
REPEAT_MARROW_NEEDED = condition("M2 marrow alone (does not meet relapse criteria)",
                                 lambda s: "repeat-marrow" in s.site_actions)
REPEAT_LP_NEEDED = condition("CSF cannot be called (CNS2 alone or a traumatic tap with blasts)",
                             lambda s: "repeat-lumbar-puncture" in s.site_actions)

# timing (COG family, the one 000 Figure 1 uses)
COG_EARLY = condition("COG early", lambda s: s.cog_timing == "early")
COG_LATE = condition("COG late", lambda s: s.cog_timing == "late")
MONTHS_ABOVE_12 = condition("more than 12 months from diagnosis",
                            lambda s: s.months_from_diagnosis_above_12 is True)

# response
REINDUCTION_UNDER_WAY = condition("reinduction already under way",
                                  lambda s: s.reinduction_under_way)
REFRACTORY = condition("refractory (primary, or M3 marrow after reinduction)",
                       lambda s: s.refractory_to_reinduction)
END_BLOCK_1_MRD_UNKNOWN = condition("end-block-1 MRD not known",
                                    lambda s: s.end_block_1_vs_cog_cutoff is None)
END_BLOCK_1_BELOW_0_1 = condition("end-block-1 MRD < 0.1%",
                                  lambda s: s.end_block_1_vs_cog_cutoff == "below")
END_BLOCK_1_AT_OR_ABOVE_0_1 = condition("end-block-1 MRD ≥ 0.1%",
                                        lambda s: s.end_block_1_vs_cog_cutoff == "at-or-above")
END_BLOCK_1_POSITIVE = condition("end-of-reinduction MRD ≥ 0.01%",
                                 lambda s: s.end_block_1_positive is True)
END_BLOCK_1_POSITIVITY_UNKNOWN = condition("end-of-reinduction MRD not known against 0.01%",
                                           lambda s: s.end_block_1_positive is None)
MRD_POSITIVE_AFTER_REINDUCTION = condition("MRD ≥ 0.01% after reinduction",
                                           lambda s: s.mrd_after_reinduction_positive is True)
BLINATUMOMAB_COURSE_DUE = condition("fewer than 2 blinatumomab cycles given",
                                    lambda s: s.blinatumomab_cycles_given < 2)
PERSISTENT_MRD_AFTER_BLINATUMOMAB = condition(
    "MRD ≥ 0.01% after 2 blinatumomab cycles",
    lambda s: s.blinatumomab_cycles_given >= 2 and s.latest_mrd_positive is True)
PRE_HSCT_MRD_POSITIVE = condition("HSCT planned and the latest MRD ≥ 0.01%",
                                  lambda s: s.pre_hsct_mrd_positive)

# surface markers
CD19_NEGATIVE = condition("CD19-negative blasts", lambda s: s.cd19 is False)
CD19_UNKNOWN = condition("CD19 not tested at this relapse", lambda s: s.cd19 is None)
CD22_NEGATIVE = condition("CD22-negative blasts", lambda s: s.cd22 is False)
CD22_UNKNOWN = condition("CD22 not tested at this relapse", lambda s: s.cd22 is None)
NOT_KNOWN_B = condition("lineage not known to be B", lambda s: s.phenotype != "B")

# cellular therapy
AFTER_HSCT = condition("relapse after allogeneic HSCT", lambda s: s.after_hsct)
WITHIN_12_MONTHS_OF_HSCT = condition(
    "within 12 months of HSCT", lambda s: s.months_after_hsct is not None and s.months_after_hsct < 12)
MORE_THAN_12_MONTHS_AFTER_HSCT = condition(
    "12 months or more after HSCT", lambda s: s.months_after_hsct is not None and s.months_after_hsct >= 12)
AFTER_HSCT_AND_CAR_T = condition("relapse after both HSCT and CAR-T",
                                 lambda s: s.after_hsct and s.after_car_t)
AFTER_CAR_T = condition("relapse after CAR-T", lambda s: s.after_car_t)
CAR_T_FOR_THIS_RELAPSE = condition("CAR-T given for this relapse", lambda s: s.car_t_for_this_relapse)
CAR_T_FAILING = condition("MRD recurrence or B-cell recovery within 6 months of CAR-T",
                          lambda s: s.car_t_failing)
CAR_T_ROUTE = condition(
    "child, relapse after HSCT, CD19-positive B-ALL, no CAR-T yet (000 scenario 2)",
    lambda s: (s.after_hsct and not s.after_car_t and s.phenotype == "B" and s.cd19 is not False
               and s.population == "pediatric"))
CD3_ABOVE_200 = condition("blood CD3 count > 200/µL", lambda s: s.cd3_above_threshold)



# genetics
def _found(name: str) -> Condition:
    return condition(f"{name} found", lambda s: name in s.genetics)


BCR_ABL1 = _found("BCR-ABL1")
ABL_CLASS = _found("ABL-class")
JAK2_FUSION = _found("JAK2-fusion")
ETV6_RUNX1 = _found("ETV6-RUNX1")
ADVERSE_GENETICS = condition("adverse genetics (see genetics table)",
                             lambda s: bool(s.genetics & set(ADVERSE)))
HSCT_REGARDLESS_GENETICS = condition("TP53 alteration or TCF3-HLF",
                                     lambda s: bool(s.genetics & set(HSCT_REGARDLESS_OF_MRD)))
NO_GENETICS = condition("no genetic result recorded",
                        lambda s: not s.genetics and not s.genetics_tested)

# the record (MedicationRequest / Statement / Administration, Procedure) — CLINICAL_RULES §6
BLINATUMOMAB_ORDERED = condition("blinatumomab active or planned",
                                 lambda s: s.has("blinatumomab", "current", "planned"))
CD19_DIRECTED_ORDERED = condition(
    "blinatumomab or CD19 CAR-T active or planned",
    lambda s: s.has("blinatumomab", "current", "planned") or s.has("car-t-cd19", "current", "planned"))
INOTUZUMAB_IN_RECORD = condition("inotuzumab given, active or planned", lambda s: s.has("inotuzumab"))
HSCT_PLANNED = condition("HSCT planned in the record", lambda s: s.hsct_planned)
NELARABINE_IN_RECORD = condition("nelarabine active or planned",
                                 lambda s: s.has("nelarabine", "current", "planned"))
NELARABINE_IT_CONCOMITANT = condition("nelarabine and intrathecal doses concomitant in the record",
                                      lambda s: s.nelarabine_intrathecal_concomitant)
INTRATHECAL_IN_RECORD = condition("intrathecal chemotherapy active, planned or just given",
                                  lambda s: s.intrathecal_in_record)
PRIOR_CRANIAL_OVER_20_GY = condition("prior cranial irradiation > 20 Gy",
                                     lambda s: s.prior_cranial_over_limit)
CNS_RADIATION_PLANNED = condition("CNS radiation planned in the record",
                                  lambda s: s.cns_radiation_planned)
BLINATUMOMAB_GIVEN = condition("blinatumomab given before", lambda s: s.has("blinatumomab", "given"))
# A CAR-T infusion Procedure not yet done is in the record as car-t-cd19 "planned" (situation.py).
CAR_T_IN_RECORD = condition("CAR-T active or planned",
                            lambda s: s.has("car-t-cd19", "current", "planned"))

# this assessment's own recommendations (read by the warning stage)
RECOMMENDS_BLINATUMOMAB = condition(
    "blinatumomab recommended here",
    lambda s: s.recommends("blinatumomab-consolidation", "blinatumomab-salvage"))
RECOMMENDS_INOTUZUMAB = condition("inotuzumab recommended here", lambda s: s.recommends("inotuzumab"))
RECOMMENDS_HSCT = condition("HSCT recommended here",
                            lambda s: s.recommends("hsct-cr2", "hsct-after-car-t", "dli-or-second-hsct"))
RECOMMENDS_NELARABINE = condition("nelarabine recommended here",
                                  lambda s: s.recommends("nelarabine-regimen"))
RECOMMENDS_INTRATHECAL = condition("intrathecal therapy recommended here",
                                   lambda s: s.recommends("intrathecal-therapy"))
RECOMMENDS_CRANIAL_RADIATION = condition("cranial radiation recommended here",
                                         lambda s: s.recommends("cranial-radiation"))
RECOMMENDS_REINDUCTION = condition("reinduction recommended here",
                                   lambda s: s.recommends("reinduction-4-drug"))
RECOMMENDS_CAR_T = condition("CD19 CAR-T recommended here", lambda s: s.recommends("car-t-cd19"))
