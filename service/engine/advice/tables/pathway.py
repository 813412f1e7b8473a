"""Pediatric first relapse: 000 Figure 1A (B-ALL marrow), 1B (isolated CNS), 1C (T-ALL); CNS,
testicular and other extramedullary disease (001, 002); primary refractory disease.
CLINICAL_RULES §3.1–§3.4.  Each table quotes what its source says; each row is one rule:
code, the conditions it needs (all must hold), why, sources, the facts it rests on, parameters.
"""

from __future__ import annotations

from service.engine.advice.conditions import (
    B_LINEAGE,
    BLINATUMOMAB_COURSE_DUE,
    CD19_NEGATIVE,
    CD22_NEGATIVE,
    CHILD,
    CNS_INVOLVED,
    COG_EARLY,
    COG_LATE,
    END_BLOCK_1_AT_OR_ABOVE_0_1,
    END_BLOCK_1_BELOW_0_1,
    END_BLOCK_1_MRD_UNKNOWN,
    END_BLOCK_1_POSITIVE,
    END_BLOCK_1_POSITIVITY_UNKNOWN,
    FIRST_RELAPSE,
    ISOLATED_EXTRAMEDULLARY,
    MARROW_SITE,
    MRD_POSITIVE_AFTER_REINDUCTION,
    OTHER_EM_INVOLVED,
    PERSISTENT_MRD_AFTER_BLINATUMOMAB,
    PRE_HSCT_MRD_POSITIVE,
    PRIOR_CRANIAL_OVER_20_GY,
    REFRACTORY,
    REINDUCTION_UNDER_WAY,
    REPEAT_LP_NEEDED,
    REPEAT_MARROW_NEEDED,
    SITE_CONFIRMED,
    SITE_UNCLEAR,
    T_LINEAGE,
    TESTIS_INVOLVED,
)
from service.engine.advice.rules import Exclusion, Need, Note, Rule, Table, Value

FIRST = (CHILD, FIRST_RELAPSE, SITE_CONFIRMED)
B_MARROW = (*FIRST, B_LINEAGE, MARROW_SITE)
B_ICNS = (*FIRST, B_LINEAGE, ISOLATED_EXTRAMEDULLARY, CNS_INVOLVED)
B_IEM_NOT_CNS = (*FIRST, B_LINEAGE, ISOLATED_EXTRAMEDULLARY, ~CNS_INVOLVED)
T_ALL = (*FIRST, T_LINEAGE)
NEW = ~REINDUCTION_UNDER_WAY
END_BLOCK_1 = "the end of reinduction block 1 (day 29–36)"
END_OF_REINDUCTION = "the end of reinduction"
CYCLES_DUE = Value("blinatumomab_cycles_due")

