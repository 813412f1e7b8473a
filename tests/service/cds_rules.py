"""CDS Hooks 2.0 rules for cards and responses, checked the way a strict client would."""

from __future__ import annotations

import uuid
from typing import Any

INDICATORS = {"info", "warning", "critical"}
SELECTION = {"at-most-one", "any"}
ACTION_TYPES = {"create", "update", "delete"}
LINK_TYPES = {"absolute", "smart"}


def assert_no_empty(value: Any, path: str = "$") -> None:
    """No null, "", [] or {} anywhere."""
    assert value not in (None, "", [], {}), f"empty value at {path}"
    if isinstance(value, dict):
        for key, item in value.items():
            assert_no_empty(item, f"{path}.{key}")
    elif isinstance(value, list):
        for n, item in enumerate(value):
            assert_no_empty(item, f"{path}[{n}]")


def assert_coding(coding: Any, where: str, *, display: bool = False) -> None:
    assert isinstance(coding, dict), where
    assert isinstance(coding.get("code"), str), f"{where}: Coding without code"
    if display:
        assert isinstance(coding.get("display"), str), f"{where}: Coding without display"


def assert_valid_card(card: dict[str, Any]) -> None:
    assert_no_empty(card, "card")
    uuid.UUID(card["uuid"])
    summary = card["summary"]
    assert isinstance(summary, str) and 0 < len(summary) < 140, summary
    assert "\n" not in summary
    assert card["indicator"] in INDICATORS
    source = card["source"]
    assert isinstance(source["label"], str)
    if "url" in source:
        assert source["url"].startswith("https://")
    if "topic" in source:
        assert_coding(source["topic"], "source.topic")
    if "detail" in card:
        assert isinstance(card["detail"], str)
    suggestions = card.get("suggestions")
    if suggestions:
        assert card["selectionBehavior"] in SELECTION, "selectionBehavior required"
        if card["selectionBehavior"] == "at-most-one":
            assert sum(len(s.get("actions", [])) for s in suggestions) <= 1
        for suggestion in suggestions:
            assert isinstance(suggestion["label"], str)
            uuid.UUID(suggestion["uuid"])
            for action in suggestion.get("actions", []):
                assert action["type"] in ACTION_TYPES
                assert isinstance(action["description"], str)
                if action["type"] in ("create", "update"):
                    assert isinstance(action["resource"]["resourceType"], str)
                else:
                    assert isinstance(action["resourceId"], list | str)
    else:
        assert "selectionBehavior" not in card
    for reason in card.get("overrideReasons", []):
        assert_coding(reason, "overrideReasons", display=True)
    for link in card.get("links", []):
        assert link["type"] in LINK_TYPES and link["label"] and link["url"]
        assert "appContext" not in link or link["type"] == "smart"


def assert_valid_response(body: Any) -> list[dict[str, Any]]:
    """A valid CDS Hooks response; its cards."""
    assert isinstance(body, dict) and isinstance(body.get("cards"), list)
    assert set(body) <= {"cards", "systemActions"}
    if body["cards"]:
        assert_no_empty(body)
    for card in body["cards"]:
        assert_valid_card(card)
    return body["cards"]
