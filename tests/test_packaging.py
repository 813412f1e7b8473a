"""The wheel a hospital installs carries the default code maps and the schemas inside the package,
so the service starts outside this repository (``service/code_maps`` links to ``mappings/``)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_carries_every_code_map_and_the_schema(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(tmp_path), str(ROOT)], check=True, capture_output=True,
                   timeout=300)
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    maps = {f"service/code_maps/{p.name}" for p in (ROOT / "mappings").glob("*.yaml")}
    assert maps and maps <= names, sorted(maps - names)
    assert {"service/schemas/assessment.schema.json", "service/schemas/openapi.json"} <= names


def test_the_default_maps_are_found_inside_the_package() -> None:
    from service.mapping import DEFAULT_MAPPINGS_DIR

    assert str(DEFAULT_MAPPINGS_DIR).endswith("service/code_maps")
    assert sorted(p.name for p in DEFAULT_MAPPINGS_DIR.iterdir() if p.name.endswith(".yaml")) == sorted(
        p.name for p in (ROOT / "mappings").glob("*.yaml"))