FIGURE_1A = Table(
    name="B-ALL first marrow relapse", source="000 Figure 1A",
    says="Reinduction (UKALL R3 block or another 4-drug regimen), in hospital with prophylaxis. "
         "M3 marrow after it: refractory → inotuzumab and/or CD19 CAR-T. Late relapse with "
         "end-block-1 MRD < 0.1%: chemotherapy to 2 years, no HSCT. Early relapse, or late with "
         "MRD ≥ 0.1%: 2 cycles of blinatumomab, HSCT in CR2 once MRD < 0.01%; MRD ≥ 0.01% after "
         "2 cycles → alternative strategies (inotuzumab, CAR-T trial).",
    rules=(
        Rule("reinduction-4-drug", (*B_MARROW, NEW), "B-ALL first marrow relapse (000 Figure 1A).",
             ("000",), ("relapse-site", "immunophenotype")),
        Rule("mrd-assessment", (*B_MARROW, COG_LATE, END_BLOCK_1_MRD_UNKNOWN),
             "Late relapse: below 0.1% leads to chemotherapy without HSCT, at or above to "
             "blinatumomab and HSCT (000 Figure 1A).", ("000",), ("mrd-end-of-reinduction",),
             {"timepoint": END_BLOCK_1, "threshold_percent": 0.1}),
        Rule("chemotherapy-continuation", (*B_MARROW, COG_LATE, END_BLOCK_1_BELOW_0_1),
             "Late relapse with end-block-1 MRD below 0.1%: UKALL R3 chemotherapy is preferred for "
             "its lower cumulative dose; ALL-REZ BFM 2002 or COG AALL0433 are alternatives "
             "(000 Figure 1A).", ("000",), ("diagnosis-date", "mrd-end-of-reinduction"),
             refs=("end-block-1",)),
        Rule("blinatumomab-consolidation", (*B_MARROW, COG_EARLY, BLINATUMOMAB_COURSE_DUE),
             "Early relapse (000 Figure 1A).", ("000",),
             ("diagnosis-date", "cd19-status"), {"cycles": CYCLES_DUE}),
        Rule("blinatumomab-consolidation",
             (*B_MARROW, COG_LATE, END_BLOCK_1_AT_OR_ABOVE_0_1, BLINATUMOMAB_COURSE_DUE),
             "Late relapse with end-block-1 MRD at or above 0.1% (000 Figure 1A).", ("000",),
             ("diagnosis-date", "mrd-end-of-reinduction", "cd19-status"), {"cycles": CYCLES_DUE},
             refs=("end-block-1",)),
        Rule("hsct-cr2", (*B_MARROW, COG_EARLY, ~PERSISTENT_MRD_AFTER_BLINATUMOMAB),
             "Early B-ALL marrow relapse, after blinatumomab (000 Figure 1A).", ("000",),
             ("diagnosis-date",)),
        Rule("hsct-cr2", (*B_MARROW, COG_LATE, END_BLOCK_1_AT_OR_ABOVE_0_1,
                          ~PERSISTENT_MRD_AFTER_BLINATUMOMAB),
             "Late relapse with end-block-1 MRD at or above 0.1%, after blinatumomab "
             "(000 Figure 1A).", ("000",), ("diagnosis-date", "mrd-end-of-reinduction"),
             refs=("end-block-1",)),
        Rule("inotuzumab", (*B_MARROW, COG_EARLY, CD19_NEGATIVE, ~CD22_NEGATIVE),
             "CD19-negative: blinatumomab is not an option; inotuzumab before HSCT if the blasts "
             "are CD22-positive (000 Figure 1A).", ("000",), ("cd19-status", "cd22-status")),
        Rule("inotuzumab", (*B_MARROW, COG_LATE, END_BLOCK_1_AT_OR_ABOVE_0_1, CD19_NEGATIVE,
                            ~CD22_NEGATIVE),
             "CD19-negative: blinatumomab is not an option; inotuzumab before HSCT if the blasts "
             "are CD22-positive (000 Figure 1A).", ("000",), ("cd19-status", "cd22-status")),
        Rule("inotuzumab", (*B_MARROW, PERSISTENT_MRD_AFTER_BLINATUMOMAB),
             "MRD at or above 0.01% after 2 blinatumomab cycles: alternative strategies, "
             "inotuzumab or a CAR-T trial (000 Figure 1A).", ("000",), ("mrd",),
             refs=("mrd-after-reinduction",)),
        Rule("car-t-cd19", (*B_MARROW, PERSISTENT_MRD_AFTER_BLINATUMOMAB),
             "MRD persisting after 2 blinatumomab cycles: a CD19 CAR-T trial is an alternative "
             "strategy (000 Figure 1A).", ("000",), ("mrd", "cd19-status"),
             refs=("mrd-after-reinduction",)),
        Rule("mrd-directed-therapy-before-hsct", (*FIRST, PRE_HSCT_MRD_POSITIVE),
             "HSCT is planned and the latest MRD is {mrd_after_reinduction} (000; 002).",
             ("000", "002"), ("mrd",), {"agents": Value("pre_hsct_agents")},
             refs=("mrd-after-reinduction",)),
    ),
    needs=(
        Need("mrd-end-of-reinduction", (*B_MARROW, COG_LATE, END_BLOCK_1_MRD_UNKNOWN),
             ("cog", "pathway"), "the allocation after reinduction: < 0.1% chemotherapy, ≥ 0.1% "
             "blinatumomab and HSCT (000 Figure 1A)"),
    ),
)

