"""``relapsed-all-cds replay --cards``: a bundle's draft MedicationRequests (intent order or plan)
are checked as draft orders, as order-sign checks them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import order_patients as op


def _replay_cards(tmp_path: Path, *drafts: dict[str, Any]) -> list[dict[str, Any]]:
    bundle = op.PATIENTS["ord-cns"]
    bundle = {**bundle, "entry": [*bundle["entry"], *({"resource": d} for d in drafts)]}
    path = tmp_path / "with-drafts.json"
    path.write_text(json.dumps(bundle))
    run = subprocess.run([sys.executable, "-m", "service", "replay", "--cards", str(path)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    cards: list[dict[str, Any]] = json.loads(run.stdout)["cards"]
    return cards


def _order_cards(cards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for c in cards if str(c["source"]["topic"]["code"]).startswith("order-check/")]


def test_a_draft_in_a_replayed_bundle_gets_its_order_card(tmp_path: Path) -> None:
    draft = op.blinatumomab("ord-cns")
    draft["intent"] = "plan"
    [card] = _order_cards(_replay_cards(tmp_path, draft))
    assert card["indicator"] == "critical"
    assert card["source"]["topic"]["code"] == "order-check/blinatumomab-cns-disease"
    actions = [a for s in card["suggestions"] for a in s["actions"]]
    assert actions[0] == {"type": "delete", "description": "Remove the blinatumomab draft order",
                          "resourceId": f"MedicationRequest/{draft['id']}"}


def test_an_active_order_is_not_a_draft(tmp_path: Path) -> None:
    active = {**op.blinatumomab("ord-cns"), "status": "active", "authoredOn": op.ago(0, 2)}
    cards = _replay_cards(tmp_path, active)
    assert _order_cards(cards) == []  # the patient-view warning still says it
    assert any(c["source"]["topic"]["code"] == "warning/blinatumomab-cns-disease"
               for c in cards)
