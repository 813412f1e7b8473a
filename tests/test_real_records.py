"""Records written the way EHRs and registries write them (FHIR_INPUT.md "Patterns real records
use"): every test runs the real pipeline (lean parse, code maps from mappings/, engine)."""

from __future__ import annotations

from datetime import date
from typing import Any

import builders as b

from service.extract import extract_facts
from service.mapping import default_code_maps
from service.pipeline import assess_bundle

RXNORM = b.RXNORM
SCT = b.SCT
LOINC = b.LOINC
ATC = "http://www.whocc.no/atc"
HGNC = "http://www.genenames.org"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
DIAGNOSIS, RELAPSE = "2018-01-15", "2020-07-20"  # 30 months: COG early, BFM by the frontline end
AS_OF = date(2020, 7, 30)


def _lab(code: str, when: str, value: float, unit: str, system: str | None = None) -> dict[str, Any]:
    """A result as a lab interface writes it: the unit as text, a system only if given."""
    quantity: dict[str, Any] = {"value": value, "unit": unit}
    if system:
        quantity.update({"system": system, "code": unit})
    return {"resourceType": "Observation", "id": b._id("lab"), "status": "final",
            "subject": b.ref(), "code": {"coding": [{"system": LOINC, "code": code}]},
            "effectiveDateTime": when, "valueQuantity": quantity}


def _statement(rxcui: str, status: str, *, when: str | None = None,
               period: dict[str, str] | None = None) -> dict[str, Any]:
    """A MedicationStatement as an EHR medication list writes it: an active drug carries the
    date it was started / asserted as ``effectiveDateTime``."""
    res: dict[str, Any] = {"resourceType": "MedicationStatement", "id": b._id("ms"),
                           "status": status, "subject": b.ref(),
                           "medicationCodeableConcept": {"coding": [{"system": RXNORM,
                                                                     "code": rxcui}]}}
    if when:
        res["effectiveDateTime"] = when
        res["dateAsserted"] = when
    if period:
        res["effectivePeriod"] = period
    return res


def _marrow_relapse(relapse: str = RELAPSE, csf: list[dict[str, Any]] | None = None,
                    extra: tuple[Any, ...] = ()) -> dict[str, Any]:
    return b.bundle(b.patient("2012-03-01"), b.diagnosis(DIAGNOSIS, "B"), b.relapse(relapse),
                    b.marrow(relapse, 60), csf if csf is not None else b.csf(relapse, 1, 0, False),
                    *extra)


def _groups(assessment: dict[str, Any]) -> dict[str, str]:
    return {name: s["group"] if isinstance(s, dict) else s
            for name, s in assessment["strata"].items()}


def _problems(assessment: dict[str, Any]) -> dict[str, str]:
    return {p["ref"]: p["problem"] for p in assessment.get("problems", [])}


def _cns_warning(assessment: dict[str, Any]) -> str | None:
    """The severity of the blinatumomab-with-CNS-disease warning: critical when blinatumomab is
    in the record, a plain warning when only this assessment recommends it."""
    found = {w["code"]: w.get("severity") for w in assessment.get("warnings", [])}
    return found.get("blinatumomab-cns-disease")


def _missing(assessment: dict[str, Any]) -> set[str]:
    return {m["fact"] for m in assessment.get("missing", [])}


# -- therapy as the medication list records it ---------------------------------------------

def test_active_maintenance_dated_by_its_start_is_a_relapse_on_therapy() -> None:
    """Issue 8: "active" + effectiveDateTime is current therapy, not therapy that ended on that
    date; read as ended, this relapse would be called late off therapy (S2 / intermediate /
    standard) instead of early on therapy."""
    frontline = (_statement("3264", "completed", period={"start": "2018-01-18", "end": "2018-02-15"}),
                 _statement("11202", "completed", period={"start": "2018-01-18", "end": "2018-02-15"}),
                 _statement("103", "active", when="2018-09-03"),
                 _statement("6851", "active", when="2018-09-03"))
    assessment = assess_bundle(_marrow_relapse(extra=frontline), as_of=AS_OF)
    assert assessment["relapse"]["relapse_on_therapy"] is True
    assert assessment["relapse"]["timing"]["bfm"] == "early"
    assert _groups(assessment) == {"bfm": "S3", "ukall": "high", "ibfm": "high", "cog": "high"}


