"""The files of a Bulk Data export, and their lines in numbered chunks.

An export is a folder (its manifest's ``output`` files, matched by name, or else every
``*.ndjson`` and ``*.ndjson.gz`` in it), a manifest file, or NDJSON files given one by one.
Paths may be local or any URL fsspec opens (e.g. ``s3://``), so Dask workers can read them.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import fsspec

SUFFIXES = (".ndjson", ".ndjson.gz")
CHUNK_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class ExportFile:
    index: int
    name: str  # the file's name, as reported (file and line)
    url: str


@dataclass(frozen=True)
class Chunk:
    file: int  # ExportFile.index
    first_line: int  # the number of the chunk's first line (from 1)
    text: str  # lines joined by "\n"; a line that is not UTF-8 is replaced by NOT_UTF8


NOT_UTF8 = "\x01not UTF-8"  # never a JSON line


def _manifest(fs: Any, path: str) -> dict[str, Any] | None:
    try:
        with fs.open(path, "rt", encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("output"), list) else None


def _from_manifest(fs: Any, folder: str, manifest: dict[str, Any],
                   problems: list[str]) -> list[str]:
    present = {posixpath.basename(p): p for p in fs.ls(folder, detail=False)}
    found = []
    for item in manifest["output"]:
        url = item.get("url") if isinstance(item, dict) else None
        name = posixpath.basename(str(url).split("?")[0]) if url else ""
        match = present.get(name) or present.get(name + ".gz")
        if match:
            found.append(match)
        else:
            problems.append(f"manifest file {name or '(no url)'} not found in {folder}")
    return found


def _in_folder(fs: Any, folder: str, problems: list[str]) -> list[str]:
    listed = sorted(fs.ls(folder, detail=False))
    for path in listed:
        if path.endswith(".json") and (manifest := _manifest(fs, path)) is not None:
            return _from_manifest(fs, folder, manifest, problems)
    return [p for p in listed if p.endswith(SUFFIXES)]


def find_files(paths: Iterable[str]) -> tuple[list[ExportFile], list[str]]:
    """The export's NDJSON files (each once, in order) and the problems met finding them."""
    problems: list[str] = []
    urls: list[str] = []
    for given in paths:
        fs, path = fsspec.core.url_to_fs(given)
        protocol = given.split("://")[0] + "://" if "://" in given else ""
        if fs.isdir(path):
            found = _in_folder(fs, path, problems)
        elif path.endswith(".json") and (manifest := _manifest(fs, path)) is not None:
            found = _from_manifest(fs, posixpath.dirname(path), manifest, problems)
        elif fs.exists(path):
            found = [path]
        else:
            problems.append(f"{given}: not found")
            found = []
        urls += [protocol + p if protocol and "://" not in p else p for p in found]
    unique = list(dict.fromkeys(urls))
    return [ExportFile(i, posixpath.basename(u), u) for i, u in enumerate(unique)], problems


def _decode(block: bytes) -> str:
    try:
        return block.decode("utf-8")
    except UnicodeDecodeError:
        lines = []
        for line in block.split(b"\n"):
            try:
                lines.append(line.decode("utf-8"))
            except UnicodeDecodeError:
                lines.append(NOT_UTF8)
        return "\n".join(lines)


def chunks(file: ExportFile, chunk_bytes: int = CHUNK_BYTES) -> Iterator[Chunk]:
    """The file's lines in chunks of about ``chunk_bytes`` (gzip by the name), streamed."""
    line = 1
    rest = b""
    with fsspec.open(file.url, "rb", compression="infer") as handle:
        while True:
            block = handle.read(chunk_bytes)
            if not block:
                break
            block = rest + block
            cut = block.rfind(b"\n")
            if cut < 0:
                rest = block
                continue
            rest = block[cut + 1:]
            body = block[:cut]
            yield Chunk(file.index, line, _decode(body))
            line += body.count(b"\n") + 1
    if rest:
        yield Chunk(file.index, line, _decode(rest))
