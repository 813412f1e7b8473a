"""Small FHIR R4 resources for tests, written as an EHR would send them."""

from __future__ import annotations

from typing import Any

SCT = "http://snomed.info/sct"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
LOCAL = "urn:relapsed-all-cds:concept"
UCUM = "http://unitsofmeasure.org"
LINEAGE_CODE = {"B": "277572006", "T": "277575008", None: "91857003"}
SITE_CODE = {"marrow": "14016003", "cns": "21483005", "testis": "40689003", "skin": "39937001"}

_counter = iter(range(1, 10**9))


def _id(prefix: str) -> str:
    return f"{prefix}-{next(_counter)}"


def patient(birth: str | None = "2012-01-01", pid: str = "pt") -> dict[str, Any]:
    res: dict[str, Any] = {"resourceType": "Patient", "id": pid, "gender": "male"}
    if birth:
        res["birthDate"] = birth
    return res


def ref(pid: str = "pt") -> dict[str, str]:
    return {"reference": f"Patient/{pid}"}


def diagnosis(onset: str | None, lineage: str | None = "B", **extra: Any) -> dict[str, Any]:
    res = {"resourceType": "Condition", "id": _id("dx"), "subject": ref(),
           "code": {"coding": [{"system": SCT, "code": LINEAGE_CODE[lineage]}]}, **extra}
    if onset:
        res["onsetDateTime"] = onset
    return res


def relapse(onset: str | None, sites: tuple[str, ...] = (), **extra: Any) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "Condition", "id": _id("rel"), "subject": ref(),
        "code": {"coding": [{"system": SCT, "code": "12301000132103"}]},
        "bodySite": [{"coding": [{"system": SCT, "code": SITE_CODE[s]}]} for s in sites], **extra}
    if onset:
        res["onsetDateTime"] = onset
    if not res["bodySite"]:
        del res["bodySite"]
    return res


def quantity_obs(code: str, when: str, value: float | None, unit: str | None,
                 system: str = LOINC, comparator: str | None = None,
                 status: str = "final") -> dict[str, Any]:
    quantity: dict[str, Any] = {}
    if value is not None:
        quantity["value"] = value
    if unit is not None:
        quantity.update({"unit": unit, "system": UCUM, "code": unit})
    if comparator:
        quantity["comparator"] = comparator
    return {"resourceType": "Observation", "id": _id("obs"), "status": status, "subject": ref(),
            "code": {"coding": [{"system": system, "code": code}]},
            "effectiveDateTime": when, "valueQuantity": quantity}


def coded_obs(code: str, when: str, positive: bool, system: str = LOCAL) -> dict[str, Any]:
    value = "10828004" if positive else "260385009"
    return {"resourceType": "Observation", "id": _id("obs"), "status": "final", "subject": ref(),
            "code": {"coding": [{"system": system, "code": code}]}, "effectiveDateTime": when,
            "valueCodeableConcept": {"coding": [{"system": SCT, "code": value}]}}


def marrow(when: str, percent: float) -> dict[str, Any]:
    return quantity_obs("11150-0", when, percent, "%")


def csf(when: str, wbc: float, rbc: float | None, blasts: bool) -> list[dict[str, Any]]:
    found = [quantity_obs("26465-5", when, wbc, "/uL"),
             quantity_obs("35068-6", when, 3 if blasts else 0, "/uL")]
    if rbc is not None:
        found.append(quantity_obs("26454-9", when, rbc, "/uL"))
    return found


def mrd(when: str, value: float, unit: str = "%", comparator: str | None = None,
        method_code: str = "67128-9", system: str = LOINC) -> dict[str, Any]:
    return quantity_obs(method_code, when, value, unit, system=system, comparator=comparator)


def medication(rxcui: str, start: str, end: str | None = None, status: str = "completed",
               intrathecal: bool = False, system: str = RXNORM) -> dict[str, Any]:
    period = {"start": start, **({"end": end} if end else {})}
    res: dict[str, Any] = {
        "resourceType": "MedicationStatement", "id": _id("med"), "status": status,
        "subject": ref(), "effectivePeriod": period,
        "medicationCodeableConcept": {"coding": [{"system": system, "code": rxcui}]}}
    if intrathecal:
        res["dosage"] = [{"route": {"coding": [{"system": SCT, "code": "72607000"}]}}]
    return res


def planned(rxcui: str, authored: str, system: str = RXNORM) -> dict[str, Any]:
    return {"resourceType": "MedicationRequest", "id": _id("req"), "status": "active",
            "intent": "plan", "subject": ref(), "authoredOn": authored,
            "medicationCodeableConcept": {"coding": [{"system": system, "code": rxcui}]}}


def procedure(code: str, when: str, status: str = "completed", system: str = SCT,
              body_sites: tuple[str, ...] = (), dose_cgy: float | None = None) -> dict[str, Any]:
    res: dict[str, Any] = {"resourceType": "Procedure", "id": _id("proc"), "status": status,
                           "subject": ref(), "code": {"coding": [{"system": system, "code": code}]},
                           "performedDateTime": when}
    if body_sites:
        res["bodySite"] = [{"coding": [{"system": SCT, "code": c}]} for c in body_sites]
    if dose_cgy is not None:
        res["extension"] = [{
            "url": "http://hl7.org/fhir/us/mcode/StructureDefinition/"
                   "mcode-radiotherapy-dose-delivered-to-volume",
            "extension": [{"url": "totalDoseDelivered",
                           "valueQuantity": {"value": dose_cgy, "unit": "cGy", "system": UCUM,
                                             "code": "cGy"}}]}]
    return res


def bundle(*resources: dict[str, Any] | list[dict[str, Any]]) -> dict[str, Any]:
    flat: list[dict[str, Any]] = []
    for r in resources:
        flat.extend(r if isinstance(r, list) else [r])
    return {"resourceType": "Bundle", "type": "collection",
            "entry": [{"fullUrl": f"urn:uuid:{r['resourceType']}-{r.get('id')}", "resource": r}
                      for r in flat]}
