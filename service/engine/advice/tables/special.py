"""Special situations: relapse after HSCT, after CAR-T, CAR-T given for this relapse, second and
later relapses (CLINICAL_RULES §4; 000 scenarios 2–4; 001; 002), and the surface markers every
B-lineage relapse needs."""

from __future__ import annotations

from service.engine.advice.catalogue import CD19_DIRECTED, PRE_CAR_T_THERAPY
from service.engine.advice.conditions import (
    A_RELAPSE,
    AFTER_CAR_T,
    AFTER_HSCT,
    AFTER_HSCT_AND_CAR_T,
    B_LINEAGE,
    CAR_T_FAILING,
    CAR_T_FOR_THIS_RELAPSE,
    CAR_T_ROUTE,
    CD3_ABOVE_200,
    CD19_NEGATIVE,
    CD19_UNKNOWN,
    CD22_NEGATIVE,
    CD22_UNKNOWN,
    CHILD,
    FIRST_RELAPSE,
    LATER_RELAPSE,
    MORE_THAN_12_MONTHS_AFTER_HSCT,
    NOT_KNOWN_B,
    SYSTEMIC,
    T_LINEAGE,
    WITHIN_12_MONTHS_OF_HSCT,
)
from service.engine.advice.rules import Exclusion, Need, Note, Rule, Table, Value

AFTER_HSCT_TABLE = Table(
    name="Relapse after HSCT", source="000 scenario 2; 002",
    says="Outcome is worse when relapse comes < 6–12 months after HSCT; better > 12 months with a "
         "second HSCT in remission. CD19+ B-ALL: CD19 CAR-T (tisagenlecleucel or trial); collect "
         "T cells before further therapy if blood CD3 > 200/µL; after chemotherapy wait ≥ 2 weeks "
         "and lymphocytes > 500/µL. Prefer to avoid inotuzumab before CAR-T (not a "
         "contraindication).",
    rules=(
        Rule("car-t-cd19", (CAR_T_ROUTE,),
             "Relapse after HSCT, CD19-positive B-ALL (000 scenario 2).", ("000",),
             ("hsct", "cd19-status")),
        Rule("t-cell-collection", (CAR_T_ROUTE, CD3_ABOVE_200),
             "The blood CD3 count is {cd3_count}/µL: collect now (000 scenario 2).", ("000",),
             ("cd3-count",), refs=("cd3-count",)),
        Rule("t-cell-collection", (CAR_T_ROUTE, ~CD3_ABOVE_200),
             "No blood CD3 count above the threshold within 30 days of the relapse (000 scenario "
             "2).", ("000",), ("cd3-count",), refs=("cd3-count",)),
        Rule("dli-or-second-hsct", (CHILD, AFTER_HSCT, MORE_THAN_12_MONTHS_AFTER_HSCT),
             "Relapse 12 months or more after HSCT: a second HSCT in remission gives better "
             "results (000).", ("000",), ("hsct",)),
        Rule("early-post-hsct-relapse", (A_RELAPSE, AFTER_HSCT, WITHIN_12_MONTHS_OF_HSCT),
             "000 scenario 2.", ("000",), ("hsct",), {"months_after_hsct": Value("months_after_hsct")},
             severity="warning"),
    ),
    exclusions=(
        Exclusion((CAR_T_ROUTE,), ("inotuzumab", "clofarabine-regimen"),
                  "heading for CD19 CAR-T after HSCT: prefer to avoid inotuzumab before CAR-T "
                  "(000 scenario 2)"),
    ),
    notes=(
        Note("First relapse after HSCT in first remission: the schemes apply, but outcome after "
             "HSCT is worse than their figures (002).", (FIRST_RELAPSE, AFTER_HSCT)),
    ),
)

