"""Synthetic but realistic relapsed-ALL records of a chosen size, as an EHR would send them.

A B-ALL diagnosed in 2016, frontline therapy to mid-2018, a combined marrow + CNS relapse in
late 2019, reinduction with MRD after block 1; then years of blood counts, marrow and CSF
results, many medication statements and a few procedures, spread evenly from diagnosis to the
assessment date. The core (the facts the engine decides on) is the same at every size; the
rest is the volume a long record brings. Resources carry the extra fields real ones do
(meta, category, issued, performer, referenceRange) so that payload bytes are realistic too.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

SCT = "http://snomed.info/sct"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
LOCAL = "urn:relapsed-all-cds:concept"
UCUM = "http://unitsofmeasure.org"

AS_OF = date(2020, 3, 1)
DIAGNOSIS = date(2016, 3, 1)
FRONTLINE_END = date(2018, 6, 30)
RELAPSE = date(2019, 11, 4)
REINDUCTION = RELAPSE + timedelta(days=3)

# LOINC code, unit, typical value range: a blood count panel.
CBC = (("6690-2", "10*3/uL", 1.0, 12.0), ("751-8", "10*3/uL", 0.2, 8.0),
       ("777-3", "10*3/uL", 20.0, 400.0), ("731-0", "10*3/uL", 0.3, 4.0),
       ("26446-5", "%", 0.0, 3.0))
FRONTLINE_DRUGS = ("3264", "11202", "34132", "6851", "103", "3109", "3002", "3041", "8640")
REINDUCTION_DRUGS = ("3264", "11202", "7005", "34132")
SUPPORTIVE_DRUGS = ("26225", "10831", "281")  # ondansetron, co-trimoxazole, acyclovir: unmapped
UNMAPPED_PROCEDURES = ("277762005", "234326005", "26604007")  # lumbar puncture, CVC, BM aspirate


class _Maker:
    def __init__(self, seed: int, pid: str) -> None:
        self.rng = random.Random(seed)
        self.pid = pid
        self.count = 0

    def _id(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}-{self.count}"

    def _common(self, kind: str, prefix: str) -> dict[str, Any]:
        return {"resourceType": kind, "id": self._id(prefix),
                "meta": {"versionId": "1", "lastUpdated": f"{AS_OF.isoformat()}T08:00:00Z"},
                "subject": {"reference": f"Patient/{self.pid}"}}

    def quantity(self, code: str, when: date, value: float, unit: str,
                 system: str = LOINC, low: float | None = None,
                 high: float | None = None) -> dict[str, Any]:
        res = self._common("Observation", "obs")
        res.update({
            "status": "final",
            "category": [{"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                "code": "laboratory", "display": "Laboratory"}]}],
            "code": {"coding": [{"system": system, "code": code}], "text": code},
            "effectiveDateTime": f"{when.isoformat()}T07:30:00Z",
            "issued": f"{when.isoformat()}T11:02:00Z",
            "performer": [{"reference": "Organization/lab-1", "display": "Central laboratory"}],
            "valueQuantity": {"value": round(value, 2), "unit": unit, "system": UCUM,
                              "code": unit}})
        if low is not None and high is not None:
            res["referenceRange"] = [{"low": {"value": low, "unit": unit, "system": UCUM,
                                              "code": unit},
                                      "high": {"value": high, "unit": unit, "system": UCUM,
                                               "code": unit}}]
        return res

    def coded(self, code: str, when: date, positive: bool) -> dict[str, Any]:
        res = self._common("Observation", "obs")
        res.update({"status": "final", "code": {"coding": [{"system": LOCAL, "code": code}]},
                    "effectiveDateTime": when.isoformat(),
                    "valueCodeableConcept": {"coding": [{
                        "system": SCT, "code": "10828004" if positive else "260385009"}]}})
        return res

    def condition(self, code: str, onset: date, sites: tuple[str, ...] = ()) -> dict[str, Any]:
        res = self._common("Condition", "cond")
        res.update({
            "clinicalStatus": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                "code": "active"}]},
            "verificationStatus": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                "code": "confirmed"}]},
            "code": {"coding": [{"system": SCT, "code": code}]},
            "onsetDateTime": onset.isoformat(), "recordedDate": onset.isoformat()})
        if sites:
            res["bodySite"] = [{"coding": [{"system": SCT, "code": s}]} for s in sites]
        return res

    def medication(self, rxcui: str, start: date, end: date | None,
                   intrathecal: bool = False) -> dict[str, Any]:
        res = self._common("MedicationStatement", "med")
        period = {"start": start.isoformat(), **({"end": end.isoformat()} if end else {})}
        res.update({"status": "completed" if end else "active",
                    "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": rxcui}]},
                    "effectivePeriod": period,
                    "dosage": [{"text": "as per protocol",
                                **({"route": {"coding": [{"system": SCT, "code": "72607000"}]}}
                                   if intrathecal else {})}]})
        return res

    def procedure(self, code: str, when: date) -> dict[str, Any]:
        res = self._common("Procedure", "proc")
        res.update({"status": "completed", "code": {"coding": [{"system": SCT, "code": code}]},
                    "performedDateTime": when.isoformat()})
        return res


VERBOSE_FIELDS = ("meta", "category", "issued", "performer", "referenceRange")


def compacted(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same record without the fields the engine does not read (about 1/3 of the bytes)."""
    return [{k: v for k, v in r.items() if k not in VERBOSE_FIELDS} for r in resources]


