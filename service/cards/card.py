"""What every card shares: its source (the review it rests on), its links to the sources, and
its uuid derived from the hook instance and its content (a repeated call yields the same uuids).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from service.assessment import without_empty
from service.cards.labels import short_cite
from service.sources import SOURCES

CARD_TYPE_SYSTEM = "urn:relapsed-all-cds:card-type"
UUID_NAMESPACE = uuid.UUID("7a0c2f4e-9a51-4c4b-8e44-2f1d6f3c5b10")
PEDIATRIC_REVIEW, ADULT_REVIEW = "000", "004"
ADULT_POPULATIONS = ("aya", "adult")
# source.topic display: what kind of card this is (the code keeps the card type).
TOPICS = {"summary": "Summary", "warning": "Warning", "recommendation": "Recommendation",
          "missing-data": "Missing data", "assessment-failed": "Assessment failed",
          "order-check": "Order check"}
# What a card's uuid is derived from: the card as JSON with sorted keys (one encoder, made once;
# a card is a tree built here, so the encoder need not look for cycles).
CONTENT = json.JSONEncoder(sort_keys=True, ensure_ascii=False, check_circular=False)


@dataclass(frozen=True)
class RenderedCard:
    card_type: str
    card: dict[str, Any]


def finish(kind: str, card: dict[str, Any], hook_instance: str) -> RenderedCard:
    content = CONTENT.encode(card)
    card_uuid = uuid5_text(f"{hook_instance}\n{kind}\n{content}")
    for n, suggestion in enumerate(card.get("suggestions", [])):
        suggestion["uuid"] = uuid5_text(f"{card_uuid}\n{n}")
    card["source"]["topic"] = {"system": CARD_TYPE_SYSTEM, "code": kind,
                               "display": TOPICS[kind.split("/", 1)[0]]}
    return RenderedCard(kind, {"uuid": card_uuid, **without_empty(card)})


def uuid5_text(name: str) -> str:
    """``str(uuid.uuid5(UUID_NAMESPACE, name))`` without making the UUID object, which cost as
    much as hashing the card's whole content."""
    digest = bytearray(hashlib.sha1(UUID_NAMESPACE.bytes + name.encode()).digest()[:16])
    digest[6] = digest[6] & 0x0F | 0x50  # version 5
    digest[8] = digest[8] & 0x3F | 0x80  # the RFC 4122 variant
    hex_ = digest.hex()
    return f"{hex_[:8]}-{hex_[8:12]}-{hex_[12:16]}-{hex_[16:20]}-{hex_[20:]}"


def is_adult(assessment: dict[str, Any]) -> bool:
    """Adults and AYA: the adult approach (004) applies (CLINICAL_RULES §5)."""
    return assessment.get("population") in ADULT_POPULATIONS


def source(source_ids: Iterable[str], *, adult: bool) -> dict[str, Any]:
    """The card's source: for adults and AYA the adult review when the card cites it, else the
    first review cited (the pediatric review when none is)."""
    known = [s for s in source_ids if s in SOURCES] or [PEDIATRIC_REVIEW]
    chosen = SOURCES[ADULT_REVIEW if adult and ADULT_REVIEW in known else known[0]]
    return {"label": chosen.label, "url": chosen.url}


def sources_line(source_ids: Iterable[str]) -> str:
    """Every review a card cites, as links (the card's own ``source`` holds one)."""
    links = "; ".join(_source_link(s) for s in dict.fromkeys(source_ids) if s in SOURCES)
    return f"**Sources**: {links}" if links else ""


@cache  # one entry per source: the link never changes
def _source_link(seed: str) -> str:
    return f"[{short_cite(seed)}]({SOURCES[seed].url})"
