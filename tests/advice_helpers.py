"""Shared helpers for the advice tests written from CLINICAL_RULES §3–§6 (issue 16): records
built the way an EHR sends them, read back through the public pipeline."""

from __future__ import annotations

from datetime import date
from typing import Any

import builders as b
from scenarios import first_relapse, iso

from service.pipeline import assess_bundle

GENE_SYSTEM = "http://www.genenames.org"
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
HGNC = {"BCR": "HGNC:1014", "ABL1": "HGNC:76", "ABL2": "HGNC:77", "JAK2": "HGNC:6192",
        "PAX5": "X:PAX5", "TP53": "HGNC:11998", "TCF3": "HGNC:11633", "HLF": "HGNC:4977",
        "PBX1": "HGNC:8632", "KMT2A": "HGNC:7132", "ETV6": "HGNC:3495", "RUNX1": "HGNC:10471",
        "EBF1": "X:EBF1", "PDGFRB": "HGNC:8804"}
REFRACTORY_CODE = "12311000132101"
HSCT_CODE = "234336002"
BLINATUMOMAB, NELARABINE, INOTUZUMAB, METHOTREXATE, DEXAMETHASONE = (
    "1597258", "274771", "1942950", "6851", "3264")


def codes(result: dict[str, Any], field: str = "recommendations") -> set[str]:
    return {i["code"] for i in result.get(field, [])}


def item(result: dict[str, Any], code: str, field: str = "recommendations") -> dict[str, Any]:
    return next(i for i in result[field] if i["code"] == code)


def severity(result: dict[str, Any], code: str) -> str | None:
    found = [w["severity"] for w in result.get("warnings", []) if w["code"] == code]
    assert len(found) <= 1, "one warning per code"
    return found[0] if found else None


def missing(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["fact"]: m for m in result.get("missing", [])}


def run(phenotype: str | None, site: str, months: int, end: int | None, *extra: Any,
        as_of: int | None = None, birth: str = "2010-05-05") -> dict[str, Any]:
    """A first relapse ``months`` after diagnosis (site as in ``scenarios.site_resources``)."""
    bundle = first_relapse(phenotype, site, months, end, extra=extra, birth=birth)
    return assess(bundle, as_of if as_of is not None else months + 1)


def assess(bundle: dict[str, Any], as_of_months: int, days: int = 0) -> dict[str, Any]:
    return assess_bundle(bundle, as_of=date.fromisoformat(iso(as_of_months, days)))


def reinduced(months: int, *more: Any) -> tuple[Any, ...]:
    """Dexamethasone given from the relapse day: reinduction under way."""
    return (b.medication(DEXAMETHASONE, iso(months), iso(months, 28)), *more)


def genetic(genes: list[str], when: str, present: bool = True) -> dict[str, Any]:
    obs = b.coded_obs("69548-6", when, True, system=b.LOINC)
    obs["valueCodeableConcept"] = {"coding": [{"system": b.LOINC,
                                              "code": "LA9633-4" if present else "LA9634-2"}]}
    obs["component"] = [{"code": {"coding": [{"system": b.LOINC, "code": "48018-6"}]},
                         "valueCodeableConcept": {"coding": [{"system": GENE_SYSTEM,
                                                              "code": HGNC[g]}]}}
                        for g in genes]
    return obs


def refractory_condition(onset: str) -> dict[str, Any]:
    return {"resourceType": "Condition", "id": "refractory", "subject": b.ref(),
            "code": {"coding": [{"system": b.SCT, "code": REFRACTORY_CODE}]},
            "onsetDateTime": onset}


def later_relapse(months: int, before: int, site: str = "BM", *extra: Any,
                  phenotype: str | None = "B", birth: str = "2010-05-05",
                  as_of: int | None = None) -> dict[str, Any]:
    """A second relapse at ``months``; the first was at ``before`` (coded marrow)."""
    bundle = first_relapse(phenotype, site, months, None, extra=extra, birth=birth)
    bundle["entry"].append({"resource": b.relapse(iso(before), ("marrow",))})
    return assess(bundle, as_of if as_of is not None else months + 1)
