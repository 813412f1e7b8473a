"""``md()`` and ``code()``, the way every value from the record reaches a card's markdown, held to
their plain definitions on any text made of what they treat specially: the escapable characters,
the invisible ones, white space, digits, letters (Unicode too) and line starts.  Their shortcuts
(no escaping for text with nothing to escape, no invisible-character pass for printable text)
must never change a result; tests/service/test_card_injection.py checks what the result renders to.
"""

from __future__ import annotations

import re
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from service.cards.markdown import (
    ALWAYS_ESCAPED,
    AT,
    INVISIBLE,
    LINE_START,
    MAY_ESCAPE,
    TOKEN_ESCAPED,
    code,
    md,
)

SPECIAL = sorted(ALWAYS_ESCAPED | TOKEN_ESCAPED | {"@"})
INVISIBLES = ["\x00", "\t", "\n", "\r", "\x1f", "\x7f", "\x85", "\x9f", "\u2028", "\u2029",
              "\u202a", "\u202e", "\u2066", "\u2069"]
OTHERS = ["a", "Z", "0", "7", "é", "ß", "²", "½", "٣", "_", "-", "+", "=", ")", " ", "  ", "\xa0",
          "\u2060", "\u3000", "https", "www", "1.", "12)", "x@y"]
texts = st.lists(st.sampled_from(SPECIAL + INVISIBLES + OTHERS), max_size=16).map("".join)
values = texts | st.integers() | st.floats(allow_nan=False) | st.none() | st.booleans()


def plain_md(value: Any) -> str:
    """md() as first written: every character that may need it is judged in its text."""
    text = " ".join(INVISIBLE.sub(" ", str(value)).split())

    def escaped(n: int) -> str:
        char = text[n]
        if char == "@":
            return AT
        if char in ALWAYS_ESCAPED:
            return "\\" + char
        before = text[n - 1] if n else " "
        after = text[n + 1] if n + 1 < len(text) else " "
        if char == "_":
            joins = not (before.isalnum() and after.isalnum())
        elif char == "/":
            joins = after == "/"
        else:
            joins = before.isalnum() and (after.isalpha() or after == "/")
        return "\\" + char if joins else char

    escaped_text = MAY_ESCAPE.sub(lambda m: escaped(m.start()), text)
    return LINE_START.sub(lambda m: (m.group(1) or "") + "\\" + (m.group(2) or m.group(3)),
                          escaped_text)


@given(values)
@example("1. a_b.c https://x.org //h www.x.org a@b.org [x](y) <b> | & ! $ # ~ * ` \\")
@example("- item\u2028= \u202ex")
@example("12) \x00plain")
def test_md_gives_what_its_plain_definition_gives(value: Any) -> None:
    assert md(value) == plain_md(value)


@given(texts)
def test_code_is_one_line_of_the_text_in_a_fence_longer_than_any_run_of_backticks(text: str) -> None:
    span = code(text)
    shown = " ".join(INVISIBLE.sub(" ", text).split()) or " "
    fence = "`" * (max(map(len, re.findall("`+", shown)), default=0) + 1)
    assert span == f"{fence} {shown} {fence}"


def test_text_with_nothing_to_escape_is_only_put_on_one_line() -> None:
    assert md("BFM  timing\tlate (S2, 42% blasts)") == "BFM timing late (S2, 42% blasts)"
    assert md("1. first") == "1\\. first"
    assert md("a_b_c and _x_ at www.x.org") == "a_b_c and \\_x\\_ at www\\.x\\.org"
