"""Property tests: the engine never raises on any facts it can be given, and every assessment
validates against the project's JSON Schema."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import builders as b
import jsonschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.assessment import assessment_schema
from service.engine import assess
from service.facts import (
    CnsCondition,
    Diagnosis,
    Finding,
    FuzzyDate,
    GeneticFinding,
    Measurement,
    Mrd,
    PatientFacts,
    ProcedureFact,
    RelapseRecord,
    Therapy,
)
from service.pipeline import assess_bundle

AS_OF = date(2024, 6, 1)
VALIDATOR = jsonschema.Draft202012Validator(assessment_schema(),
                                            format_checker=jsonschema.FormatChecker())

days = st.dates(min_value=date(1990, 1, 1), max_value=AS_OF)
refs = st.lists(st.sampled_from(["Condition/a", "Observation/b", "Procedure/c"]), max_size=2).map(tuple)


@st.composite
def fuzzy(draw: Any) -> FuzzyDate:
    start = draw(days)
    width = draw(st.sampled_from([0, 0, 0, 30, 365]))
    return FuzzyDate(earliest=start, latest=min(start + timedelta(days=width), AS_OF), text="x")


lineage = st.sampled_from(["B", "T", None])
facts_strategy = st.builds(
    PatientFacts,
    patient=st.just("Patient/p"),
    birth_date=st.none() | fuzzy(),
    diagnoses=st.lists(st.builds(Diagnosis, refs=refs, onset=st.none() | fuzzy(), lineage=lineage,
                                 genetics=st.lists(st.sampled_from(["BCR-ABL1", "KMT2A", "TP53"]),
                                                   max_size=2).map(tuple)), max_size=2),
    relapses=st.lists(st.builds(RelapseRecord, refs=refs, onset=st.none() | fuzzy(),
                                coded_sites=st.frozensets(st.sampled_from(
                                    ["marrow", "cns", "testis", "other"])), lineage=lineage),
                      max_size=3),
    cns_conditions=st.lists(st.builds(CnsCondition, refs=refs, onset=fuzzy()), max_size=1),
    measurements=st.lists(st.builds(
        Measurement, refs=refs, when=days, value=st.floats(0, 100),
        kind=st.sampled_from(["marrow-blasts", "pb-blasts", "csf-wbc", "csf-rbc", "cd3-count",
                              "alc"])), max_size=8),
    findings=st.lists(st.builds(
        Finding, refs=refs, when=days, positive=st.booleans(),
        kind=st.sampled_from(["csf-blasts", "cns-clinical-involvement", "testicular-biopsy", "cd19",
                              "cd22", "b-cell-recovery", "genetic-test"])), max_size=6),
    mrd=st.lists(st.builds(Mrd, refs=refs, when=days, fraction=st.floats(0, 1),
                           comparator=st.sampled_from(["<", "<=", "=", ">", ">="]),
                           method=st.sampled_from(["flow", "pcr", "ngs"])), max_size=3),
    genetics=st.lists(st.builds(GeneticFinding, refs=refs, finding=st.sampled_from(
        ["BCR-ABL1", "ABL-class", "JAK2-fusion", "TP53", "TCF3-HLF", "ETV6-RUNX1"])), max_size=2),
    therapies=st.lists(st.builds(
        Therapy, refs=refs, agent=st.sampled_from(["blinatumomab", "inotuzumab", "nelarabine",
                                                   "mercaptopurine", "car-t-cd19", "dexamethasone"]),
        status=st.sampled_from(["given", "current", "planned"]), start=st.none() | days,
        end=st.none() | days, intrathecal=st.booleans()), max_size=5),
    procedures=st.lists(st.builds(
        ProcedureFact, refs=refs, kind=st.sampled_from(["hsct-allogeneic", "radiotherapy",
                                                        "car-t-infusion", "orchiectomy"]),
        status=st.sampled_from(["done", "planned"]), when=st.none() | days,
        regions=st.frozensets(st.sampled_from(["cranial", "tbi", "testis"])),
        dose_gy=st.none() | st.floats(0, 30)), max_size=3),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(facts_strategy)
def test_engine_never_raises_and_output_matches_schema(facts: PatientFacts) -> None:
    result = assess(facts, AS_OF).to_json()
    VALIDATOR.validate(result)
    codes = {r["code"] for r in result.get("recommendations", [])}
    if any(w["code"] == "cd19-negative" for w in result.get("warnings", [])):
        assert not codes & {"blinatumomab-consolidation", "blinatumomab-salvage", "car-t-cd19"}
    if any(w["code"] == "blinatumomab-cns-disease" for w in result.get("warnings", [])):
        pass  # the caveat is present whenever blinatumomab meets active CNS disease
    elif result.get("relapse", {}).get("extramedullary_sites") and "cns" in result["relapse"][
            "extramedullary_sites"]:
        assert not codes & {"blinatumomab-consolidation", "blinatumomab-salvage"}


json_leaf = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
json_values = st.recursive(json_leaf, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=10)
resource_types = st.sampled_from(["Patient", "Condition", "Observation", "MedicationStatement",
                                  "MedicationRequest", "Procedure", "Medication", "Unknown"])


@st.composite
def fhir_shaped(draw: Any) -> dict[str, Any]:
    base = draw(st.sampled_from([
        b.patient(), b.diagnosis("2019-01-01"), b.relapse("2021-01-01", ("marrow", "cns")),
        b.marrow("2021-01-01", 50), b.mrd("2021-02-01", 0.2), b.medication("103", "2019-02-01"),
        b.procedure("234336002", "2020-01-01")]))
    resource = dict(base)
    for key in draw(st.lists(st.sampled_from([*sorted(resource), "valueQuantity", "code",
                                                           "onsetDateTime", "status"]),
                             max_size=3)):
        resource[key] = draw(json_values)
    if draw(st.booleans()):
        resource["resourceType"] = draw(resource_types)
    return resource


@settings(max_examples=300, deadline=None)
@given(st.lists(fhir_shaped(), max_size=8))
def test_extractor_and_engine_never_raise_on_fhir_shaped_input(resources: list[dict]) -> None:
    result = assess_bundle({"resourceType": "Bundle", "entry": [{"resource": r} for r in resources]},
                           as_of=AS_OF)
    VALIDATOR.validate(result)
