"""A site's own code maps (RELAPSED_ALL_CDS_MAPPINGS) reach patient-view too, under gunicorn:
the prefetch asks for the site's codes and the assessment reads them."""

from __future__ import annotations

from pathlib import Path

import builders as b
import requests
from scenarios import first_relapse, iso

from service.hooks.example_request import hook_request
from service.render import ASSESSMENT_KEY
from tests.service.cds_harness import start_gunicorn

LAB = "http://lab.example.org/codes"


def test_a_site_mrd_code_is_prefetched_and_read_on_patient_view(tmp_path: Path) -> None:
    folder = tmp_path / "site-maps"
    folder.mkdir()
    (folder / "site.yaml").write_text(
        f'- {{system: "{LAB}", code: MRD-FLOW-7, fact: mrd, method: flow}}\n', encoding="utf-8")
    bundle = first_relapse("B", "BM", 40, 26, extra=(
        b.medication("3264", iso(40), iso(40, 28)),
        b.mrd(iso(40, 30), 0.5, "%", method_code="MRD-FLOW-7", system=LAB)))
    env = {"RELAPSED_ALL_CDS_AUTH_ENABLED": "false",
           "RELAPSED_ALL_CDS_DATABASE_URL": f"sqlite:///{tmp_path / 'feedback.sqlite3'}",
           "RELAPSED_ALL_CDS_MAPPINGS": str(folder)}
    with start_gunicorn(env, workers=1) as (base, _):
        discovery = requests.get(f"{base}/cds-services", timeout=10).json()
        prefetch = discovery["services"][0]["prefetch"]["observations"]
        assert f"{LAB}|MRD-FLOW-7" in prefetch
        answer = requests.post(f"{base}/cds-services/relapsed-all", json=hook_request(bundle),
                               timeout=30)
    assert answer.status_code == 200
    assessment = answer.json()["cards"][0]["extension"][ASSESSMENT_KEY]
    # 0.5% at the end of block 1 is read (COG intermediate); unread it would stay open
    assert assessment["strata"]["cog"]["group"] == "intermediate"
