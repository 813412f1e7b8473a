"""Genetic variant assessments (FHIR_INPUT.md "Genetic findings recognised"): which gene
combinations make which finding, what counts as present, and gene studies that cannot be read."""

from __future__ import annotations

from datetime import date
from typing import Any

import builders as b

from service.extract import extract_facts
from service.facts import PatientFacts
from service.mapping import default_code_maps

AS_OF = date(2020, 7, 30)
RELAPSE = "2020-07-20"
HGNC = "http://www.genenames.org"
GENE = {"BCR": "1014", "ABL1": "76", "ABL2": "77", "PDGFRB": "8804", "CSF1R": "2433",
        "JAK2": "6192", "CRLF2": "14281", "TP53": "11998", "TCF3": "11633", "HLF": "4977",
        "PBX1": "8632", "KMT2A": "7132", "ETV6": "3495", "RUNX1": "10471", "IKZF1": "13176"}
FUSION = {"system": "http://www.sequenceontology.org", "code": "SO:0001565"}


def _component(code: str, value: dict[str, Any] | None) -> dict[str, Any]:
    comp: dict[str, Any] = {"code": {"coding": [{"system": b.LOINC, "code": code}]}}
    if value is not None:
        comp["valueCodeableConcept"] = value
    return comp


def _study(*genes: str, value: str | None = "LA9633-4", fusion: bool = False,
           extra: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    """One variant assessment; a gene given as "?NAME" is coded with an HGNC id the maps do
    not know."""
    components = [_component("48018-6", {"coding": [
        {"system": HGNC, "code": "HGNC:99999" if g.startswith("?") else f"HGNC:{GENE[g]}"}]})
        for g in genes]
    if fusion:
        components.append(_component("48019-4", {"coding": [FUSION]}))
    res: dict[str, Any] = {
        "resourceType": "Observation", "id": b._id("gx"), "status": "final", "subject": b.ref(),
        "effectiveDateTime": RELAPSE, "code": {"coding": [{"system": b.LOINC, "code": "69548-6"}]},
        "component": [*components, *extra]}
    if value:
        res["valueCodeableConcept"] = {"coding": [{"system": b.LOINC, "code": value}]}
    return res


def _read(*resources: dict[str, Any]) -> PatientFacts:
    return extract_facts(list(resources), default_code_maps(), AS_OF)


def _findings(*genes: str, **kw: Any) -> list[str]:
    return [g.finding for g in _read(_study(*genes, **kw)).genetics]


def test_each_recognised_gene_combination() -> None:
    assert _findings("BCR", "ABL1") == ["BCR-ABL1"]  # not also ABL-class
    for abl in ("ABL1", "ABL2", "PDGFRB", "CSF1R"):
        assert _findings(abl, "ETV6") == ["ABL-class"], abl
        assert _findings(abl, fusion=True) == ["ABL-class"], abl  # partner not named
        assert _findings(abl) == [], abl  # a point mutation is not a fusion
    assert _findings("JAK2", "CRLF2") == ["JAK2-fusion"]
    assert _findings("JAK2", fusion=True) == ["JAK2-fusion"]
    assert _findings("JAK2") == []
    assert _findings("TP53") == ["TP53"]
    assert _findings("TP53", "IKZF1") == []
    assert _findings("TCF3", "HLF") == ["TCF3-HLF"]
    assert _findings("TCF3", "PBX1") == ["TCF3-PBX1"]
    assert _findings("TCF3") == []
    assert _findings("KMT2A") == ["KMT2A"]
    assert _findings("KMT2A", "ETV6") == ["KMT2A"]
    assert _findings("ETV6", "RUNX1") == ["ETV6-RUNX1"]
    assert _findings("ETV6") == [] and _findings("RUNX1") == []


def test_a_fusion_with_an_unmapped_partner_is_read_and_the_partner_said() -> None:
    """EBF1-PDGFRB with EBF1 coded by an id the maps lack: ABL-class, the unread gene named."""
    study = _study("PDGFRB", "?EBF1")
    facts = _read(study)
    assert [g.finding for g in facts.genetics] == ["ABL-class"]
    assert [(f.kind, f.positive) for f in facts.findings] == [("genetic-test", True)]
    [problem] = facts.problems
    assert "HGNC:99999" in problem.problem and "the other genes are read" in problem.problem


def test_only_present_or_positive_is_a_finding_and_the_test_still_counts() -> None:
    for value in ("LA9634-2", "LA6577-6", None):
        facts = _read(_study("BCR", "ABL1", value=value))
        assert not facts.genetics, value
        assert [(f.kind, f.positive) for f in facts.findings] == [("genetic-test", False)], value
        assert not facts.problems
    facts = _read(_study("BCR", "ABL1", value="LA6576-8"))
    assert [g.finding for g in facts.genetics] == ["BCR-ABL1"]
    assert [(f.kind, f.positive, f.when) for f in facts.findings] == [
        ("genetic-test", True, date(2020, 7, 20))]


def test_a_study_without_a_gene_is_said_and_not_counted() -> None:
    no_gene = _study(extra=(_component("81291-7", {"text": "t(9;22)(q34;q11)"}),))
    empty = _study(extra=(_component("48018-6", None),))
    facts = _read(no_gene, empty)
    assert not facts.findings and not facts.genetics
    assert {p.ref: "missing; not counted as genetics recorded" in p.problem
            for p in facts.problems} == {f"Observation/{no_gene['id']}": True,
                                         f"Observation/{empty['id']}": True}


def test_a_change_type_that_is_not_a_fusion_does_not_partner_a_gene() -> None:
    missense = _component("48019-4", {"coding": [{"system": "http://www.sequenceontology.org",
                                                  "code": "SO:0001583"}]})
    assert _findings("ABL1", extra=(missense,)) == []
    assert _findings("ABL1", fusion=True, extra=(missense,)) == ["ABL-class"]
