"""``relapsed-all-cds replay`` as a user runs it: files, folders, NDJSON, errors per bundle."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "service", "replay", *args],
                          capture_output=True, text=True, timeout=120)


def _bundle(name: str) -> str:
    return (FIXTURES / name / "bundle.json").read_text(encoding="utf-8")


def test_folder_replays_every_fixture_in_order() -> None:
    run = _run(str(FIXTURES), "--date", "2030-01-01")
    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    names = sorted(p.parent.name for p in FIXTURES.glob("*/bundle.json"))
    assert len(lines) == len(names)
    assert all(line["schema"] == "relapsed-all-assessment/1" for line in lines)
    patients = [json.loads(_bundle(n))["entry"][0]["resource"].get("id") for n in names]
    assert [line.get("patient", "").removeprefix("Patient/") for line in lines][:3] == patients[:3]


def test_ndjson_with_a_bad_line_reports_it_and_goes_on(tmp_path: Path) -> None:
    good = json.dumps(json.loads(_bundle("rowB-bm-early")))
    not_bundle = json.dumps({"resourceType": "Patient", "id": "x"})
    path = tmp_path / "bundles.ndjson"
    path.write_text("\n".join([good, "{not json", not_bundle, good]) + "\n")
    run = _run(str(path))
    assert run.returncode == 1
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(lines) == 4
    assert lines[0]["applicable"] is True and lines[3]["applicable"] is True
    assert lines[1]["source"].endswith("bundles.ndjson:2") and "not JSON" in lines[1]["error"]
    assert "not a FHIR Bundle" in lines[2]["error"]
    assert "2 of 4 bundles failed" in run.stderr
    assert "Traceback" not in run.stderr


def test_strict_mode_names_what_is_wrong_and_where(tmp_path: Path) -> None:
    bundle = json.loads(_bundle("rowB-bm-early"))
    bundle["entry"][1]["resource"]["onsetDateTime"] = "yesterday"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(bundle))
    good = FIXTURES / "rowB-bm-early" / "bundle.json"
    run = _run("--strict", str(bad), str(good))
    assert run.returncode == 1
    first, second = (json.loads(line) for line in run.stdout.splitlines())
    assert "entry.1.resource" in first["error"] and "yesterday" not in first["error"]
    assert second["applicable"] is True


def test_cards_and_date(tmp_path: Path) -> None:
    run = _run("--cards", str(FIXTURES / "seed000-p1-maintenance" / "bundle.json"))
    assert run.returncode == 0, run.stderr
    cards = json.loads(run.stdout)["cards"]
    assert cards[0]["summary"] and "relapsed-all-assessment" in cards[0]["extension"]
    early = _run("--date", "1999-01-01", str(FIXTURES / "seed000-p1-maintenance" / "bundle.json"))
    assert json.loads(early.stdout)["applicable"] is False  # nothing had happened yet


def test_bad_date_option_is_a_usage_error() -> None:
    run = _run("--date", "2021-13-01", str(FIXTURES))
    assert run.returncode == 2 and "is not a date" in run.stderr


def test_a_bundle_with_invalid_resources_is_assessed_named_and_fails_the_run(tmp_path: Path) -> None:
    bundle = json.loads(_bundle("rowB-bm-early"))
    broken = {"resourceType": "Observation", "id": "broken-marrow", "status": "final",
              "code": {"coding": "11150-0"}, "valueQuantity": {"value": "sixty", "unit": "%"}}
    bundle["entry"].append({"fullUrl": "urn:uuid:broken", "resource": broken})
    path = tmp_path / "with-invalid.json"
    path.write_text(json.dumps(bundle))
    good = FIXTURES / "rowB-bm-late" / "bundle.json"
    for extra in ((), ("--cards",)):
        run = _run(*extra, str(path), str(good))
        assert run.returncode == 1, run.stderr
        first, second = (json.loads(line) for line in run.stdout.splitlines())
        if extra:
            assert first["invalid_resources"] == ["Observation/broken-marrow"]
            assert first["cards"] and "invalid_resources" not in second
        else:
            assert first["strata"]["bfm"]["group"] == "S3"  # assessed without the broken one
            assert any(p["ref"] == "Observation/broken-marrow" and "not valid FHIR" in p["problem"]
                       for p in first["problems"])
        assert "1 of 2 bundles held resources that are not valid FHIR" in run.stderr
        assert "with-invalid.json: Observation/broken-marrow" in run.stderr
        assert "sixty" not in run.stderr + run.stdout  # no record values in the report


def test_every_line_names_its_source_and_patient(tmp_path: Path) -> None:
    good = json.dumps(json.loads(_bundle("rowB-bm-early")))
    path = tmp_path / "bundles.ndjson"
    path.write_text("\n".join([good, "", good]) + "\n")
    patient = "Patient/" + json.loads(good)["entry"][0]["resource"]["id"]
    for extra in ((), ("--cards",)):
        run = _run(*extra, str(path))
        assert run.returncode == 0, run.stderr
        lines = [json.loads(line) for line in run.stdout.splitlines()]
        assert [line["source"] for line in lines] == [f"{path}:1", f"{path}:3"]
        assert all(line["patient"] == patient for line in lines)


def test_on_several_processes_the_lines_keep_the_input_order(tmp_path: Path) -> None:
    names = sorted(p.parent.name for p in FIXTURES.glob("*/bundle.json"))
    path = tmp_path / "all.ndjson"
    path.write_text("".join(json.dumps(json.loads(_bundle(n))) + "\n" for n in names))
    one = _run("--jobs", "1", "--date", "2030-01-01", str(path))
    two = _run("--jobs", "3", "--date", "2030-01-01", str(path))
    assert one.returncode == two.returncode == 0, two.stderr
    assert one.stdout == two.stdout and len(one.stdout.splitlines()) == len(names)


def test_a_missing_file_or_an_empty_input_is_an_error(tmp_path: Path) -> None:
    missing = _run(str(tmp_path / "nowhere.ndjson"))
    assert missing.returncode == 2 and "no such file or folder" in missing.stderr
    assert missing.stdout == ""
    (tmp_path / "empty.ndjson").write_text("\n")
    for path in (tmp_path / "empty.ndjson", tmp_path):
        empty = _run(str(path))
        assert empty.returncode == 1 and "no bundles in the input" in empty.stderr
