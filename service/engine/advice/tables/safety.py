"""What follows from the plan, and what is unsafe in it (CLINICAL_RULES §3.1, §6, §1.4b).

These tables read the recommendations made by the treatment tables (a declared stage, not call
order): the donor search follows any HSCT on the plan; a safety check fires when the record shows
the therapy given, active or planned (``critical``) or when this assessment recommends it
(``warning``).  One warning per code: when both fire, the record's severity is kept.
"""

from __future__ import annotations

from service.engine.advice.conditions import (
    ADULT_OR_AYA,
    BLINATUMOMAB_GIVEN,
    BLINATUMOMAB_ORDERED,
    CAR_T_IN_RECORD,
    CD19_DIRECTED_ORDERED,
    CD19_NEGATIVE,
    CD19_UNKNOWN,
    CHILD,
    CNS_INVOLVED,
    CNS_RADIATION_PLANNED,
    CNS_UNKNOWN,
    COG_LATE,
    END_BLOCK_1_MRD_UNKNOWN,
    FIRST_RELAPSE,
    HSCT_PLANNED,
    INOTUZUMAB_IN_RECORD,
    INTRATHECAL_IN_RECORD,
    NELARABINE_IN_RECORD,
    NELARABINE_IT_CONCOMITANT,
    OUTSIDE_TRIALS,
    PRIOR_CRANIAL_OVER_20_GY,
    RECOMMENDS_BLINATUMOMAB,
    RECOMMENDS_CAR_T,
    RECOMMENDS_CRANIAL_RADIATION,
    RECOMMENDS_HSCT,
    RECOMMENDS_INOTUZUMAB,
    RECOMMENDS_INTRATHECAL,
    RECOMMENDS_NELARABINE,
    RECOMMENDS_REINDUCTION,
    REFRACTORY,
    SITE_CONFIRMED,
)
from service.engine.advice.rules import Rule, Table

FOLLOW_ON = Table(
    name="What the plan brings with it", source="000; 001; 004",
    says="Start HLA typing and a donor search at relapse for anyone who may need HSCT (000). "
         "Reinduction needs hospital care with antibacterial, antifungal and Pneumocystis "
         "prophylaxis (000).",
    rules=(
        Rule("donor-search", (RECOMMENDS_HSCT,), "HSCT is part of the plan here (000, 001).",
             ("000", "001"), ("relapse-site", "immunophenotype", "diagnosis-date")),
        Rule("donor-search", (ADULT_OR_AYA,), "Adults: start the donor search at once (004).",
             ("004",), ("population",)),
        Rule("donor-search", (CHILD, REFRACTORY), "Refractory disease needs HSCT once in "
             "remission (000).", ("000",), ("marrow-blasts",)),
        Rule("donor-search", (CHILD, FIRST_RELAPSE, SITE_CONFIRMED, COG_LATE, END_BLOCK_1_MRD_UNKNOWN,
                              RECOMMENDS_REINDUCTION),
             "Late relapse: HSCT follows if the end-of-reinduction MRD calls for it, so a donor "
             "should be ready (000).", ("000",), ("mrd-end-of-reinduction",)),
        Rule("infection-prophylaxis", (RECOMMENDS_REINDUCTION,), "Reinduction is recommended (000).",
             ("000",), ("relapse-date",)),
    ),
)

