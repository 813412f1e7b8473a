"""``relapsed-all-cds cohort`` on a Bulk export as a user runs it: one assessment per patient
equal to replay of the patient's Bundle, the cohort report, bad data counted by file and line,
``--compare``, ``--since``, Parquet output and the export manifest."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
from cohort_helpers import (
    FIXTURES,
    by_patient,
    cohort,
    fixtures_export,
    generated_export,
    lines,
    replayed,
)


@pytest.fixture(scope="module")
def fixtures_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    folder = tmp_path_factory.mktemp("fixtures")
    export = fixtures_export(folder)
    out = folder / "cohort.ndjson"
    done = cohort(str(export), "--out", str(out))
    assert done.returncode == 0, done.stderr
    return folder, export, out.read_text(encoding="utf-8")


def test_every_patient_equals_replay_of_their_bundle(fixtures_run: tuple[Path, Path, str]) -> None:
    folder, _, output = fixtures_run
    found = by_patient(output)
    expected = replayed(folder / "bundles.ndjson")
    assert len(found) == len(list(FIXTURES.glob("*/bundle.json")))
    assert found == expected
    assert any(a["applicable"] is False for a in found.values())  # no-relapse is listed too


def test_each_line_names_the_patient_and_the_files_their_record_came_from(
        fixtures_run: tuple[Path, Path, str]) -> None:
    _, _, output = fixtures_run
    rows = lines(output)
    assert [r["patient"] for r in rows] == sorted(r["patient"] for r in rows)
    tag = sorted(p.parent.name for p in FIXTURES.glob("*/bundle.json")).index(
        "cibmtr-medications-post-hct")
    [medicated] = [r for r in rows if r["patient"].startswith(f"Patient/f{tag}-")]
    assert "Medication.ndjson.gz" in medicated["sources"]  # resolved by reference
    assert "Patient.ndjson.gz" in medicated["sources"]


def test_the_report_counts_what_the_assessments_say(fixtures_run: tuple[Path, Path, str]) -> None:
    folder, _, output = fixtures_run
    report = json.loads((folder / "cohort.report.json").read_text(encoding="utf-8"))
    assessments = [a for a in by_patient(output).values() if a["applicable"]]
    assert report["patients"] == len(by_patient(output))
    assert report["site"]["isolated-cns"] == sum(a["relapse"]["site"] == "isolated-cns"
                                                 for a in assessments)
    s2 = sum(isinstance(a["strata"]["bfm"], dict) and a["strata"]["bfm"]["group"] == "S2"
             for a in assessments)
    assert report["groups"]["bfm"]["S2"] == s2
    timing = sum(any(w["code"] == "timing-discordance" for w in a.get("warnings", []))
                 for a in assessments)
    assert report["discordances"].get("timing-discordance", 0) == timing
    assert report["missing_facts"]["mrd-end-of-reinduction"] >= 1
    assert report["data_problems"]["bad_lines"] == 0
    page = (folder / "cohort.report.html").read_text(encoding="utf-8")
    assert page.count("<svg") >= 8 and "Site of relapse" in page and "isolated-cns" in page


def _gz_append(path: Path, *extra: str) -> None:
    with gzip.open(path, "at", encoding="utf-8") as handle:
        handle.write("".join(line + "\n" for line in extra))


def test_bad_lines_are_counted_by_file_and_line_and_the_rest_goes_on(
        fixtures_run: tuple[Path, Path, str], tmp_path: Path) -> None:
    _, export, output = fixtures_run
    bad = tmp_path / "export"
    shutil.copytree(export, bad)
    observations = bad / "Observation.ndjson.gz"
    with gzip.open(observations, "rt", encoding="utf-8") as handle:
        count = sum(1 for _ in handle)
    _gz_append(observations, "{not json", "",
               json.dumps({"resourceType": "Observation", "id": "orphan", "status": "final"}),
               json.dumps({"resourceType": "Obsrvation", "id": "typo",
                           "subject": {"reference": "Patient/x"}}))
    (bad / "Practitioner.ndjson").write_text(
        json.dumps({"resourceType": "Practitioner", "id": "dr-1"}) + "\n", encoding="utf-8")
    manifest = json.loads((bad / "manifest.json").read_text(encoding="utf-8"))
    manifest["output"].append({"type": "Practitioner",
                               "url": "https://bulk.example.org/files/Practitioner.ndjson"})
    (bad / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    report_path = tmp_path / "report.json"
    done = cohort(str(bad), "--report", str(report_path))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert by_patient(done.stdout) == by_patient(output)
    report = json.loads(report_path.read_text(encoding="utf-8"))
    problems = report["data_problems"]
    assert problems["bad_lines"] == 3  # the blank line and the Practitioner are not problems
    assert {(p["file"], p["line"], p["problem"]) for p in problems["lines"]} == {
        ("Observation.ndjson.gz", count + 1, "not JSON"),
        ("Observation.ndjson.gz", count + 3, "no patient reference"),
        ("Observation.ndjson.gz", count + 4, "unknown resourceType Obsrvation")}
    assert report["export"]["resources"]["Practitioner"] == 1
    assert "Observation.ndjson.gz: 1 lines: not JSON" in done.stderr
    assert "orphan" not in done.stderr


def test_a_manifest_is_matched_to_files_by_name(tmp_path: Path) -> None:
    export = fixtures_export(tmp_path, compress=False)
    (export / "Stray.ndjson").write_text("{not even json\n", encoding="utf-8")  # not listed
    manifest = json.loads((export / "manifest.json").read_text(encoding="utf-8"))
    manifest["output"].append({"type": "Encounter",
                               "url": "https://bulk.example.org/files/Encounter.ndjson"})
    (export / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    done = cohort(str(export))
    assert done.returncode == 1
    assert "manifest file Encounter.ndjson not found" in done.stderr
    assert len(lines(done.stdout)) == len(replayed(tmp_path / "bundles.ndjson"))


def _with_groups_changed(output: str, patient: str) -> str:
    rows = lines(output)
    for row in rows:
        if row["patient"] == patient:
            row["assessment"]["strata"]["bfm"] = {"group": "S4", "risk": "high"}
    return "".join(json.dumps(r) + "\n" for r in rows)


def test_compare_lists_the_patients_whose_group_changed(fixtures_run: tuple[Path, Path, str],
                                                         tmp_path: Path) -> None:
    _, export, output = fixtures_run
    patient = next(p for p, a in by_patient(output).items()
                   if a["applicable"] and isinstance(a["strata"]["bfm"], dict)
                   and a["strata"]["bfm"]["group"] == "S2")
    before = tmp_path / "before.ndjson"
    before.write_text(_with_groups_changed(output, patient), encoding="utf-8")
    done = cohort(str(export), "--out", str(tmp_path / "after.parquet"), "--compare", str(before))
    assert done.returncode == 0, done.stderr
    assert "1 patients changed group" in done.stderr
    report = json.loads((tmp_path / "after.report.json").read_text(encoding="utf-8"))
    [change] = report["compare"]["patients"]
    assert change["patient"] == patient
    assert change["before"]["bfm"] == "S4" and change["after"]["bfm"] == "S2"
    assert patient in (tmp_path / "after.report.html").read_text(encoding="utf-8")


def test_parquet_output_holds_the_same_results(fixtures_run: tuple[Path, Path, str],
                                               tmp_path: Path) -> None:
    _, export, output = fixtures_run
    out = tmp_path / "cohort.parquet"
    assert cohort(str(export), "--out", str(out)).returncode == 0
    rows = duckdb.sql(f"SELECT patient, sources, assessment FROM '{out}' ORDER BY patient").fetchall()
    assert [(p, s, json.loads(a)) for p, s, a in rows] == [
        (r["patient"], r["sources"], r["assessment"]) for r in lines(output)]


def _touch(export: Path, patient_ids: set[str], when: str) -> None:
    path = export / "Observation.ndjson.gz"
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        resources: list[dict[str, Any]] = [json.loads(line) for line in handle]
    for res in resources:
        subject = res.get("subject", {}).get("reference", "")
        res["meta"] = {"lastUpdated": when if subject.removeprefix("Patient/") in patient_ids
                       else "2020-01-01T00:00:00Z"}
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.writelines(json.dumps(r) + "\n" for r in resources)
    for other in export.glob("*.ndjson.gz"):  # the other resources: updated long ago
        if other != path:
            with gzip.open(other, "rt", encoding="utf-8") as handle:
                rest = [json.loads(line) for line in handle]
            for res in rest:
                res["meta"] = {"lastUpdated": "2020-01-01T00:00:00Z"}
            with gzip.open(other, "wt", encoding="utf-8") as handle:
                handle.writelines(json.dumps(r) + "\n" for r in rest)


def test_since_assesses_the_patients_updated_since_with_the_same_results(
        fixtures_run: tuple[Path, Path, str], tmp_path: Path) -> None:
    _, export, output = fixtures_run
    copy = tmp_path / "export"
    shutil.copytree(export, copy)
    chosen = {p.removeprefix("Patient/") for p in list(by_patient(output))[3:5]}
    _touch(copy, chosen, "2024-06-01T10:00:00+02:00")
    full = cohort(str(copy))
    recent = cohort(str(copy), "--since", "2024-01-01")
    assert full.returncode == recent.returncode == 0, recent.stderr
    again = by_patient(recent.stdout)
    assert set(again) == {f"Patient/{p}" for p in chosen}
    assert again == {p: a for p, a in by_patient(full.stdout).items() if p in again}


def test_a_generated_export_equals_replay_over_several_buckets(tmp_path: Path) -> None:
    export = generated_export(tmp_path, patients=80)
    done = cohort(str(export))
    assert done.returncode == 0, done.stderr
    found = by_patient(done.stdout)
    assert len(found) == 80
    assert found == replayed(tmp_path / "bundles.ndjson")
    again = cohort(str(export), "--workers", "1")
    assert again.stdout == done.stdout  # another run, other buckets: the same output
