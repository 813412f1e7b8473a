"""A card's uuid is the version-5 uuid of the hook instance, the card type and the card's content
as sorted JSON, so a repeated call gives the same uuids; ``uuid5_text`` makes it without the
``uuid.UUID`` object and must give exactly what the standard library gives."""

from __future__ import annotations

import json
import uuid

from hypothesis import example, given
from hypothesis import strategies as st

from service.cards.card import UUID_NAMESPACE, finish, uuid5_text


@given(st.text())
@example("")
@example("hook\nsummary\n{\"detail\": \"→ café ≥ 2 \\ud800\"}")
def test_uuid5_text_is_the_standard_uuid5(name: str) -> None:
    assert uuid5_text(name) == str(uuid.uuid5(UUID_NAMESPACE, name))


def test_a_card_uuid_rests_on_the_hook_instance_the_kind_and_the_whole_content() -> None:
    def card(detail: str) -> dict[str, object]:
        return {"summary": "S", "detail": detail, "source": {"label": "L"},
                "suggestions": [{"label": "a"}, {"label": "b"}]}

    content = json.dumps(card("d → é"), sort_keys=True, ensure_ascii=False)
    rendered = finish("recommendation/x", card("d → é"), "hook-1").card
    expected = uuid.uuid5(UUID_NAMESPACE, f"hook-1\nrecommendation/x\n{content}")
    assert rendered["uuid"] == str(expected)
    assert [s["uuid"] for s in rendered["suggestions"]] == [
        str(uuid.uuid5(UUID_NAMESPACE, f"{expected}\n{n}")) for n in range(2)]
    assert finish("recommendation/x", card("d → é"), "hook-2").card["uuid"] != str(expected)
    assert finish("recommendation/x", card("d → e"), "hook-1").card["uuid"] != str(expected)
