"""Every fixture bundle is valid FHIR R4 and replays to the assessment a physician read off the
seed tables (fixtures/*/expected.json, written by hand)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from service.assessment import assessment_schema
from service.fhir.strict import validate_bundle
from service.pipeline import assess_bundle

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CASES = sorted(p.name for p in FIXTURES.iterdir() if (p / "expected.json").is_file())
MATCH_KEY = {"recommendations": "code", "warnings": "code", "missing": "fact"}


def _compare(expected: Any, actual: Any, path: str) -> list[str]:
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected an object, got {actual!r}"]
        return [m for k, v in expected.items()
                for m in (_compare(v, actual[k], f"{path}.{k}") if k in actual
                          else [f"{path}.{k}: missing (expected {v!r})"])]
    if isinstance(expected, list) and path.rsplit(".", 1)[-1] in MATCH_KEY:
        key = MATCH_KEY[path.rsplit(".", 1)[-1]]
        found = {item[key]: item for item in actual or []}
        return [m for item in expected
                for m in (_compare(item, found[item[key]], f"{path}[{item[key]}]")
                          if item[key] in found else [f"{path}: no {key} {item[key]!r}"])]
    return [] if expected == actual else [f"{path}: expected {expected!r}, got {actual!r}"]


@pytest.mark.parametrize("name", CASES)
def test_fixture_replays_to_expected_assessment(name: str) -> None:
    bundle = json.loads((FIXTURES / name / "bundle.json").read_text(encoding="utf-8"))
    expected = json.loads((FIXTURES / name / "expected.json").read_text(encoding="utf-8"))
    validate_bundle(bundle)  # full fhir.resources R4B validation: the fixtures are valid FHIR
    actual = assess_bundle(bundle, as_of=date.fromisoformat(expected["as_of"]))
    jsonschema.validate(actual, assessment_schema(), format_checker=jsonschema.FormatChecker())
    mismatches = _compare(expected["assessment"], actual, "assessment")
    for field, codes in expected.get("absent", {}).items():
        present = {item["code"] for item in actual.get(field, [])}
        mismatches += [f"{field}: {code} must not appear" for code in codes if code in present]
    assert not mismatches, "\n".join(mismatches)


def test_there_is_a_fixture_for_every_seed_vignette() -> None:
    for name in ("seed000-p1-maintenance", "seed000-p1-late40", "seed000-p1-s2-post-hsct",
                 "seed000-p1-s3-post-cart", "seed000-p1-s4-multiply", "seed000-p2-icns-15mo",
                 "seed000-p2-icns-30mo", "seed000-p3-tall-17mo", "seed004-p1", "seed004-p2",
                 "seed004-p3"):
        assert name in CASES
