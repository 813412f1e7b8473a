"""Genetic modifiers (CLINICAL_RULES §3.5; 000, 001, 003)."""

from __future__ import annotations

from service.engine.case import Case

# Adverse findings the clinical schemes do not capture (001, 003, 000).
ADVERSE = ("KMT2A", "hypodiploidy", "TCF3-PBX1", "iAMP21", "BCR-ABL1", "TP53", "TCF3-HLF")
# High-risk somatic alterations "such as TCF3-HLF" (000): HSCT or CAR-T in CR2 regardless of MRD.
HSCT_REGARDLESS_OF_MRD = ("TP53", "TCF3-HLF")


def findings(case: Case) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for g in case.facts.genetics:
        found.setdefault(g.finding, []).extend(g.refs)
    for d in case.facts.diagnoses:
        for name in d.genetics:
            found.setdefault(name, []).extend(d.refs)
    return found


def modifiers(case: Case) -> None:
    found = findings(case)
    for name, refs in sorted(found.items()):
        case.cite("genetics", name, refs)
    if "BCR-ABL1" in found:
        case.recommend("tki", "BCR-ABL1 (Ph-positive): add imatinib or dasatinib to reinduction "
                       "(000).", ["000"], rests_on=["genetics"], refs=found["BCR-ABL1"])
    if "ABL-class" in found:
        case.recommend("tki", "ABL-class fusion: strongly consider a tyrosine kinase inhibitor "
                       "(000).", ["000"], rests_on=["genetics"], refs=found["ABL-class"])
    if "JAK2-fusion" in found:
        case.recommend("ruxolitinib-if-refractory", "JAK2 fusion: ruxolitinib only if refractory to "
                       "reinduction or MRD-positive after 2 blinatumomab cycles (000).", ["000"],
                       rests_on=["genetics"], refs=found["JAK2-fusion"])
    regardless = [n for n in HSCT_REGARDLESS_OF_MRD if n in found]
    if regardless and case.current is not None:
        case.recommend("hsct-cr2", f"{' and '.join(regardless)}: consider HSCT or CAR-T in CR2 "
                       "regardless of timing or MRD (000).", ["000"], rests_on=["genetics"],
                       refs=[r for n in regardless for r in found[n]])
    adverse = [n for n in ADVERSE if n in found]
    if adverse:
        case.warn("adverse-genetics-not-in-scheme", f"Adverse genetics ({', '.join(adverse)}) are "
                  "not captured by the clinical risk schemes: the groups shown may understate the "
                  "risk (001, 003).", ["001", "003", "000"], "warning", rests_on=["genetics"],
                  refs=[r for n in adverse for r in found[n]])
    if "ETV6-RUNX1" in found:
        case.notes.append("ETV6-RUNX1 is associated with a better outcome after relapse (002).")
    tested = any(f.kind == "genetic-test" for f in case.facts.findings)
    if not found and not tested:
        case.recommend("genomic-profiling", "No genetic results recorded: panel sequencing and RNA "
                       "fusion testing at relapse (000); targetable lesions (ABL-class, JAK-STAT) "
                       "change therapy.", ["000"], rests_on=["genetics"])
        case.need("genetics", ["modifiers"])
