"""The project's own text files hold no merge conflict markers: docs/OUTPUT.md once shipped
both sides of a merge, and a reader could not tell which section was meant."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEXT_SUFFIXES = {".md", ".py", ".yaml", ".yml", ".toml", ".txt", ".cfg", ".html", ".js", ".json"}
NOT_OURS = {".git", ".venv", "node_modules", "results", "__pycache__", ".mypy_cache",
            ".ruff_cache", ".pytest_cache", ".hypothesis"}
# the two ends of a conflict ("=======" alone may underline a heading)
CONFLICT_MARKER = re.compile(r"^(<{7}|>{7}) ", re.MULTILINE)


def _our_text_files() -> list[Path]:
    return [path for path in ROOT.rglob("*")
            if path.suffix in TEXT_SUFFIXES and path.is_file()
            and not NOT_OURS & set(path.relative_to(ROOT).parts)]


def test_no_file_holds_a_merge_conflict_marker() -> None:
    files = _our_text_files()
    assert any(path.name == "OUTPUT.md" for path in files)  # the walk reaches the docs
    marked = [str(path.relative_to(ROOT)) for path in files
              if CONFLICT_MARKER.search(path.read_text(encoding="utf-8", errors="replace"))]
    assert marked == []
