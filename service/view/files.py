"""``replay --html DIR``: the relapse view of each replayed bundle, one file each, for audits."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

from service.mapping import CodeMaps
from service.view.build import page_of_bundle


def page_name(source: str) -> str:
    """A file name from the bundle's source (``dir/p1/bundle.json:3`` →
    ``dir_p1_bundle.json_3.html``): one per input, readable, never outside the folder."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", source).strip("._") + ".html"


def write_page(folder: Path, source: str, bundle: dict[str, Any], *, as_of: date | None,
               maps: CodeMaps) -> Path:
    """Write the bundle's relapse view into ``folder`` (created if needed); its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / page_name(source)
    path.write_text(page_of_bundle(bundle, as_of=as_of, maps=maps), encoding="utf-8")
    return path
