"""Feedback over real HTTP: validated, stored once per delivery, reported per card type."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from typing import Any

import pytest
from cds_harness import SandboxClient, Signer, assessed_by, serve
from conftest import load
from test_hooks_protocol import full_prefetch

from service.cli_server import add_server_commands
from service.hooks.discovery import SERVICE_ID
from service.hooks.feedback import FeedbackStore
from service.settings import Settings

PATIENT = "pt-relapse-1"
STAMP = "2024-03-01T10:15:00Z"


@pytest.fixture()
def client(app: Any, signer: Signer, monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxClient]:
    sample = load("assessment_sample.json")
    assessed_by(monkeypatch, lambda r: sample)
    with serve(app) as base:
        yield SandboxClient(base, signer)


def cards_for(client: SandboxClient) -> list[dict[str, Any]]:
    response = client.call(SERVICE_ID, client.request_body(PATIENT, full_prefetch()))
    assert response.status_code == 200
    cards: list[dict[str, Any]] = response.json()["cards"]
    return cards


def accepted(card: dict[str, Any]) -> dict[str, Any]:
    return {"card": card["uuid"], "outcome": "accepted", "outcomeTimestamp": STAMP,
            "acceptedSuggestions": [{"id": card["suggestions"][0]["uuid"]}]}


def overridden(card: dict[str, Any], reason: int = 0) -> dict[str, Any]:
    return {"card": card["uuid"], "outcome": "overridden", "outcomeTimestamp": STAMP,
            "overrideReason": {"reason": card["overrideReasons"][reason],
                               "userComment": "Mother asked us to wait (Alma Testchild)"}}


def report(settings: Settings) -> dict[str, Any]:
    return FeedbackStore(settings.database_url).report()


def test_feedback_is_stored_once_and_reported_per_card_type(client: SandboxClient,
                                                            settings: Settings) -> None:
    cards = cards_for(client)
    mrd = next(c for c in cards if c["source"]["topic"]["code"] == "recommendation/mrd-assessment")
    warning = next(c for c in cards if c["source"]["topic"]["code"] == "warning/timing-discordance")
    batch = [accepted(mrd), overridden(warning, 1)]
    for _ in range(2):  # a repeated delivery
        response = client.feedback(SERVICE_ID, batch)
        assert response.status_code == 200, response.text
    summary = report(settings)
    assert summary["recommendation/mrd-assessment"]["accepted"] == 1
    row = summary["warning/timing-discordance"]
    assert row["overridden"] == 1 and row["override_reasons"][0]["code"] == "record-incorrect"
    assert row["override_reasons"][0]["display"] == warning["overrideReasons"][1]["display"]
    stored = str(FeedbackStore(settings.database_url).engine.connect().exec_driver_sql(
        "select * from feedback").all())
    assert "Alma" not in stored  # the free-text comment is not kept


def test_repeated_call_issues_the_same_card_uuids(client: SandboxClient) -> None:
    body = client.request_body(PATIENT, full_prefetch())
    first = client.call(SERVICE_ID, body).json()["cards"]
    again = client.call(SERVICE_ID, body).json()["cards"]
    assert [c["uuid"] for c in first] == [c["uuid"] for c in again]


def test_feedback_for_an_unknown_card_is_stored_as_unknown(client: SandboxClient,
                                                           settings: Settings) -> None:
    item = {"card": "6b0f2a8e-0000-4000-8000-000000000000", "outcome": "overridden",
            "outcomeTimestamp": STAMP}
    assert client.feedback(SERVICE_ID, [item]).status_code == 200
    assert report(settings)["unknown"]["overridden"] == 1


@pytest.mark.parametrize("items", [
    [], [{"card": "x", "outcome": "maybe", "outcomeTimestamp": STAMP}],
    [{"card": "x", "outcome": "accepted", "outcomeTimestamp": STAMP}],
    [{"card": "x", "outcome": "overridden"}],
    [{"card": "x", "outcome": "overridden", "outcomeTimestamp": "yesterday"}],
    [{"outcome": "overridden", "outcomeTimestamp": STAMP}],
    [{"card": "x", "outcome": "overridden", "outcomeTimestamp": STAMP,
      "overrideReason": {"reason": {"display": "no code"}}}],
    ["not an object"],
])
def test_invalid_feedback_is_400(client: SandboxClient, items: list[Any]) -> None:
    response = client.feedback(SERVICE_ID, items)
    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"


def test_feedback_to_an_unknown_service_is_404(client: SandboxClient) -> None:
    assert client.feedback("nope", [{"card": "x", "outcome": "overridden",
                                     "outcomeTimestamp": STAMP}]).status_code == 404


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_server_commands(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_feedback_report_command(client: SandboxClient, settings: Settings,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    cards = cards_for(client)
    warning = next(c for c in cards if c["source"]["topic"]["code"].startswith("warning/"))
    client.feedback(SERVICE_ID, [overridden(warning)])
    args = parse(["feedback-report", "--database-url", settings.database_url])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert warning["source"]["topic"]["code"] in out and "Already addressed" in out
    args = parse(["feedback-report", "--database-url", settings.database_url, "--json"])
    assert args.func(args) == 0
    assert json.loads(capsys.readouterr().out)[warning["source"]["topic"]["code"]]["overridden"]
