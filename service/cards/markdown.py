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
# What the characters escaped wherever they are become.
ESCAPED_ALWAYS = {**{char: "\\" + char for char in ALWAYS_ESCAPED}, "@": AT}
# The characters md() may change: only these are looked at one by one.
MAY_ESCAPE = re.compile("[" + re.escape("".join(sorted(ALWAYS_ESCAPED | TOKEN_ESCAPED))) + "@]")


def md(value: Any) -> str:
    """``value`` as inline markdown that shows exactly its text, on one line."""
    text = _one_line(str(value))
    if MAY_ESCAPE.search(text):  # most values hold nothing to escape: no call per character
        text = MAY_ESCAPE.sub(_escaped, text)
    start = LINE_START.match(text)  # the pattern is anchored: the text's start or nowhere
    if start:
        number, mark = start.group(1) or "", start.group(2) or start.group(3)
        text = f"{number}\\{mark}{text[start.end():]}"
    return text


def _one_line(text: str) -> str:
    """``text`` on one line: invisible characters and runs of white space as one space."""
    if not text.isprintable():  # every INVISIBLE character is unprintable: most text has none
        text = INVISIBLE.sub(" ", text)
    elif "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text  # the one printable white space is " ": nothing to join
    return " ".join(text.split())


def _escaped(match: re.Match[str]) -> str:
    """The character ``match`` found (one of MAY_ESCAPE) as markdown, in its place in the text."""
    char = match.group()
    fixed = ESCAPED_ALWAYS.get(char)
    if fixed is not None:
        return fixed
    text, n = match.string, match.start()
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
    text = _one_line(str(value)) or " "
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    return f"{fence} {text} {fence}"
