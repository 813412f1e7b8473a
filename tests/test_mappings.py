"""Code maps are data: a site adds its own codes without a code change; errors name file and line."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from datetime import date
from pathlib import Path

import builders as b
import pytest
from scenarios import first_relapse, iso

from service.mapping import (
    MAPPINGS_ENV,
    Concept,
    MappingError,
    configured_folders,
    default_code_maps,
    load_code_maps,
)
from service.pipeline import assess_bundle

LAB = "http://lab.example.org/codes"


def _site_folder(tmp_path: Path, text: str, name: str = "site.yaml") -> Path:
    folder = tmp_path / "site-maps"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def _bundle_with_local_mrd() -> dict:
    extra = (b.medication("3264", iso(40), iso(40, 28)),
             b.mrd(iso(40, 30), 0.5, "%", method_code="MRD-FLOW-7", system=LAB))
    return first_relapse("B", "BM", 40, 26, extra=extra)


def test_a_site_adds_its_own_mrd_code(tmp_path: Path) -> None:
    bundle = _bundle_with_local_mrd()
    as_of = date.fromisoformat(iso(42))
    without = assess_bundle(bundle, as_of=as_of)
    assert without["strata"]["cog"]["group"] == "low-or-intermediate"  # lab code unknown
    folder = _site_folder(tmp_path, f'- {{system: "{LAB}", code: MRD-FLOW-7, fact: mrd, method: flow}}\n')
    maps = load_code_maps(configured_folders([folder]))
    with_site = assess_bundle(bundle, as_of=as_of, maps=maps)
    assert with_site["strata"]["cog"]["group"] == "intermediate"


def test_extra_folder_by_environment_variable_and_option(tmp_path: Path) -> None:
    folder = _site_folder(tmp_path, f'- {{system: "{LAB}", code: MRD-FLOW-7, fact: mrd, method: flow}}\n')
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(_bundle_with_local_mrd()))
    base = [sys.executable, "-m", "service", "replay", str(path), "--date", iso(42)]
    by_env = subprocess.run(base, capture_output=True, text=True, check=True,
                            env={**os.environ, MAPPINGS_ENV: str(folder)})
    by_option = subprocess.run([*base, "--mappings", str(folder)], capture_output=True, text=True,
                               check=True)
    for run in (by_env, by_option):
        assert json.loads(run.stdout)["strata"]["cog"]["group"] == "intermediate"


@pytest.mark.parametrize(("text", "message"), [
    ("- {system: sct, code: '1', fact: all-diagnosis}\n"
     "- {system: sct, code: '2', fact: no-such-fact}\n", "site.yaml:2: unknown fact 'no-such-fact'"),
    ("- {system: loinc, code: 11150-0, fact: csf-wbc, unit: per-ul}\n",
     "site.yaml:1: http://loinc.org|11150-0 already means 'marrow-blasts'"),
    ("- {system: sct, code: '3', fact: all-diagnosis, lineage: X}\n",
     "site.yaml:1: 'lineage: 'X'' is not allowed"),
    ("- {system: nowhere, code: '3', fact: all-diagnosis}\n", "unknown system alias 'nowhere'"),
    ("- {system: sct, code: '3', fact: all-diagnosis\n", "site.yaml:"),
])
def test_a_wrong_mapping_fails_at_start_with_file_and_line(tmp_path: Path, text: str,
                                                           message: str) -> None:
    folder = _site_folder(tmp_path, text)
    with pytest.raises(MappingError) as caught:
        load_code_maps(configured_folders([folder]))
    assert message in str(caught.value)


def test_a_wrong_mapping_stops_the_command_with_a_clear_message(tmp_path: Path) -> None:
    folder = _site_folder(tmp_path, "- {system: sct, code: '2', fact: no-such-fact}\n")
    run = subprocess.run([sys.executable, "-m", "service", "replay", "fixtures", "--mappings",
                          str(folder)], capture_output=True, text=True)
    assert run.returncode == 2
    assert "site.yaml:1: unknown fact" in run.stderr
    assert "Traceback" not in run.stderr


def test_every_spec_code_is_in_the_default_maps() -> None:
    """A sample of FHIR_INPUT.md codes from each table."""
    maps = load_code_maps()
    for role, system, code, fact in [
        ("condition", "http://snomed.info/sct", "12301000132103", "all-relapse"),
        ("condition", "http://hl7.org/fhir/sid/icd-10-cm", "C91.02", "all-relapse"),
        ("condition", "http://terminology.hl7.org/CodeSystem/icd-o-3", "9837/3", "all-diagnosis"),
        ("observation", "http://loinc.org", "67128-9", "mrd"),
        ("observation", "urn:relapsed-all-cds:concept", "mrd-ngs", "mrd"),
        ("medication", "http://www.nlm.nih.gov/research/umls/rxnorm", "1597262", "medication"),
        ("procedure", "http://snomed.info/sct", "58776007", "procedure"),
        ("gene", "http://www.genenames.org", "HGNC:11998", "gene"),
        ("change-type", "http://www.sequenceontology.org", "SO:0001565", "change-type"),
    ]:
        concept = maps.lookup(role, [{"system": system, "code": code}])
        assert concept is not None and concept.fact == fact, (system, code)
    trailing = maps.lookup("change-type", [{"system": "http://www.sequenceontology.org/",
                                            "code": "SO:0001565"}])
    assert trailing is not None


def test_an_app_built_with_site_maps_assesses_with_them(tmp_path: Path) -> None:
    """The maps given to ``create_app`` decide patient-view, as they decide its prefetch."""
    from service.app import create_app
    from service.hooks.example_request import hook_request
    from service.render import ASSESSMENT_KEY
    from service.settings import Settings

    folder = _site_folder(tmp_path, f'- {{system: "{LAB}", code: MRD-FLOW-7, fact: mrd, method: flow}}\n')
    settings = Settings(auth_enabled=False, database_url=f"sqlite:///{tmp_path / 'feedback.sqlite3'}")
    app = create_app(settings, maps=load_code_maps([*configured_folders(), folder]))
    answer = app.test_client().post("/cds-services/relapsed-all",
                                    json=hook_request(_bundle_with_local_mrd()))
    assessment = answer.get_json()["cards"][0]["extension"][ASSESSMENT_KEY]
    assert assessment["strata"]["cog"]["group"] == "intermediate"  # the site's MRD code was read


def test_the_facts_left_unread_are_known_facts_that_no_rule_names() -> None:
    """Observations of ``NOT_READ`` facts are neither prefetched nor extracted: that is only
    right while no part of the engine reads them."""
    from service.mapping import FACTS, NOT_READ, default_code_maps

    engine = Path(__file__).resolve().parent.parent / "service" / "engine"
    text = "\n".join(p.read_text(encoding="utf-8") for p in engine.rglob("*.py"))
    for fact in NOT_READ:
        assert FACTS[fact][0] == "observation"
        assert f'"{fact}"' not in text and f"'{fact}'" not in text, fact
    codes = {f"{s}|{c}" for s, c in default_code_maps().codes_for("observation")}
    assert "http://loinc.org|6690-2" not in codes and "http://loinc.org|11150-0" in codes


def test_a_concept_reads_its_attributes_and_is_a_value() -> None:
    """``get`` is the attributes' own dict.get (set when the concept is made): it reads like a
    mapping and takes no part in equality, hashing or pickling."""
    mrd = Concept("mrd", (("method", "flow"),), "site.yaml:1")
    assert (mrd.get("method"), mrd.get("unit"), mrd.get("unit", "none")) == ("flow", None, "none")
    same = Concept("mrd", (("method", "flow"),), "site.yaml:1")
    assert same == mrd and hash(same) == hash(mrd) and "get" not in repr(mrd)
    assert Concept("mrd", (("method", "pcr"),), "site.yaml:1") != mrd
    maps = default_code_maps()
    again = pickle.loads(pickle.dumps(maps))
    marrow = again.find("observation", "http://loinc.org", "11150-0")
    assert marrow == maps.find("observation", "http://loinc.org", "11150-0")
    assert marrow is not None and marrow.get("unit") == "percent"


def test_libyaml_and_the_python_parser_read_the_shipped_maps_and_labels_alike(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The maps and card labels are read with libyaml where PyYAML has it (service.yaml_text);
    an install without it falls back to PyYAML's own parser, which must read the same codes."""
    import yaml

    from service import yaml_text
    from service.cards import labels

    assert yaml_text.SAFE_LOADER is yaml.CSafeLoader  # the PyPI wheels carry libyaml
    fast_maps, fast_labels = load_code_maps().tables, labels.labels.__wrapped__()
    monkeypatch.setattr(yaml_text, "SAFE_LOADER", yaml.SafeLoader)
    assert load_code_maps().tables == fast_maps
    assert labels.labels.__wrapped__() == fast_labels