REFRACTORY_DISEASE = Table(
    name="Refractory disease", source="000 Figure 1A and 1C; 001",
    says="M3 marrow after reinduction (or primary refractory disease): inotuzumab and/or CD19 "
         "CAR-T (trial); clofarabine-based regimens for resistant BCP-ALL (001); refractory "
         "T-ALL: nelarabine-based therapy, early-phase trials.",
    rules=(
        Rule("inotuzumab", (CHILD, REFRACTORY, B_LINEAGE),
             "Refractory to reinduction (000 Figure 1A).", ("000",), ("marrow-blasts", "cd22-status")),
        Rule("car-t-cd19", (CHILD, REFRACTORY, B_LINEAGE),
             "Refractory to reinduction: on a trial (000 Figure 1A).", ("000",),
             ("marrow-blasts", "cd19-status")),
        Rule("clofarabine-regimen", (CHILD, REFRACTORY, B_LINEAGE),
             "Resistant marrow relapse of BCP-ALL: can be considered (001).", ("001",),
             ("marrow-blasts",)),
        Rule("nelarabine-regimen", (CHILD, REFRACTORY, T_LINEAGE),
             "Refractory T-ALL: nelarabine, cyclophosphamide, etoposide (000).", ("000",),
             ("immunophenotype",)),
        Rule("early-phase-trial", (CHILD, REFRACTORY, T_LINEAGE),
             "Refractory T-ALL (000 Table 3).", ("000",), ("immunophenotype",)),
    ),
    exclusions=(
        Exclusion((REFRACTORY,), ("blinatumomab-consolidation", "hsct-cr2", "chemotherapy-continuation",
                                  "mrd-assessment"),
                  "refractory disease: alternative strategies come first, HSCT once in remission"),
    ),
)

FIGURE_1B = Table(
    name="Isolated CNS relapse of B-ALL", source="000 Figure 1B; 001; 002",
    says="Early (< 18 months): UKALL R3 dexamethasone-based reinduction with weekly triple "
         "intrathecal therapy, 3 blocks, then HSCT with TBI and a CNS boost; MRD ≥ 0.01% after "
         "3 blocks → alternative strategies. Late (≥ 18 months): chemotherapy for 2 years with "
         "cranial radiation 18 Gy at about 12 months; HSCT only if marrow MRD ≥ 0.01% at the end "
         "of reinduction, even when the COG group is low. Any CNS involvement: intensified "
         "intrathecal therapy (002) and cranial radiation 18 Gy (001) unless HSCT with TBI and a "
         "CNS boost is planned; 15 Gy after prior cranial irradiation > 20 Gy (001).",
    rules=(
        Rule("reinduction-4-drug", (*B_ICNS, COG_EARLY, NEW),
             "Early isolated CNS relapse: dexamethasone-based, with weekly triple intrathecal "
             "therapy (consider an Ommaya reservoir), 3 blocks (000 Figure 1B).", ("000",),
             ("relapse-site", "diagnosis-date")),
        Rule("reinduction-4-drug", (*B_ICNS, COG_LATE, NEW),
             "Late isolated CNS relapse: with triple intrathecal therapy (000 Figure 1B).",
             ("000",), ("relapse-site", "diagnosis-date")),
        Rule("hsct-cr2", (*B_ICNS, COG_EARLY),
             "Early isolated CNS relapse (under 18 months): after 3 blocks, HSCT with TBI "
             "conditioning and a CNS boost; if MRD is at or above 0.01% after 3 blocks, "
             "alternative strategies (CAR-T trial) (000 Figure 1B).", ("000",),
             ("diagnosis-date", "relapse-site")),
        Rule("chemotherapy-continuation", (*B_ICNS, COG_LATE),
             "Late isolated CNS relapse: intensive chemotherapy with cranial radiation delayed to "
             "about 12 months (000 Figure 1B).", ("000",), ("diagnosis-date", "relapse-site")),
        Rule("mrd-assessment", (*B_ICNS, COG_LATE, END_BLOCK_1_POSITIVITY_UNKNOWN),
             "Isolated CNS relapse: HSCT only if marrow MRD is at or above 0.01% at the end of "
             "reinduction, even when the COG group is low (000 Figure 1B).", ("000",),
             ("mrd-end-of-reinduction",), {"timepoint": END_OF_REINDUCTION, "threshold_percent": 0.01}),
        Rule("hsct-cr2", (*B_ICNS, COG_LATE, END_BLOCK_1_POSITIVE),
             "Late isolated CNS relapse with marrow MRD at or above 0.01% at the end of "
             "reinduction (000 Figure 1B; this threshold applies even when the COG group is low).",
             ("000",), ("mrd-end-of-reinduction",), refs=("end-block-1",)),
        Rule("intrathecal-therapy", (*FIRST, CNS_INVOLVED),
             "CNS involvement: intensified (triple) intrathecal therapy (002); consider an Ommaya "
             "reservoir (000).", ("002", "000"), ("csf-findings",), refs=("site",)),
        Rule("cranial-radiation", (*FIRST, CNS_INVOLVED, ~PRIOR_CRANIAL_OVER_20_GY),
             "CNS involvement without HSCT: delayed to about 12 months of therapy for a late "
             "isolated CNS relapse (001, 000).", ("001", "000"), ("csf-findings", "relapse-site"),
             {"dose_gy": 18, "dose_cgy": 1800}),
        Rule("cranial-radiation", (*FIRST, CNS_INVOLVED, PRIOR_CRANIAL_OVER_20_GY),
             "CNS involvement without HSCT, after prior cranial irradiation above 20 Gy: the dose "
             "is reduced (001).", ("001", "000"), ("csf-findings", "radiotherapy"),
             {"dose_gy": 15, "dose_cgy": 1500}, refs=("prior-cranial",)),
    ),
    needs=(
        Need("mrd-end-of-reinduction", (*B_ICNS, COG_LATE, END_BLOCK_1_POSITIVITY_UNKNOWN),
             ("pathway",), "HSCT for a late isolated CNS relapse only if marrow MRD ≥ 0.01% "
             "(000 Figure 1B)"),
    ),
)