def patient_record(size: int, seed: int = 0, pid: str | None = None) -> list[dict[str, Any]]:
    """About ``size`` resources (at least the core, ~25) of one patient."""
    pid = pid or f"bench-{size}-{seed}"
    m = _Maker(seed, pid)
    rng = m.rng
    core: list[dict[str, Any]] = [
        {"resourceType": "Patient", "id": pid, "gender": "male", "birthDate": "2011-05-20",
         "name": [{"family": "Bench", "given": ["Patient"]}]},
        m.condition("277572006", DIAGNOSIS),
        m.condition("12301000132103", RELAPSE, sites=("14016003", "21483005")),
        m.quantity("11150-0", DIAGNOSIS, 86.0, "%"),
        m.quantity("11150-0", RELAPSE, 42.0, "%"),
        m.quantity("26465-5", RELAPSE, 12.0, "/uL"),
        m.quantity("26454-9", RELAPSE, 2.0, "/uL"),
        m.quantity("35068-6", RELAPSE, 3.0, "/uL"),
        m.coded("cd19-blasts", RELAPSE, True),
        m.quantity("67128-9", REINDUCTION + timedelta(days=33), 0.05, "%"),
    ]
    core += [m.medication(d, DIAGNOSIS + timedelta(days=7 * i), FRONTLINE_END)
             for i, d in enumerate(FRONTLINE_DRUGS)]
    core.append(m.medication("6851", DIAGNOSIS + timedelta(days=14), FRONTLINE_END,
                             intrathecal=True))
    core += [m.medication(d, REINDUCTION, REINDUCTION + timedelta(days=28))
             for d in REINDUCTION_DRUGS]
    extra: list[dict[str, Any]] = []
    span = (AS_OF - DIAGNOSIS).days
    room = max(0, size - len(core))
    # One "visit" brings a blood count (5 observations); some bring more (marrow, CSF, drugs).
    visits = max(1, room // 6)
    for i in range(visits):
        day = DIAGNOSIS + timedelta(days=1 + (span - 2) * i // visits)
        for code, unit, low, high in CBC:
            extra.append(m.quantity(code, day, rng.uniform(low, high), unit, low=low, high=high))
        if i % 7 == 3:
            extra.append(m.quantity("11150-0", day, rng.uniform(0, 4), "%"))
        if i % 9 == 5:
            extra += [m.quantity("26465-5", day, rng.uniform(0, 4), "/uL"),
                      m.quantity("26454-9", day, rng.uniform(0, 30), "/uL")]
        if i % 4 == 1:
            on_therapy = day < FRONTLINE_END - timedelta(days=6) or day > REINDUCTION
            drug = (FRONTLINE_DRUGS[i % len(FRONTLINE_DRUGS)] if on_therapy
                    else SUPPORTIVE_DRUGS[i % len(SUPPORTIVE_DRUGS)])
            extra.append(m.medication(drug, day, day + timedelta(days=5)))
        if i % 25 == 12:
            extra.append(m.procedure(UNMAPPED_PROCEDURES[i % 3], day))
        if i % 40 == 20:
            extra.append(m.quantity("67128-9", day, rng.uniform(0, 0.01), "%"))
    return core + extra[:room]


def bundle(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection",
            "entry": [{"fullUrl": f"urn:uuid:{r['resourceType']}-{r['id']}", "resource": r}
                      for r in resources]}


def patient_bundle(size: int, seed: int = 0, compact: bool = False) -> dict[str, Any]:
    record = patient_record(size, seed)
    return bundle(compacted(record) if compact else record)
