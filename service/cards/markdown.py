"""Markdown for card texts: values from the record shown as text, and one-line summaries.

Every string that is not the cards' own goes into ``detail`` through :func:`md`: it may come from
the request (units, dates, free text), and must neither form a link, an image, HTML or a table
cell break, nor change the card's layout.
"""

from __future__ import annotations

import re
from typing import Any

SUMMARY_MAX = 139  # CDS Hooks: a summary is under 140 characters

# Always escaped: emphasis, code, links and images, HTML and entities, table cells, math.
ALWAYS_ESCAPED = set("\\`*~[]<>|&!$#")
# Escaped where they would make a URL or a domain autolink ("https://…", "//host", "www.x.org",
# "javascript:…"), or where `_` would start emphasis.
TOKEN_ESCAPED = set(".:/_")
# GitHub's renderer links e-mail addresses after escapes are resolved: an invisible word joiner
# after "@" is what keeps "a@b.org" text.
AT = "@\u2060"
LINE_START = re.compile(r"^(\d{1,9})([.)])(?=\s|$)|^([-+=])(?=\s|$)")  # list items, setext lines
# Line breaks, other control characters, and bidirectional overrides that reorder what is shown.
INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# The characters md() may change: only these are looked at one by one.
MAY_ESCAPE = re.compile("[" + re.escape("".join(sorted(ALWAYS_ESCAPED | TOKEN_ESCAPED))) + "@]")


def md(value: Any) -> str:
    """``value`` as inline markdown that shows exactly its text, on one line."""
    text = " ".join(INVISIBLE.sub(" ", str(value)).split())
    escaped = MAY_ESCAPE.sub(lambda m: _escaped(text, m.start()), text)
    return LINE_START.sub(lambda m: (m.group(1) or "") + "\\" + (m.group(2) or m.group(3)),
                          escaped)


def _escaped(text: str, n: int) -> str:
    """The character at ``n`` of ``text`` as markdown (``text[n]`` is one of MAY_ESCAPE)."""
    char = text[n]
    if char == "@":
        return AT
    if char in ALWAYS_ESCAPED:
        return "\\" + char
    before = text[n - 1] if n else " "
    after = text[n + 1] if n + 1 < len(text) else " "
    return "\\" + char if _joins(char, before, after) else char


def _joins(char: str, before: str, after: str) -> bool:
    if char == "_":
        return not (before.isalnum() and after.isalnum())  # snake_case never emphasises
    if char == "/":
        return after == "/"  # "//host" (a scheme-relative link)
    return before.isalnum() and (after.isalpha() or after == "/")


def shorten(text: str) -> str:
    """One line under 140 characters: the first sentence, or cut at a word with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= SUMMARY_MAX:
        return text
    sentence = text.split(". ")[0].rstrip(".") + "."
    if len(sentence) <= SUMMARY_MAX:
        return sentence
    return text[: SUMMARY_MAX - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def split_summary(text: str) -> tuple[str, str]:
    """A text as a card's one-line summary and the rest for its detail: the first sentence when
    it fits, else the text cut at a word (then the detail repeats the whole text)."""
    text = " ".join(text.split())
    first, _, rest = text.partition(". ")
    first = first.rstrip(".") + "."
    if len(first) <= SUMMARY_MAX:
        return first, rest
    return shorten(text), text


def code(value: Any) -> str:
    """``value`` as an inline code span (shown verbatim, never a link), on one line: the order
    cards' draft references and draft codes, which the prescriber matches to the order."""
    text = " ".join(INVISIBLE.sub(" ", str(value)).split()) or " "
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    return f"{fence} {text} {fence}"