SAFETY_CHECKS = Table(
    name="Safety checks", source="CLINICAL_RULES §6; 000; 001; 004",
    says="Blinatumomab with active CNS disease: contraindicated (004). CD19-negative with "
         "blinatumomab or CD19 CAR-T: target absent (000). Inotuzumab and HSCT planned: VOD risk, "
         "fewer cycles (000, 004). Nelarabine with concomitant intrathecal chemotherapy: "
         "neurotoxicity (000). Prior cranial irradiation > 20 Gy and CNS radiation planned: 15 Gy "
         "(001). Prior blinatumomab and CAR-T planned: may raise non-response or CD19-negative "
         "relapse; not a contraindication (000).",
    rules=(
        Rule("cd19-negative", (CD19_NEGATIVE,), "CD19 is negative at this relapse (000).",
             ("000",), ("cd19-status",), severity="warning"),
        Rule("cd19-negative", (CD19_NEGATIVE, CD19_DIRECTED_ORDERED),
             "Blinatumomab or CD19 CAR-T is ordered in the record (000).", ("000",),
             ("cd19-status",), severity="critical", refs=("cd19-directed-orders",)),
        Rule("blinatumomab-cns-disease", (CNS_INVOLVED, BLINATUMOMAB_ORDERED),
             "Blinatumomab is ordered in the record (004).", ("004",), ("csf-findings",),
             severity="critical", refs=("blinatumomab-orders", "site")),
        Rule("blinatumomab-cns-disease", (CNS_INVOLVED, RECOMMENDS_BLINATUMOMAB),
             "Blinatumomab is among this assessment's recommendations (004).", ("004",),
             ("csf-findings",), severity="warning", refs=("site",)),
        # Not a §6 row: §6 fires on CNS disease and on CD19-negative blasts, so an order made
        # while the deciding result is missing would pass in silence; these say it is unchecked.
        Rule("blinatumomab-cns-status-unknown", (CNS_UNKNOWN, BLINATUMOMAB_ORDERED),
             "Blinatumomab is ordered in the record (004).", ("004",), ("csf-findings",),
             severity="warning", refs=("blinatumomab-orders",)),
        Rule("cd19-status-unknown", (CD19_UNKNOWN, CD19_DIRECTED_ORDERED),
             "Blinatumomab or CD19 CAR-T is ordered in the record (000).", ("000",),
             ("cd19-status",), severity="warning", refs=("cd19-directed-orders",)),
        Rule("inotuzumab-vod-risk", (INOTUZUMAB_IN_RECORD, HSCT_PLANNED),
             "Inotuzumab and HSCT are both in the record (000, 004).", ("000", "004"),
             ("inotuzumab", "hsct"), severity="critical", refs=("inotuzumab", "hsct-planned")),
        Rule("inotuzumab-vod-risk", (INOTUZUMAB_IN_RECORD, RECOMMENDS_HSCT),
             "Inotuzumab is in the record and HSCT is recommended here (000, 004).",
             ("000", "004"), ("inotuzumab", "hsct"), severity="warning", refs=("inotuzumab",)),
        Rule("inotuzumab-vod-risk", (RECOMMENDS_INOTUZUMAB, HSCT_PLANNED),
             "Inotuzumab is recommended here and HSCT is planned (000, 004).", ("000", "004"),
             ("inotuzumab", "hsct"), severity="warning", refs=("hsct-planned",)),
        Rule("inotuzumab-vod-risk", (RECOMMENDS_INOTUZUMAB, RECOMMENDS_HSCT),
             "Inotuzumab and HSCT are both among this assessment's recommendations (000, 004).",
             ("000", "004"), ("inotuzumab", "hsct"), severity="warning"),
        Rule("nelarabine-intrathecal-neurotoxicity", (NELARABINE_IT_CONCOMITANT,),
             "Nelarabine and intrathecal doses are concomitant in the record (000).", ("000",),
             ("nelarabine",), severity="critical", refs=("nelarabine-intrathecal",)),
        Rule("nelarabine-intrathecal-neurotoxicity", (RECOMMENDS_NELARABINE, RECOMMENDS_INTRATHECAL),
             "Nelarabine and intrathecal therapy are both among this assessment's recommendations: "
             "NECTAR may be more practical after induction (000).", ("000",), ("nelarabine",),
             severity="warning"),
        Rule("nelarabine-intrathecal-neurotoxicity", (RECOMMENDS_NELARABINE, INTRATHECAL_IN_RECORD),
             "Nelarabine is recommended here and intrathecal chemotherapy is in the record (000).",
             ("000",), ("nelarabine",), severity="warning"),
        Rule("nelarabine-intrathecal-neurotoxicity", (NELARABINE_IN_RECORD, RECOMMENDS_INTRATHECAL),
             "Nelarabine is in the record and intrathecal therapy is recommended here (000).",
             ("000",), ("nelarabine",), severity="warning"),
        Rule("cranial-radiation-dose-reduction", (PRIOR_CRANIAL_OVER_20_GY, CNS_RADIATION_PLANNED),
             "CNS radiation is planned in the record (001).", ("001",), ("radiotherapy",),
             severity="critical", refs=("prior-cranial",)),
        Rule("cranial-radiation-dose-reduction", (PRIOR_CRANIAL_OVER_20_GY, RECOMMENDS_CRANIAL_RADIATION),
             "Cranial radiation is among this assessment's recommendations, at the reduced dose "
             "(001).", ("001",), ("radiotherapy",), severity="warning", refs=("prior-cranial",)),
        Rule("prior-blinatumomab-before-car-t", (BLINATUMOMAB_GIVEN, CAR_T_IN_RECORD),
             "CAR-T is planned in the record (000).", ("000",), ("blinatumomab",), severity="info",
             refs=("car-t-orders",)),
        Rule("prior-blinatumomab-before-car-t", (BLINATUMOMAB_GIVEN, RECOMMENDS_CAR_T),
             "CD19 CAR-T is among this assessment's recommendations (000).", ("000",),
             ("blinatumomab",), severity="info"),
        Rule("outside-trial-population", (OUTSIDE_TRIALS,),
             "{population_notes} (000 Table 2).", ("000",), ("birth-date", "diagnosis-date"),
             severity="warning"),
    ),
)

TABLES = (FOLLOW_ON, SAFETY_CHECKS)