AFTER_CAR_T_TABLE = Table(
    name="Relapse after CAR-T, and CAR-T given for this relapse", source="000 scenario 3; §4",
    says="Relapse after CAR-T: CD19-negative → blinatumomab and CD19 CAR-T are not options; CD22+ "
         "→ inotuzumab or a CD22 CAR-T trial, then a second HSCT. CD19-positive → blinatumomab, "
         "CD19 CAR retreatment, humanized CD19 or CD19/CD22 CAR trials. After CAR-T (authors' "
         "practice): MRD recurrence or B-cell recovery within 6 months → a (second) HSCT; "
         "MRD-negative without B-cell recovery → monitor closely without more therapy. Marrow MRD "
         "at day 30 and 90, then every 3 months in year 1; blood B cells monthly ≥ 6 months.",
    rules=(
        Rule("inotuzumab", (A_RELAPSE, AFTER_CAR_T, CD19_NEGATIVE, ~CD22_NEGATIVE),
             "CD19-negative relapse after CAR-T: inotuzumab is immediately available "
             "(000 scenario 3).", ("000",), ("cd19-status", "cd22-status")),
        Rule("car-t-cd22-trial", (A_RELAPSE, AFTER_CAR_T, CD19_NEGATIVE, ~CD22_NEGATIVE),
             "CD19-negative relapse after CAR-T (000 scenario 3).", ("000",), ("cd22-status",)),
        Rule("car-t-cd19", (A_RELAPSE, AFTER_CAR_T, ~CD19_NEGATIVE),
             "CD19-positive relapse after CAR-T: blinatumomab, CD19 CAR retreatment, or humanized "
             "CD19 or CD19/CD22 CAR trials (000 scenario 3).", ("000",), ("cd19-status",)),
        Rule("hsct-after-car-t", (A_RELAPSE, AFTER_CAR_T),
             "Relapse after CAR-T: after a new MRD-negative remission a (second) HSCT is likely "
             "needed for cure (000 scenario 3).", ("000",), ("car-t",)),
        Rule("car-t-monitoring", (CAR_T_FOR_THIS_RELAPSE,),
             "CAR-T was given for this relapse (000 authors' practice).", ("000",), ("car-t",)),
        Rule("hsct-after-car-t", (CAR_T_FOR_THIS_RELAPSE, CAR_T_FAILING),
             "MRD recurrence or B-cell recovery within 6 months of CAR-T: an indication for a "
             "(second) HSCT (000).", ("000",), ("b-cell-recovery", "mrd"), refs=("car-t-failure",)),
    ),
    exclusions=(
        Exclusion((CAR_T_FOR_THIS_RELAPSE,), PRE_CAR_T_THERAPY,
                  "CAR-T has been given for this relapse: what follows is monitoring and, if MRD "
                  "recurs or B cells recover within 6 months, HSCT (000)"),
    ),
    notes=(
        Note("MRD-negative without B-cell recovery after CAR-T: monitor closely without more "
             "therapy; the length of B-cell aplasia needed is unknown, likely at least 6 to 12 "
             "months (000).", (CAR_T_FOR_THIS_RELAPSE, ~CAR_T_FAILING)),
    ),
)

LATER_RELAPSE_TABLE = Table(
    name="Second or later relapse", source="000 scenario 4; 001",
    says="Remission rates fall (about 40%): clofarabine-based regimens for resistant or second+ "
         "marrow relapse of BCP-ALL (001), inotuzumab if CD22+, genomic profiling for targeted "
         "therapy, early-phase trials, and a goals-of-care discussion.",
    rules=(
        Rule("clofarabine-regimen", (CHILD, LATER_RELAPSE, B_LINEAGE, SYSTEMIC),
             "Second or later marrow relapse of BCP-ALL (001).", ("001",), ("relapse-date",)),
        Rule("inotuzumab", (CHILD, LATER_RELAPSE, B_LINEAGE, ~CD22_NEGATIVE),
             "Second or later relapse (000 scenario 4).", ("000",), ("cd22-status",)),
        Rule("nelarabine-regimen", (CHILD, LATER_RELAPSE, T_LINEAGE),
             "Relapsed T-ALL (000).", ("000",), ("immunophenotype",)),
        Rule("early-phase-trial", (CHILD, LATER_RELAPSE),
             "Second or later relapse (000 Table 3).", ("000",), ("relapse-date",)),
        Rule("genomic-profiling", (CHILD, LATER_RELAPSE),
             "Second or later relapse: for targeted therapy (000).", ("000",), ("genetics",)),
        Rule("goals-of-care", (CHILD, LATER_RELAPSE, AFTER_HSCT_AND_CAR_T),
             "Multiply relapsed after HSCT and CAR-T: potentially curative options may remain, but "
             "explore whether to focus on quality of life (000 scenario 4).", ("000",),
             ("relapse-date",)),
        Rule("goals-of-care", (CHILD, LATER_RELAPSE, ~AFTER_HSCT_AND_CAR_T, ~CAR_T_ROUTE),
             "Remission rates fall with each relapse, to about 40% (000, 001).", ("000", "001"),
             ("relapse-date",)),
    ),
    notes=(
        Note("Relapse after HSCT heading for CD19 CAR-T: prefer to avoid inotuzumab before CAR-T "
             "(not a contraindication) (000).", (LATER_RELAPSE, CAR_T_ROUTE)),
    ),
)

SURFACE_MARKERS = Table(
    name="Surface markers", source="000; CLINICAL_RULES §6",
    says="CD19 and CD22 on the relapse blasts decide the immunotherapy options. A CD19-negative "
         "relapse: blinatumomab and CD19 CAR-T are not options (target absent).",
    exclusions=(
        Exclusion((CD19_NEGATIVE,), CD19_DIRECTED, "CD19-negative: the target is absent (000)"),
        Exclusion((NOT_KNOWN_B,), CD19_DIRECTED, "CD19-directed therapy is for B-lineage ALL"),
    ),
    needs=(
        Need("cd19-status", (~T_LINEAGE, CD19_UNKNOWN), ("blinatumomab", "car-t-cd19")),
        Need("cd22-status", (~T_LINEAGE, CD22_UNKNOWN), ("inotuzumab", "car-t-cd22-trial")),
    ),
)

TABLES = (AFTER_HSCT_TABLE, AFTER_CAR_T_TABLE, LATER_RELAPSE_TABLE, SURFACE_MARKERS)