def test_an_intended_statement_is_planned_not_running_therapy() -> None:
    """A plan to restart maintenance is not therapy that was running at the relapse."""
    relapse = "2021-05-17"  # 40 months after diagnosis, 14 months after the frontline end
    frontline = (_statement("103", "completed", period={"start": "2018-09-03", "end": "2020-03-16"}),
                 _statement("103", "intended", period={"start": "2020-01-06"}))
    assessment = assess_bundle(_marrow_relapse(relapse, extra=frontline), as_of=date(2021, 5, 27))
    assert assessment["relapse"].get("relapse_on_therapy") is False
    assert assessment["relapse"]["months_after_frontline_end"] == 14
    # BFM B BM late = S2, UK intermediate, I-BFM standard; COG late marrow, MRD not yet known
    assert _groups(assessment) == {"bfm": "S2", "ukall": "intermediate", "ibfm": "standard",
                                   "cog": "low-or-intermediate"}


def test_administration_only_history_dates_the_end_of_frontline_therapy() -> None:
    """Each MedicationAdministration is a dose given on its date; the last one ends frontline."""
    doses = [{"resourceType": "MedicationAdministration", "id": f"ma-{i}", "status": "completed",
              "subject": b.ref(), "effectiveDateTime": when,
              "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "11202"}]}}
             for i, when in enumerate(("2018-01-18", "2019-06-03", "2020-03-16"))]
    assessment = assess_bundle(_marrow_relapse("2021-05-17", extra=tuple(doses)),
                               as_of=date(2021, 5, 27))
    assert assessment["relapse"]["months_after_frontline_end"] == 14
    assert assessment["relapse"]["timing"]["bfm"] == "late"
    assert _groups(assessment)["bfm"] == "S2"


def test_an_order_without_a_date_still_raises_the_blinatumomab_cns_warning() -> None:
    """An undated blinatumomab order (branded product code) is planned therapy: with CNS disease
    at relapse the critical warning fires; the missing date is said."""
    order = {"resourceType": "MedicationRequest", "id": "blina-order", "status": "active",
             "intent": "order", "subject": b.ref(),
             "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "1597267"}]}}
    bundle = _marrow_relapse(csf=b.csf(RELAPSE, 40, 0, True), extra=(order,))
    assessment = assess_bundle(bundle, as_of=AS_OF)
    assert _cns_warning(assessment) == "critical"
    assert "ordered without a date" in _problems(assessment)["MedicationRequest/blina-order"]


def test_a_medication_with_an_unknown_product_code_is_read_by_its_ingredient() -> None:
    medication = {"resourceType": "Medication", "id": "pharmacy-blina",
                  "code": {"coding": [{"system": "urn:oid:1.2.3.4.5", "code": "BLIN-35"}]},
                  "ingredient": [{"itemCodeableConcept": {"coding": [{"system": RXNORM,
                                                                      "code": "1597258"}]}}]}
    order = {"resourceType": "MedicationRequest", "id": "ord", "status": "active",
             "intent": "order", "subject": b.ref(), "authoredOn": "2020-07-24",
             "medicationReference": {"reference": "Medication/pharmacy-blina"}}
    bundle = _marrow_relapse(csf=b.csf(RELAPSE, 40, 0, True), extra=(medication, order))
    assert _cns_warning(assess_bundle(bundle, as_of=AS_OF)) == "critical"  # in the record


def test_atc_and_snomed_substance_codes_name_the_drug() -> None:
    for system, code in ((ATC, "L01FX07"), ("http://fhir.de/CodeSystem/bfarm/atc", "L01XC19"),
                         (SCT, "716122004")):
        order = {"resourceType": "MedicationRequest", "id": "ord", "status": "active",
                 "intent": "order", "subject": b.ref(), "authoredOn": "2020-07-24",
                 "medicationCodeableConcept": {"coding": [{"system": system, "code": code}]}}
        bundle = _marrow_relapse(csf=b.csf(RELAPSE, 40, 0, True), extra=(order,))
        assert _cns_warning(assess_bundle(bundle, as_of=AS_OF)) == "critical", (system, code)


def test_an_unknown_cancer_drug_is_reported_and_an_unknown_antiemetic_is_not() -> None:
    arsenic = {"resourceType": "MedicationStatement", "id": "ato", "status": "completed",
               "subject": b.ref(), "effectivePeriod": {"start": "2018-02-01", "end": "2018-03-01"},
               "medicationCodeableConcept": {"coding": [{"system": ATC, "code": "L01XX27"}]}}
    ondansetron = _statement("26225", "active", when="2020-07-21")
    problems = _problems(assess_bundle(_marrow_relapse(extra=(arsenic, ondansetron)), as_of=AS_OF))
    assert "L01XX27" in problems["MedicationStatement/ato"]
    assert not any(ref.startswith("MedicationStatement/ms") for ref in problems)


# -- units as labs write them ---------------------------------------------------------------

def test_cells_per_microlitre_is_a_count_per_microlitre_not_thousands() -> None:
    """3 {cells}/uL with blasts is CNS2 (not an extramedullary relapse); read as 3000 it would
    be CNS3 and call a combined relapse."""
    csf = [_lab("26465-5", RELAPSE, 3, "{cells}/uL", b.UCUM),
           _lab("26454-9", RELAPSE, 0, "{cells}/uL", b.UCUM),
           _lab("35068-6", RELAPSE, 2, "{cells}/uL", b.UCUM)]
    relapse = assess_bundle(_marrow_relapse(csf=csf), as_of=AS_OF)["relapse"]
    assert relapse["cns_status"] == "CNS2"
    assert relapse["site"] == "isolated-marrow"


def test_units_written_without_a_system_are_read() -> None:
    csf = [_lab("26465-5", RELAPSE, 12, "cells/uL"), _lab("26454-9", RELAPSE, 0, "/uL"),
           _lab("35068-6", RELAPSE, 4, "cells/uL")]
    extra = (_lab("26464-8", RELAPSE, 14.2, "K/uL"), _lab("777-3", RELAPSE, 61, "10*3/uL", b.UCUM),
             _lab("11150-0", "2020-07-21", 60, "%"))
    bundle = _marrow_relapse(csf=csf, extra=extra)
    assessment = assess_bundle(bundle, as_of=AS_OF)
    assert assessment["relapse"]["cns_status"] == "CNS3"
    assert assessment["relapse"]["site"] == "combined"
    facts = extract_facts([e["resource"] for e in bundle["entry"]], default_code_maps(), AS_OF)
    # the blood counts are known codes that no rule reads: neither extracted nor reported
    assert {m.kind for m in facts.measurements} == {"csf-wbc", "csf-rbc", "marrow-blasts"}
    assert not facts.problems


def test_an_unreadable_marrow_unit_is_a_problem_naming_the_resource() -> None:
    marrow = _lab("11150-0", RELAPSE, 60, "per HPF")
    assessment = assess_bundle(b.bundle(b.patient(), b.diagnosis(DIAGNOSIS, "B"),
                                        b.relapse(RELAPSE), marrow), as_of=AS_OF)
    assert "per HPF" in _problems(assessment)[f"Observation/{marrow['id']}"]


# -- the problem-list status flip -----------------------------------------------------------

def test_diagnosis_switched_to_relapse_gives_an_undated_relapse() -> None:
    """The EHR flips the diagnosis Condition to clinicalStatus relapse: its onset is the
    diagnosis, so the relapse date is unknown and reported missing, never taken as the onset."""
    flipped = b.diagnosis(DIAGNOSIS, "B", clinicalStatus={"coding": [{"system": CLINICAL,
                                                                       "code": "relapse"}]})
    assessment = assess_bundle(b.bundle(b.patient(), flipped, b.marrow(RELAPSE, 60)), as_of=AS_OF)
    assert assessment["applicable"] is True
    assert "relapse-date" in _missing(assessment)
    assert "diagnosis-date" not in _missing(assessment)
    assert assessment["relapse"].get("date") is None
    assert "relapse date is not recorded" in _problems(assessment)[f"Condition/{flipped['id']}"]
    assert assessment["relapse"]["immunophenotype"] == "B"


def test_a_flipped_diagnosis_beside_a_dated_relapse_condition_uses_that_date() -> None:
    flipped = b.diagnosis(DIAGNOSIS, "B", clinicalStatus={"coding": [{"system": CLINICAL,
                                                                       "code": "recurrence"}]})
    assessment = assess_bundle(b.bundle(b.patient(), flipped, b.relapse(RELAPSE),
                                        b.marrow(RELAPSE, 60), b.csf(RELAPSE, 1, 0, False)),
                               as_of=AS_OF)
    assert assessment["relapse"]["date"] == RELAPSE
    assert assessment["relapse"]["months_from_diagnosis"] == 30
    assert "relapse-date" not in _missing(assessment)


# -- codings other senders use --------------------------------------------------------------

MCODE_MORPHOLOGY = ("http://hl7.org/fhir/us/mcode/StructureDefinition/"
                    "mcode-histology-morphology-behavior")
MII_MORPHOLOGY = ("https://www.medizininformatik-initiative.de/fhir/ext/modul-onko/"
                  "StructureDefinition/mii-ex-onko-histology-morphology-behavior-icdo3")
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
ICD10GM = "http://fhir.de/CodeSystem/bfarm/icd-10-gm"


def _facts(*resources: dict[str, Any]) -> Any:
    return extract_facts(list(resources), default_code_maps(), AS_OF)


def _condition(codings: list[dict[str, Any]], morphology: str | None = None,
               url: str = MCODE_MORPHOLOGY, **extra: Any) -> dict[str, Any]:
    res: dict[str, Any] = {"resourceType": "Condition", "id": b._id("cond"), "subject": b.ref(),
                           "code": {"coding": codings}, "onsetDateTime": DIAGNOSIS, **extra}
    if morphology:
        res["extension"] = [{"url": url, "valueCodeableConcept": {
            "coding": [{"system": ICDO3, "code": morphology}]}}]
    return res


def test_generic_all_takes_its_lineage_from_the_morphology_extension() -> None:
    for url, morphology, lineage in ((MCODE_MORPHOLOGY, "9811/3", "B"),
                                     (MII_MORPHOLOGY, "9837/3", "T")):
        dx = _condition([{"system": SCT, "code": "91857003"}], morphology, url)
        bundle = b.bundle(b.patient(), dx, b.relapse(RELAPSE), b.marrow(RELAPSE, 60),
                          b.csf(RELAPSE, 1, 0, False))
        assert assess_bundle(bundle, as_of=AS_OF)["relapse"]["immunophenotype"] == lineage


def test_icd10_gm_and_who_codes_are_all_diagnoses_and_an_excluded_one_is_not() -> None:
    for system, code in ((ICD10GM, "C91.00"), (ICD10GM, "C91.01"),
                         ("http://hl7.org/fhir/sid/icd-10", "C91.0")):
        facts = _facts(_condition([{"system": system, "code": code, "version": "2024"}]))
        assert [d.onset.text for d in facts.diagnoses if d.onset] == [DIAGNOSIS], (system, code)
    excluded = {"system": ICD10GM, "code": "C91.00", "extension": [{
        "url": "http://fhir.de/StructureDefinition/icd-10-gm-diagnosesicherheit",
        "valueCoding": {"system": "https://fhir.kbv.de/CodeSystem/KBV_CS_SFHIR_ICD_DIAGNOSESICHERHEIT",
                        "code": "A"}}]}
    facts = _facts(_condition([excluded]))
    assert not facts.diagnoses and not facts.problems


def test_an_all_looking_condition_with_an_unknown_code_is_a_problem() -> None:
    unknown = _condition([{"system": ICD10GM, "code": "C91.0-"}])
    by_text = _condition([{"system": "urn:oid:1.2.3", "code": "X1"}])
    by_text["code"]["text"] = "Pre-B ALL, relapsed"
    other = _condition([{"system": SCT, "code": "38341003"}])  # hypertension: not relevant
    ordinary = _condition([{"system": "urn:oid:1.2.3", "code": "X2"}])
    ordinary["code"]["text"] = "Fracture of all fingers"  # "all" is not ALL
    facts = _facts(unknown, by_text, other, ordinary)
    assert [p.ref for p in facts.problems] == [f"Condition/{unknown['id']}",
                                               f"Condition/{by_text['id']}"]
    assert not facts.diagnoses


def _variant(genes: list[dict[str, str]], value: str = "LA9633-4",
             change: dict[str, str] | None = None) -> dict[str, Any]:
    components = [{"code": {"coding": [{"system": LOINC, "code": "48018-6"}]},
                   "valueCodeableConcept": {"coding": [gene]}} for gene in genes]
    if change:
        components.append({"code": {"coding": [{"system": LOINC, "code": "48019-4"}]},
                           "valueCodeableConcept": {"coding": [change]}})
    return {"resourceType": "Observation", "id": b._id("gx"), "status": "final",
            "subject": b.ref(), "effectiveDateTime": RELAPSE,
            "code": {"coding": [{"system": LOINC, "code": "69548-6"}]},
            "valueCodeableConcept": {"coding": [{"system": LOINC, "code": value}]},
            "component": components}


def test_genes_in_every_form_the_genomics_igs_use() -> None:
    forms = [(HGNC, "HGNC:3495", "HGNC:10471"),             # Genomics Reporting STU3, mCODE
             (HGNC, "3495", "10471"),                       # mCODE examples without prefix
             (f"{HGNC}/geneId", "HGNC:3495", "HGNC:10471")]  # Genomics Reporting STU1/STU2
    for system, etv6, runx1 in forms:
        translocation = {"system": "http://www.sequenceontology.org/", "code": "SO:1000044"}
        facts = _facts(_variant([{"system": system, "code": etv6}, {"system": system, "code": runx1}],
                                change=translocation))
        assert [g.finding for g in facts.genetics] == ["ETV6-RUNX1"], system
        assert [f.kind for f in facts.findings] == ["genetic-test"]
        assert not facts.problems


def test_a_gene_study_with_an_unknown_gene_is_not_genetics_recorded() -> None:
    """A variant whose gene the maps do not know (here BRAF, or a text-only ClinVar variant) must
    not count as "genetics recorded": the genomic profiling advice stays, the record is named."""
    braf = _variant([{"system": HGNC, "code": "HGNC:1097"}])
    text_only = _variant([])
    text_only["component"] = [{"code": {"coding": [{"system": LOINC, "code": "81252-9"}]},
                               "valueCodeableConcept": {"text": "ROS1 fusion"}}]
    facts = _facts(braf, text_only)
    assert not facts.findings and not facts.genetics
    assert {p.ref for p in facts.problems} == {f"Observation/{braf['id']}",
                                               f"Observation/{text_only['id']}"}
    assessment = assess_bundle(_marrow_relapse(extra=(braf, text_only)), as_of=AS_OF)
    assert "genetics" in _missing(assessment)


def test_disease_status_relapse_is_an_undated_relapse_and_worse_is_only_said() -> None:
    def status(system: str, code: str, loinc: tuple[str, str]) -> dict[str, Any]:
        return {"resourceType": "Observation", "id": b._id("status"), "status": "final",
                "subject": b.ref(), "effectiveDateTime": RELAPSE,
                "code": {"coding": [{"system": loinc[0], "code": loinc[1]}]},
                "valueCodeableConcept": {"coding": [{"system": system, "code": code}]}}
    mii = status("https://www.medizininformatik-initiative.de/fhir/ext/modul-onko/CodeSystem/"
                 "mii-cs-onko-verlauf-gesamtbeurteilung", "Y", (SCT, "396432002"))
    assessment = assess_bundle(b.bundle(b.patient(), b.diagnosis(DIAGNOSIS, "B"), mii), as_of=AS_OF)
    assert assessment["applicable"] is True and "relapse-date" in _missing(assessment)
    worse = status(SCT, "271299001", (LOINC, "97509-4"))
    assessment = assess_bundle(b.bundle(b.patient(), b.diagnosis(DIAGNOSIS, "B"), worse), as_of=AS_OF)
    assert assessment["applicable"] is False
    assert "progression" in _problems(assessment)[f"Observation/{worse['id']}"]


def test_a_stem_cell_transplant_of_unknown_type_is_not_an_allogeneic_hsct() -> None:
    sz = {"resourceType": "Procedure", "id": "sz", "status": "completed", "subject": b.ref(),
          "code": {"coding": [{"system": "https://www.medizininformatik-initiative.de/fhir/ext/"
                                         "modul-onko/CodeSystem/mii-cs-onko-therapie-typ",
                               "code": "SZ"}]}, "performedDateTime": "2019-03-01"}
    assessment = assess_bundle(_marrow_relapse(extra=(sz,)), as_of=AS_OF)
    assert assessment["relapse"]["after_hsct"] is False
    assert "allogeneic" in _problems(assessment)["Procedure/sz"]


def test_a_status_outside_fhir_is_a_problem_not_silence() -> None:
    """The MII oncology examples write status "final" on MedicationStatement and Procedure."""
    cyclo = {"resourceType": "MedicationStatement", "id": "cyc", "status": "final",
             "subject": b.ref(), "effectivePeriod": {"start": "2018-02-01", "end": "2018-03-01"},
             "medicationCodeableConcept": {"coding": [{"system": "http://fhir.de/CodeSystem/bfarm/atc",
                                                       "code": "L01AA01"}]}}
    problems = _problems(assess_bundle(_marrow_relapse(extra=(cyclo,)), as_of=AS_OF))
    assert "status 'final'" in problems["MedicationStatement/cyc"]


def test_hsct_as_hospital_procedure_lists_and_problem_lists_record_it() -> None:
    """A CPT-coded allogeneic transplant is an HSCT before the relapse; a transplant-status
    Condition (ICD-10-CM Z94.84) has neither date nor type: said, never taken as an HSCT."""
    cpt = b.procedure("38240", "2019-03-01", system="http://www.ama-assn.org/go/cpt")
    assessment = assess_bundle(_marrow_relapse(extra=(cpt,)), as_of=AS_OF)
    assert assessment["relapse"]["after_hsct"] is True
    status = _condition([{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "Z94.84"}])
    assessment = assess_bundle(_marrow_relapse(extra=(status,)), as_of=AS_OF)
    assert assessment["relapse"]["after_hsct"] is False
    assert "history Condition" in _problems(assessment)[f"Condition/{status['id']}"]


def test_a_contained_medication_that_is_not_valid_fhir_is_reported_not_a_crash() -> None:
    statement = {"resourceType": "MedicationStatement", "id": "ms-bad", "status": "active",
                 "subject": b.ref(), "effectiveDateTime": "2020-07-21",
                 "medicationReference": {"reference": "#med"},
                 "contained": [{"resourceType": "Medication", "id": "med", "code": "blinatumomab"}]}
    assessment = assess_bundle(_marrow_relapse(extra=(statement,)), as_of=AS_OF)
    assert "not valid FHIR" in _problems(assessment)["MedicationStatement/ms-bad"]


def test_an_immunophenotype_given_as_text_is_named_and_a_coded_one_gives_the_lineage() -> None:
    """mCODE's pediatric example sends immunophenotyping (LOINC 101119-6) as text beside a
    generic ALL code: the lineage stays unknown and the result is named; coded, it is read."""
    def phenotype(value: dict[str, Any]) -> dict[str, Any]:
        return {"resourceType": "Observation", "id": b._id("ip"), "status": "final",
                "subject": b.ref(), "effectiveDateTime": DIAGNOSIS,
                "code": {"coding": [{"system": LOINC, "code": "101119-6"}]}, **value}
    text = phenotype({"valueString": "positive for CD10, CD79a, TdT, CD19, and CD20"})
    generic = b.bundle(b.patient(), b.diagnosis(DIAGNOSIS, None), b.relapse(RELAPSE),
                       b.marrow(RELAPSE, 60), b.csf(RELAPSE, 1, 0, False), text)
    assessment = assess_bundle(generic, as_of=AS_OF)
    assert assessment["relapse"]["immunophenotype"] == "indeterminate"
    assert "immunophenotype" in _missing(assessment)
    assert "text" in _problems(assessment)[f"Observation/{text['id']}"]
    coded = phenotype({"valueCodeableConcept": {"coding": [{"system": SCT, "code": "277575008"}]}})
    generic["entry"][-1]["resource"] = coded
    assert assess_bundle(generic, as_of=AS_OF)["relapse"]["immunophenotype"] == "T"


def test_a_flipped_duplicate_of_the_diagnosis_is_not_a_very_early_relapse() -> None:
    """The same diagnosis entered twice (ICD-10-CM and SNOMED, four days apart), one copy
    flipped to relapse: not a relapse four days after diagnosis, an undated one."""
    icd = _condition([{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C91.00"}])
    snomed = b.diagnosis("2018-01-19", "B", clinicalStatus={"coding": [{"system": CLINICAL,
                                                                         "code": "relapse"}]})
    assessment = assess_bundle(b.bundle(b.patient(), icd, snomed, b.marrow(RELAPSE, 60)),
                               as_of=AS_OF)
    assert assessment["relapse"].get("date") is None
    assert "relapse-date" in _missing(assessment)


def test_a_nan_or_infinite_quantity_is_a_data_problem_not_a_crash() -> None:
    """json.load (replay) accepts NaN and Infinity; such a value is reported, never read."""
    for value in (float("nan"), float("inf")):
        bundle = b.bundle(b.patient("2010-05-05"), b.diagnosis("2015-01-10", "B"),
                          b.relapse("2017-01-10"), b.marrow("2017-01-10", value))
        result = assess_bundle(bundle, as_of=date(2017, 2, 1))
        assert any("finite" in p["problem"] for p in result["problems"])
        assert result["relapse"]["site"] == "indeterminate"
