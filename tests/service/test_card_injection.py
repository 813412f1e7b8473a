"""Input text in cards: whatever a field of the request holds (ids, units, dates, codes, free
text), it shows as text in the card's markdown: no link, no image, no HTML, no broken table.

Every string field of a realistic request is sent, one at a time, with a payload of markup
appended; each card's ``detail`` is then rendered by GitHub's own renderer (cmark-gfm, raw HTML
allowed, as a careless EHR might) and by markdown-it with link detection on.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

import cmarkgfm
import pytest
from cds_harness import SandboxClient, Signer, serve
from cmarkgfm.cmark import Options
from conftest import load
from markdown_it import MarkdownIt
from test_hooks_protocol import full_prefetch

from service.cards.records import Record
from service.hooks.discovery import SERVICE_ID
from service.render import render_cards
from service.sources import SOURCES

PATIENT = "pt-relapse-1"
PAYLOAD = (" [x](javascript:alert(1)) <script>alert(2)</script> <img src=x onerror=alert(3)>"
           " `tick` ``double`` | pipe | ![i](https://evil.example/i.png) www.evil.example"
           " https://evil.example/a mail@evil.example &lt;b&gt; *em* _em_ # head \n- item")
ALLOWED_LINKS = {s.url for s in SOURCES.values()}
LINKIFY = MarkdownIt("gfm-like", {"linkify": True, "html": True})
UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def string_fields(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key != "resourceType":
                yield from string_fields(item, (*path, key))
    elif isinstance(value, list):
        for n, item in enumerate(value):
            yield from string_fields(item, (*path, n))
    elif isinstance(value, str):
        yield path


def with_payload(prefetch: dict[str, Any], path: tuple[Any, ...]) -> dict[str, Any]:
    changed = copy.deepcopy(prefetch)
    parent: Any = changed
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] += PAYLOAD
    return changed


def assert_inert(detail: str) -> None:
    for html in (cmarkgfm.github_flavored_markdown_to_html(detail,
                                                          options=Options.CMARK_OPT_UNSAFE),
                 LINKIFY.render(detail)):
        assert set(re.findall(r'<a href="([^"]*)"', html)) <= ALLOWED_LINKS, html
        for tag in ("<script", "<img", "<b>", "<em>", "<h1", "<code>tick"):
            assert tag not in html, (tag, html)
    lines = [line for line in detail.splitlines() if line.startswith("|")]
    for table_line in lines:  # every row of a table has as many cells as the table's header
        assert len(UNESCAPED_PIPE.findall(table_line)) in {
            len(UNESCAPED_PIPE.findall(other)) for other in lines}, table_line


@pytest.fixture()
def client(app: Any, signer: Signer) -> Iterator[SandboxClient]:
    with serve(app) as base:
        yield SandboxClient(base, signer)


def test_no_field_of_the_request_can_put_markup_into_a_card(client: SandboxClient) -> None:
    prefetch = full_prefetch()
    fields = list(string_fields(prefetch))
    reached = []
    for path in fields:
        response = client.call(SERVICE_ID, client.request_body(PATIENT,
                                                               with_payload(prefetch, path)))
        assert response.status_code in (200, 412), (path, response.text[:300])
        for card in response.json().get("cards", []):
            assert_inert(card.get("detail", ""))
            assert "<script" not in card["summary"]
            if "javascript" in card.get("detail", ""):
                reached.append(path)
    # cards show labels, values and dates: no string of the request (ids, free text) reaches
    # them any more; the text that could (record descriptions, data problems) is tested below
    assert reached == []


def test_the_payload_is_shown_as_text() -> None:
    """Texts a card takes from the record (what a record held, why one was not used) show the
    payload as text, whatever it holds."""
    data = load("assessment_sample.json")
    data["problems"] = [{"ref": "Observation/x", "problem": f"status '{PAYLOAD}' not understood"}]
    records = {"Condition/relapse-1": Record(f"relapse{PAYLOAD}", "2021-07-15")}
    details = [r.card["detail"] for r in render_cards(data, "hook", "Patient/p", records)]
    for detail in details:
        assert_inert(detail)
    text = re.sub("<[^>]+>", "", cmarkgfm.github_flavored_markdown_to_html(" ".join(details)))
    assert text.count("[x](javascript:alert(1))") >= 2 and "&lt;script&gt;alert(2)" in text