TESTICULAR_AND_OTHER = Table(
    name="Testicular and other extramedullary relapse", source="001; 002",
    says="Unilateral testicular: orchiectomy of the involved testis, biopsy of the other, 15 Gy "
         "(15–18 Gy) to the remaining testis; bilateral: orchiectomy or 24 Gy; fertility and "
         "endocrine counselling. Systemic therapy follows the scheme: early isolated "
         "extramedullary → HSCT; late → chemotherapy, HSCT only if MRD-positive. Other sites: no "
         "local therapy unless disease persists after induction.",
    rules=(
        Rule("orchiectomy", (*FIRST, TESTIS_INVOLVED), "Testicular relapse (001, 002).",
             ("001", "002"), ("relapse-site",)),
        Rule("testicular-radiation", (*FIRST, TESTIS_INVOLVED),
             "Testicular relapse; 002: most groups irradiate both testes at 24 Gy, and DCOG "
             "treated late testicular relapse with neither surgery nor radiation.",
             ("001", "002"), ("relapse-site",)),
        Rule("reinduction-4-drug", (*B_IEM_NOT_CNS, NEW),
             "Isolated extramedullary relapse: systemic reinduction as for a marrow relapse (002).",
             ("000", "002"), ("relapse-site",)),
        Rule("hsct-cr2", (*B_IEM_NOT_CNS, COG_EARLY),
             "Early isolated extramedullary relapse (002 Table 6; BFM S2 by MRD).", ("002",),
             ("diagnosis-date", "relapse-site")),
        Rule("chemotherapy-continuation", (*B_IEM_NOT_CNS, COG_LATE),
             "Late isolated extramedullary relapse: HSCT only if MRD-positive (002).", ("002",),
             ("diagnosis-date", "relapse-site")),
        Rule("mrd-assessment", (*B_IEM_NOT_CNS, COG_LATE, END_BLOCK_1_POSITIVITY_UNKNOWN),
             "Late isolated extramedullary relapse: HSCT only if MRD-positive (002).", ("002",),
             ("mrd-end-of-reinduction",), {"timepoint": END_OF_REINDUCTION, "threshold_percent": 0.01}),
        Rule("hsct-cr2", (*B_IEM_NOT_CNS, COG_LATE, END_BLOCK_1_POSITIVE),
             "Late isolated extramedullary relapse with MRD at or above 0.01% (002).", ("002",),
             ("mrd-end-of-reinduction",), refs=("end-block-1",)),
    ),
    needs=(
        Need("mrd-end-of-reinduction", (*B_IEM_NOT_CNS, COG_LATE, END_BLOCK_1_POSITIVITY_UNKNOWN),
             ("pathway",), "HSCT for a late isolated extramedullary relapse only if MRD-positive "
             "(002)"),
    ),
    notes=(
        Note("Other extramedullary site: no local therapy unless disease persists after induction, "
             "then biopsy and local radiation (002).", (*FIRST, OTHER_EM_INVOLVED)),
    ),
)

