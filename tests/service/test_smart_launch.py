"""The relapse view reached from the card, the SMART way, end to end: the summary card's smart
link, the EHR launch in a real browser (Debian's chromium) through a real OAuth 2 authorization
server (oidc-provider) with PKCE, the token's patient read from the project's FHIR test server
with that token, and the view served by gunicorn."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from browser import chromium, screenshot
from cds_harness import free_port, serve, start_gunicorn
from selenium.webdriver.common.by import By
from smart_harness import start_auth_server, start_smart_fhir_server

from service.hooks.example_request import hook_request

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "seed000-p1-late40-mrd-high"
PATIENT = "seed000-p1-late40-mrd-high"
CLIENT_ID = "relapsed-all-cds"
LAUNCH = "launch-7f3a"  # the EHR's opaque launch context, standing for this patient
SECRET = "fhir-server-introspection-secret"


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    port, in_process = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    with start_auth_server(CLIENT_ID, [f"{base}/smart/callback",
                                       f"http://127.0.0.1:{in_process}/smart/callback"],
                           {LAUNCH: PATIENT}, SECRET) as auth, \
            start_smart_fhir_server([FIXTURE / "bundle.json"], auth, SECRET) as fhir:
        folder = tmp_path_factory.mktemp("smart")
        env = {"RELAPSED_ALL_CDS_AUTH_ENABLED": "false", "RELAPSED_ALL_CDS_PUBLIC_BASE_URL": base,
               "RELAPSED_ALL_CDS_SMART_CLIENT_ID": CLIENT_ID,
               "RELAPSED_ALL_CDS_FHIR_SERVERS": json.dumps([fhir]),
               "RELAPSED_ALL_CDS_FHIR_ALLOW_LOOPBACK": "true",
               "RELAPSED_ALL_CDS_DATABASE_URL": f"sqlite:///{folder / 'service.sqlite3'}"}
        with start_gunicorn(env, port=port) as (url, _):
            yield {"service": url, "auth": auth, "fhir": fhir,
                   "in_process": f"http://127.0.0.1:{in_process}", "folder": str(folder)}


def summary_link(service: str) -> dict[str, Any]:
    body = hook_request(json.loads((FIXTURE / "bundle.json").read_text()))
    cards = requests.post(f"{service}/cds-services/relapsed-all", json=body, timeout=30).json()
    links: list[dict[str, Any]] = cards["cards"][0]["links"]
    assert len(links) == 1
    return links[0]


def test_card_links_to_the_smart_app(servers: dict[str, str]) -> None:
    assert summary_link(servers["service"]) == {
        "label": "Relapse view: timeline and MRD chart", "type": "smart",
        "url": f"{servers['service']}/smart/launch", "appContext": "view=relapse"}


def test_ehr_launch_shows_the_patients_relapse_view(servers: dict[str, str]) -> None:
    link = summary_link(servers["service"])
    launch_url = f"{link['url']}?{urlencode({'iss': servers['fhir'], 'launch': LAUNCH})}"
    with chromium() as browser:
        browser.get(launch_url)  # the EHR opens the app; every step after is redirects
        assert urlsplit(browser.current_url).path == "/smart/callback"
        assert browser.find_element(By.TAG_NAME, "h1").text == "Relapsed ALL: relapse view"
        assert f"Patient/{PATIENT}" in browser.find_element(By.CSS_SELECTOR, "p.meta").text
        points = browser.find_elements(By.CSS_SELECTOR, "#mrd-chart .mrd-point")
        assert [p.get_attribute("data-date") for p in points] == ["2022-07-20", "2022-08-22"]
        assert len(browser.find_elements(By.CSS_SELECTOR, "#mrd-chart .threshold")) == 2
        risk = browser.find_element(By.ID, "risk-table").text
        assert "S2" in risk and "intermediate" in risk  # the same pipeline as the cards
        screenshot(browser, "smart-launch-view")
        # going back to the callback (history, a bookmark) cannot replay the launch
        browser.refresh()
        assert "unknown or has expired" in browser.find_element(By.ID, "message").text


def test_authorization_request_uses_pkce_and_names_the_fhir_server(
        servers: dict[str, str]) -> None:
    launch = requests.get(f"{servers['service']}/smart/launch", allow_redirects=False,
                          params={"iss": servers["fhir"], "launch": LAUNCH}, timeout=10)
    assert launch.status_code == 302
    location = urlsplit(launch.headers["Location"])
    assert f"{location.scheme}://{location.netloc}" == servers["auth"]
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert query["aud"] == servers["fhir"] and query["launch"] == LAUNCH
    assert query["client_id"] == CLIENT_ID and "patient/" in query["scope"]
    assert launch.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(("params", "status", "says"), [
    ({}, 400, "needs the iss and launch parameters"),
    ({"iss": "https://evil.example/fhir", "launch": LAUNCH}, 403, "does not launch from"),
])
def test_launch_refuses_what_it_cannot_trust(servers: dict[str, str], params: dict[str, str],
                                             status: int, says: str) -> None:
    answer = requests.get(f"{servers['service']}/smart/launch", params=params,
                          allow_redirects=False, timeout=10)
    assert answer.status_code == status and says in answer.text


@pytest.mark.parametrize(("params", "says"), [
    ({"state": "forged", "code": "x"}, "unknown or has expired"),
    ({"error": "access_denied<script>"}, "refused the launch: access_denied&lt;script&gt;"),
])
def test_callback_refuses_forged_or_refused_launches(servers: dict[str, str],
                                                     params: dict[str, str], says: str) -> None:
    answer = requests.get(f"{servers['service']}/smart/callback", params=params, timeout=10)
    assert answer.status_code == 400 and says in answer.text


def test_unknown_launch_is_refused_by_the_authorization_server(servers: dict[str, str]) -> None:
    answer = requests.get(f"{servers['service']}/smart/launch", timeout=30,
                          params={"iss": servers["fhir"], "launch": "not-a-launch"})
    assert answer.status_code == 400
    assert "refused the launch: access_denied" in answer.text


def test_launch_logs_no_token_code_or_patient(servers: dict[str, str], caplog: pytest.LogCaptureFixture,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole launch in process, every logger at DEBUG (requests, urllib3, authlib too)."""
    from service.app import create_app
    from service.settings import Settings
    from service.smart import routes

    granted: list[Any] = []
    real_exchange = routes.exchange
    monkeypatch.setattr(routes, "exchange", lambda *a, **k: granted.append(real_exchange(*a, **k))
                        or granted[-1])
    app = create_app(Settings(
        auth_enabled=False, public_base_url=servers["in_process"], smart_client_id=CLIENT_ID,
        fhir_servers=[servers["fhir"]], fhir_allow_loopback=True,
        database_url=f"sqlite:///{servers['folder']}/in-process.sqlite3"))
    caplog.set_level(logging.DEBUG)
    with serve(app) as base:
        http = requests.Session()
        launch = http.get(f"{base}/smart/launch", params={"iss": servers["fhir"],
                                                          "launch": LAUNCH}, timeout=30)
    assert launch.status_code == 200 and "Relapsed ALL: relapse view" in launch.text
    assert launch.headers["Cache-Control"] == "no-store"
    code = parse_qs(urlsplit(launch.url).query)["code"][0]
    # the service's own logs and its libraries' (the test server's access log, werkzeug, is
    # not the shipped server's: gunicorn keeps no access log unless a site asks for one)
    records = [r for r in caplog.records if r.name != "werkzeug"]
    logged = " ".join(f"{r.getMessage()} {r.args}" for r in records)
    assert granted and granted[0].access_token not in logged
    assert code not in logged and PATIENT not in logged
