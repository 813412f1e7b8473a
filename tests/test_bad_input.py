"""Bad input gives a clear message naming the resource and the problem; the fact is then
treated as missing, never guessed and never a crash."""

from __future__ import annotations

from datetime import date

import builders as b
from scenarios import first_relapse, iso

from service.pipeline import assess_bundle

AS_OF = date.fromisoformat(iso(26))


def _problems(result: dict) -> dict[str, str]:
    return {p["ref"]: p["problem"] for p in result.get("problems", [])}


def _entry(bundle: dict, resource_type: str, code: str | None = None) -> dict:
    for e in bundle["entry"]:
        r = e["resource"]
        if r["resourceType"] == resource_type and (
                code is None or r.get("code", {}).get("coding", [{}])[0].get("code") == code):
            return r
    raise LookupError(resource_type)


def test_relapse_before_diagnosis_is_a_conflict_not_a_timing() -> None:
    bundle = first_relapse("B", "BM", 24, None)
    _entry(bundle, "Condition", "277572006")["onsetDateTime"] = iso(30)
    result = assess_bundle(bundle, as_of=date.fromisoformat(iso(31)))
    problems = _problems(result)
    dx = _entry(bundle, "Condition", "277572006")["id"]
    assert "dated after the relapse" in problems[f"Condition/{dx}"]
    assert result["relapse"]["timing"]["bfm"] == "indeterminate"
    assert result["strata"]["bfm"]["group"] in ("indeterminate",)
    assert "diagnosis-date" in {m["fact"] for m in result["missing"]}


def test_a_date_in_the_future_is_ignored_and_said() -> None:
    bundle = first_relapse("B", "BM", 24, None)
    marrow = _entry(bundle, "Observation", "11150-0")
    marrow["effectiveDateTime"] = "2099-01-01"
    result = assess_bundle(bundle, as_of=AS_OF)
    assert "after the assessment date" in _problems(result)[f"Observation/{marrow['id']}"]
    assert "marrow-blasts" in {m["fact"] for m in result["missing"]}


def test_mrd_without_unit_is_not_used() -> None:
    extra = (b.medication("3264", iso(40), iso(40, 28)), b.mrd(iso(40, 30), 0.5, unit=None))
    bundle = first_relapse("B", "BM", 40, 26, extra=extra)
    result = assess_bundle(bundle, as_of=date.fromisoformat(iso(42)))
    problem = next(p for p in result["problems"] if "mrd" in p["problem"])
    assert "no unit" in problem["problem"]
    assert result["strata"]["cog"]["group"] == "low-or-intermediate"
    assert "mrd-end-of-reinduction" in {m["fact"] for m in result["missing"]}


def test_percentage_over_100_is_rejected() -> None:
    bundle = first_relapse("B", "BM", 24, None)
    marrow = _entry(bundle, "Observation", "11150-0")
    marrow["valueQuantity"]["value"] = 250
    result = assess_bundle(bundle, as_of=AS_OF)
    assert "over 100%" in _problems(result)[f"Observation/{marrow['id']}"]
    assert result["relapse"]["site"] == "indeterminate"


def test_invalid_resource_is_reported_and_left_out() -> None:
    bundle = first_relapse("B", "BM", 24, None)
    marrow = _entry(bundle, "Observation", "11150-0")
    marrow["valueQuantity"] = "sixty"
    result = assess_bundle(bundle, as_of=AS_OF)
    problem = _problems(result)[f"Observation/{marrow['id']}"]
    assert problem.startswith("not valid FHIR") and "valueQuantity" in problem
    assert "sixty" not in problem  # no values in messages: they may be patient data


def test_impossible_date_is_reported() -> None:
    bundle = first_relapse("B", "BM", 24, None)
    relapse = _entry(bundle, "Condition", "12301000132103")
    relapse["onsetDateTime"] = "2017-02-30"
    result = assess_bundle(bundle, as_of=AS_OF)
    assert "not a valid date" in _problems(result)[f"Condition/{relapse['id']}"]
    assert result["applicable"] is True
    assert "relapse-date" in {m["fact"] for m in result["missing"]}


def test_no_relapse_is_not_applicable() -> None:
    result = assess_bundle(b.bundle(b.patient(), b.diagnosis("2019-01-01")), as_of=AS_OF)
    assert result["applicable"] is False
    assert "relapse" not in result


def test_entered_in_error_and_refuted_are_ignored() -> None:
    status = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
    bundle = b.bundle(b.patient(), b.diagnosis("2019-01-01"),
                      b.relapse("2020-01-01", verificationStatus={
                          "coding": [{"system": status, "code": "entered-in-error"}]}),
                      b.relapse("2020-06-01", verificationStatus={
                          "coding": [{"system": status, "code": "refuted"}]}),
                      b.quantity_obs("11150-0", "2020-01-01", 80, "%", status="preliminary"))
    assert assess_bundle(bundle, as_of=AS_OF)["applicable"] is False
