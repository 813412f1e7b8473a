"""Adults and young adults with relapsed/refractory Ph-negative ALL (CLINICAL_RULES §5; 004).
Populations `aya` and `adult`: 18 or older at initial diagnosis."""

from __future__ import annotations

from service.engine.advice.conditions import (
    A_RELAPSE,
    ADULT_OR_AYA,
    AFTER_HSCT,
    B_LINEAGE,
    CNS_INVOLVED,
    LATER_RELAPSE,
    MONTHS_ABOVE_12,
    PH_POSITIVE,
    PRIMARY_REFRACTORY,
    REINDUCTION_UNDER_WAY,
    SYSTEMIC,
    T_LINEAGE,
)
from service.engine.advice.rules import Note, Rule, Table

ADULT = (ADULT_OR_AYA,)
SALVAGE_DUE = (ADULT_OR_AYA, A_RELAPSE, ~REINDUCTION_UNDER_WAY)

ADULT_RELAPSE = Table(
    name="Adults with relapsed/refractory Ph-negative ALL", source="004",
    says="Allogeneic HSCT in CR2 is the only curative approach: refer and search for a donor at "
         "once; aim for a morphologic, preferably MRD-negative, remission. Relapse > 1 year after "
         "induction → may retreat with what worked; otherwise an alternative regimen (004 Table "
         "1). B-lineage: blinatumomab (contraindicated with active CNS disease), inotuzumab (VOD "
         "risk with a later HSCT), CAR-T trials. T-lineage: nelarabine. Second+ relapse: liposomal "
         "vincristine. Systemic relapse: re-evaluate CNS and testes, restart intrathecal "
         "prophylaxis. CNS relapse: intrathecal methotrexate/cytarabine until the CSF clears, "
         "systemic high-dose therapy, restaging marrow. After HSCT: withdraw immunosuppression or "
         "DLI, second HSCT for selected patients. Ph-positive adults are outside 004.",
    rules=(
        Rule("hsct-cr2", ADULT,
             "Adults: allogeneic HSCT in CR2 is the only curative approach; refer to a transplant "
             "centre and aim for a morphologic, preferably MRD-negative, remission first (004).",
             ("004",), ("population",)),
        Rule("liposomal-vincristine", (*ADULT, LATER_RELAPSE), "Second or later relapse (004).",
             ("004",), ("relapse-date",)),
        Rule("salvage-regimen", (*SALVAGE_DUE, MONTHS_ABOVE_12),
             "Relapse more than 1 year after initial induction: retreatment with the regimen that "
             "worked is possible; an asparaginase-containing regimen if asparaginase was not given "
             "before (004).", ("004",), ("diagnosis-date", "relapse-date")),
        Rule("salvage-regimen", (*SALVAGE_DUE, ~MONTHS_ABOVE_12),
             "Relapse within 1 year of initial induction (or timing unknown): an alternative "
             "regimen, high-dose cytarabine-based, FLAG-IDA, hyper-CVAD or clofarabine "
             "combinations (004 Table 1).", ("004",), ("diagnosis-date", "relapse-date")),
        Rule("salvage-regimen", (*ADULT, PRIMARY_REFRACTORY),
             "Refractory disease: an alternative regimen, high-dose cytarabine-based, FLAG-IDA, "
             "hyper-CVAD or clofarabine combinations (004 Table 1).", ("004",),
             ("marrow-blasts",)),
        Rule("nelarabine-regimen", (*ADULT, T_LINEAGE),
             "T-lineage: neurotoxicity; the trials excluded CNS disease (004).", ("004",),
             ("immunophenotype",)),
        Rule("blinatumomab-salvage", (*ADULT, B_LINEAGE, ~CNS_INVOLVED), "B-lineage (004).",
             ("004",), ("immunophenotype",)),
        Rule("blinatumomab-salvage", (*ADULT, B_LINEAGE, CNS_INVOLVED),
             "B-lineage with CNS disease: only once the CNS has cleared (004).", ("004",),
             ("immunophenotype", "csf-findings")),
        Rule("car-t-cd19", (*ADULT, B_LINEAGE), "B-lineage: CD19 CAR-T trials (004).", ("004",),
             ("immunophenotype",)),
        Rule("inotuzumab", (*ADULT, B_LINEAGE), "B-lineage (004).", ("004",), ("immunophenotype",)),
        Rule("intrathecal-therapy", (*ADULT, CNS_INVOLVED),
             "CNS relapse: intrathecal methotrexate alternating with cytarabine twice weekly until "
             "the CSF clears, then weekly; systemic high-dose methotrexate/cytarabine (004).",
             ("004",), ("csf-findings",), refs=("site",)),
        Rule("repeat-marrow", (*ADULT, CNS_INVOLVED),
             "CNS relapse: restaging marrow with MRD; a CNS relapse often heralds a systemic one "
             "(004).", ("004",), ("relapse-site",)),
        Rule("cns-testes-reevaluation", (*ADULT, SYSTEMIC, ~CNS_INVOLVED), "Systemic relapse (004).",
             ("004",), ("relapse-site",)),
        Rule("intrathecal-therapy", (*ADULT, SYSTEMIC, ~CNS_INVOLVED),
             "Systemic relapse: restart intrathecal prophylaxis (004).", ("004",), ("relapse-site",)),
        Rule("dli-or-second-hsct", (*ADULT, AFTER_HSCT),
             "Relapse after HSCT: donor lymphocyte infusion gives responses in 0–20%; a second "
             "HSCT for selected younger patients, haploidentical an option (004).", ("004",),
             ("hsct",)),
        Rule("outside-trial-population", (*ADULT, PH_POSITIVE),
             "Ph-positive ALL in an adult is outside seed 004 (Ph-negative): TKI-based therapy "
             "applies (000); the adult advice shown is Ph-negative advice.", ("004", "000"),
             ("genetics",), severity="warning"),
    ),
    notes=(
        Note("Adult CNS relapse: radiation is reserved for intrathecal failure or cranial nerve "
             "palsy (004).", (*ADULT, CNS_INVOLVED)),
    ),
)

TABLES = (ADULT_RELAPSE,)
