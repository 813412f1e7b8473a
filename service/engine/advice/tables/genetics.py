"""Genetic modifiers (CLINICAL_RULES §3.5; 000, 001, 003).

| finding | effect |
|---|---|
| BCR-ABL1 (Ph+) | add imatinib or dasatinib to reinduction |
| ABL-class fusion | strongly consider a TKI |
| JAK2 fusion | ruxolitinib only if refractory or MRD-positive after 2 blinatumomab cycles |
| TP53, TCF3-HLF ("high-risk somatic alterations such as TCF3-HLF") | HSCT or CAR-T in CR2 regardless |
| KMT2A, hypodiploidy, TCF3-PBX1, iAMP21, BCR-ABL1, TP53, TCF3-HLF | adverse, not in the schemes |
| ETV6-RUNX1 | better outcome after relapse (002) |
"""

from __future__ import annotations

from service.engine.advice.conditions import (
    A_RELAPSE,
    ABL_CLASS,
    ADVERSE_GENETICS,
    BCR_ABL1,
    ETV6_RUNX1,
    HSCT_REGARDLESS_GENETICS,
    JAK2_FUSION,
    NO_GENETICS,
)
from service.engine.advice.rules import Need, Note, Rule, Table, Value

GENETIC_MODIFIERS = Table(
    name="Genetic modifiers", source="000; 001; 003 (CLINICAL_RULES §3.5)",
    says="BCR-ABL1: TKI with reinduction. ABL-class: strongly consider a TKI. JAK2 fusion: "
         "ruxolitinib only if refractory or MRD-positive after blinatumomab. High-risk somatic "
         "alterations such as TCF3-HLF (and TP53): HSCT or CAR-T in CR2 regardless of MRD. At "
         "relapse: panel sequencing and RNA fusion testing if not done.",
    rules=(
        Rule("tki", (BCR_ABL1,), "BCR-ABL1 (Ph-positive) (000).", ("000",), ("genetics",),
             refs=("genetics:BCR-ABL1",)),
        Rule("tki", (ABL_CLASS,), "ABL-class fusion: strongly consider a TKI (000).", ("000",),
             ("genetics",), refs=("genetics:ABL-class",)),
        Rule("ruxolitinib-if-refractory", (JAK2_FUSION,), "JAK2 fusion (000).", ("000",),
             ("genetics",), refs=("genetics:JAK2-fusion",)),
        Rule("hsct-cr2", (A_RELAPSE, HSCT_REGARDLESS_GENETICS),
             "{hsct_genetics}: consider HSCT or CAR-T in CR2 regardless of timing or MRD (000).",
             ("000",), ("genetics",), refs=("hsct-genetics",)),
        Rule("genomic-profiling", (NO_GENETICS,), "No genetic results recorded (000).", ("000",),
             ("genetics",)),
        Rule("adverse-genetics-not-in-scheme", (ADVERSE_GENETICS,), "001, 003, 000.",
             ("001", "003", "000"), ("genetics",), {"findings": Value("adverse_genetics")},
             severity="warning", refs=("adverse-genetics",)),
    ),
    needs=(Need("genetics", (NO_GENETICS,), ("modifiers",)),),
    notes=(Note("ETV6-RUNX1 is associated with a better outcome after relapse (002).", (ETV6_RUNX1,)),),
)

TABLES = (GENETIC_MODIFIERS,)