FIGURE_1C = Table(
    name="T-ALL first relapse", source="000 Figure 1C",
    says="Reinduction (UKALL R3, NECTAR: nelarabine, cyclophosphamide, etoposide, or "
         "bortezomib-based AALL07P1) → HSCT from the best available donor as soon as MRD-negative "
         "CR2, regardless of site and time. MRD ≥ 0.01% → further reinduction cycles → "
         "early-phase trial.",
    rules=(
        Rule("reinduction-4-drug", (*T_ALL, NEW),
             "T-ALL: the UKALL R3 block, NECTAR (nelarabine, cyclophosphamide, etoposide) or "
             "bortezomib with a 4-drug reinduction (AALL07P1) (000 Figure 1C).", ("000",),
             ("immunophenotype",)),
        Rule("nelarabine-regimen", (*T_ALL, NEW),
             "T-ALL: NECTAR is an option, more practical after induction when CNS disease needs "
             "intrathecal therapy (000 Figure 1C).", ("000",), ("immunophenotype",)),
        Rule("hsct-cr2", T_ALL,
             "Relapsed T-ALL: as soon as an MRD-negative CR2 is reached, regardless of site and "
             "timing (000 Figure 1C).", ("000",), ("immunophenotype",)),
        Rule("early-phase-trial", (*T_ALL, MRD_POSITIVE_AFTER_REINDUCTION),
             "T-ALL with MRD at or above 0.01% after reinduction: further reinduction cycles, then "
             "an early-phase trial (000 Figure 1C).", ("000",), ("mrd-end-of-reinduction",),
             refs=("mrd-after-reinduction",)),
    ),
)

SITE_NOT_SETTLED = Table(
    name="Site not settled", source="002 Table 2; 000",
    says="M2 marrow (5–25%) without extramedullary disease or blood blasts does not meet relapse "
         "criteria: repeat the marrow. M1 with CNS2, or a blood-contaminated tap with blasts: "
         "repeat the lumbar puncture. While the site is being clarified, reinduction follows the "
         "marrow pathway.",
    rules=(
        Rule("repeat-marrow", (REPEAT_MARROW_NEEDED,),
             "An M2 marrow (5–25% blasts) without extramedullary disease or blood blasts does not "
             "meet relapse criteria (002).", ("002",), ("marrow-blasts",), refs=("site",)),
        Rule("repeat-lumbar-puncture", (REPEAT_LP_NEEDED,),
             "CNS status cannot be called from this CSF: CNS2 alone or a blood-contaminated tap "
             "with blasts (002).", ("002",), ("csf-findings",), refs=("site",)),
        Rule("reinduction-4-drug", (*FIRST, ~T_LINEAGE, SITE_UNCLEAR, NEW),
             "Site not yet clear: as for a marrow relapse while it is clarified (000).", ("000",),
             ("relapse-site",)),
    ),
)

TABLES = (FIGURE_1A, REFRACTORY_DISEASE, FIGURE_1B, TESTICULAR_AND_OTHER, FIGURE_1C, SITE_NOT_SETTLED)
