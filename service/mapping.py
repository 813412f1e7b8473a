"""Code maps: ``mappings/*.yaml`` (data, not code) loaded once into look-up tables.

Each entry says what one ``system`` + ``code`` means: ``{system, code, fact, ...attributes}``.
The default maps ship inside the package (package data, read with ``importlib.resources``). A
site adds its own codes by pointing the service at extra folders (``--mappings DIR`` or the
environment variable ``RELAPSED_ALL_CDS_MAPPINGS``, several folders separated by ``os.pathsep``),
read after the defaults. Conflicts: a site folder may add codes and repeat a code with the same
meaning, never give a known code another meaning (a site cannot silently change what a standard
code means: one code with two meanings stops the start-up, naming both places); a system alias
in a later ``systems.yaml`` replaces an earlier one. Every error (unknown fact, unknown
attribute, two meanings) stops the start-up with a message naming the file and line.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml

from service.yaml_text import compose, safe_load

# The default maps ship inside the package (``service/code_maps``, a link to the project's
# ``mappings/`` folder in the source tree; real files in an installed wheel).
DEFAULT_MAPPINGS_DIR: Traversable = resources.files("service") / "code_maps"
MAPPINGS_ENV = "RELAPSED_ALL_CDS_MAPPINGS"
SYSTEMS_FILE = "systems.yaml"

# fact → (the field of FHIR it is looked up from, the attributes an entry may carry).
# Attribute values: a tuple lists the allowed values; ``str``/``bool``/``list`` give a type.
FACTS: dict[str, tuple[str, dict[str, Any]]] = {
    "all-diagnosis": ("condition", {"lineage": ("B", "T"), "genetics": list}),
    "all-relapse": ("condition", {"lineage": ("B", "T")}),
    "all-refractory": ("condition", {}),
    "cns-leukemia": ("condition", {}),
    "hsct-history": ("condition", {}),
    "relapse-site": ("body-site", {"site": ("marrow", "cns", "testis")}),
    "result": ("result-value", {"meaning": ("positive", "negative")}),
    "gene": ("gene", {"symbol": str}),
    "change-type": ("change-type", {"type": ("fusion",)}),
    "medication": ("medication", {"agent": str, "antileukemic": bool}),
    "product": ("medication-product", {"ingredient": str}),
    "route": ("route", {"route": ("intrathecal",)}),
    "procedure": (
        "procedure",
        {"kind": ("hsct-allogeneic", "hsct-autologous", "hsct-unspecified", "radiotherapy",
                  "car-t-infusion", "orchiectomy")},
    ),
    "radiotherapy-region": ("radiotherapy-region",
                            {"region": ("cranial", "spinal", "tbi", "testis")}),
    "disease-status-value": ("disease-status-value",
                             {"meaning": ("relapse", "progression", "no-progression",
                                          "undetermined")}),
}
_UNITS = ("percent", "count", "per-ul")
for _obs in ("marrow-blasts", "pb-blasts", "csf-wbc", "csf-rbc", "csf-blasts", "cd3-count", "alc",
             "wbc", "anc", "platelets"):
    FACTS[_obs] = ("observation", {"unit": _UNITS})
for _obs in ("cns-clinical-involvement", "testicular-biopsy", "cd19", "cd22", "b-cell-recovery",
             "genetic-variant-assessment", "gene-studied", "dna-change-type", "iscn",
             "disease-status", "morphology", "immunophenotype"):
    FACTS[_obs] = ("observation", {})
FACTS["mrd"] = ("observation", {"method": ("flow", "pcr", "ngs")})
# Facts the maps know but no rule reads (blood counts): an Observation coded with one is neither
# prefetched nor extracted (about half of a long record); knowing its code keeps it from being
# reported as an unmapped result.
NOT_READ = frozenset({"wbc", "anc", "platelets", "alc"})


class MappingError(ValueError):
    """A mapping file is wrong; the message names the file and line."""


@dataclass(frozen=True)
class Concept:
    """What one code means; ``get(name, default=None)`` reads one of its attributes."""

    fact: str
    attrs: tuple[tuple[str, Any], ...] = ()
    where: str = ""
    get: Callable[..., Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # the attributes' own dict.get: read without a Python call (extraction reads ~2 a resource)
        object.__setattr__(self, "get", dict(self.attrs).get)


@dataclass
class CodeMaps:
    """Look-up tables, one per role (the FHIR field a code is read from)."""

    tables: dict[str, dict[tuple[str, str], Concept]] = field(default_factory=dict)
    sources: tuple[str, ...] = ()

    def find(self, role: str, system: object, code: object) -> Concept | None:
        """What ``system`` + ``code`` means for a role (a trailing ``/`` on the system is
        ignored), or None."""
        table = self.tables.get(role)
        if table is None or not isinstance(system, str) or not isinstance(code, str):
            return None
        found = table.get((system, code))
        if found is None and system.endswith("/"):  # the tables hold systems without it
            found = table.get((system.rstrip("/"), code))
        return found

    def lookup(self, role: str, codings: Iterable[dict[str, Any]] | None) -> Concept | None:
        """The first coding of ``codings`` that the maps know, for the given role."""
        for coding in codings or ():
            if isinstance(coding, dict):
                concept = self.find(role, coding.get("system"), coding.get("code"))
                if concept is not None:
                    return concept
        return None

    def codes_for(self, role: str) -> list[tuple[str, str]]:
        """Every (system, code) known for a role whose fact some rule reads, for narrowing FHIR
        searches (the prefetch)."""
        return sorted(key for key, concept in self.tables.get(role, {}).items()
                      if concept.fact not in NOT_READ)


def _line_of(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _load_systems(folders: Sequence[Traversable]) -> dict[str, str]:
    systems: dict[str, str] = {}
    for folder in folders:
        path = folder / SYSTEMS_FILE
        if path.is_file():
            data = safe_load(path.read_text(encoding="utf-8")) or {}
            if not isinstance(data, dict):
                raise MappingError(f"{path}:1: expected 'alias: system-uri' lines")
            systems.update({str(k): str(v) for k, v in data.items()})
    return systems


def _check_attrs(fact: str, attrs: dict[str, Any], where: str) -> None:
    allowed = FACTS[fact][1]
    for name, value in attrs.items():
        if name not in allowed:
            raise MappingError(f"{where}: fact '{fact}' has no attribute '{name}'")
        rule = allowed[name]
        if isinstance(rule, tuple):
            ok = value in rule
        elif rule is list:
            ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        else:
            ok = isinstance(value, rule)
        if not ok:
            raise MappingError(f"{where}: '{name}: {value!r}' is not allowed for fact '{fact}'")


def _entries(path: Traversable) -> Iterable[tuple[dict[str, Any], str]]:
    try:
        root = compose(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise MappingError(f"{path}:{line}: not valid YAML ({getattr(exc, 'problem', exc)})") from exc
    if root is None:
        return
    if not isinstance(root, yaml.SequenceNode):
        raise MappingError(f"{path}:{_line_of(root)}: expected a list of entries")
    constructor = yaml.SafeLoader("")  # one per file: each document it builds leaves it as new
    for node in root.value:
        where = f"{path}:{_line_of(node)}"
        entry = constructor.construct_document(node)
        if not isinstance(entry, dict):
            raise MappingError(f"{where}: an entry must be a mapping with system, code and fact")
        yield entry, where


def _concept(entry: dict[str, Any], where: str, systems: dict[str, str]) -> tuple[str, str, Concept]:
    missing = [k for k in ("system", "code", "fact") if k not in entry]
    if missing:
        raise MappingError(f"{where}: missing {', '.join(missing)}")
    fact = str(entry["fact"])
    if fact not in FACTS:
        raise MappingError(f"{where}: unknown fact '{fact}' (known: {', '.join(sorted(FACTS))})")
    system = str(entry["system"])
    system = systems.get(system, system).rstrip("/")
    if ":" not in system:
        raise MappingError(f"{where}: unknown system alias '{entry['system']}'")
    attrs = {k: v for k, v in entry.items() if k not in ("system", "code", "fact")}
    _check_attrs(fact, attrs, where)
    frozen = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in attrs.items()))
    return system, str(entry["code"]), Concept(fact, frozen, where)


def configured_folders(extra: Sequence[str | Path] = ()) -> list[Traversable]:
    """The default folder, then those in the environment variable, then ``extra``."""
    folders = [DEFAULT_MAPPINGS_DIR]
    env = os.environ.get(MAPPINGS_ENV, "")
    folders += [Path(p) for p in env.split(os.pathsep) if p]
    folders += [Path(p) for p in extra]
    return folders


def load_code_maps(folders: Sequence[str | Traversable] | None = None) -> CodeMaps:
    """Load and check every ``*.yaml`` in the folders (later folders add codes)."""
    paths = [Path(f) if isinstance(f, str) else f
             for f in (folders if folders is not None else configured_folders())]
    for folder in paths:
        if not folder.is_dir():
            raise MappingError(f"{folder}: mappings folder not found")
    systems = _load_systems(paths)
    maps = CodeMaps(sources=tuple(str(p) for p in paths))
    for folder in paths:
        for path in sorted((p for p in folder.iterdir() if p.name.endswith((".yaml", ".yml"))),
                           key=lambda p: p.name):
            if path.name == SYSTEMS_FILE:
                continue
            for entry, where in _entries(path):
                system, code, concept = _concept(entry, where, systems)
                role = FACTS[concept.fact][0]
                table = maps.tables.setdefault(role, {})
                known = table.get((system, code))
                if known is not None and (known.fact, known.attrs) != (concept.fact, concept.attrs):
                    raise MappingError(
                        f"{where}: {system}|{code} already means '{known.fact}' "
                        f"{dict(known.attrs)} at {known.where}"
                    )
                table[(system, code)] = concept
    _resolve_products(maps)
    return maps


def _resolve_products(maps: CodeMaps) -> None:
    """Turn product → ingredient rows into medication concepts of the ingredient's agent."""
    medications = maps.tables.setdefault("medication", {})
    for (system, code), product in maps.tables.pop("medication-product", {}).items():
        ingredient = medications.get((system, str(product.get("ingredient"))))
        if ingredient is None:
            raise MappingError(
                f"{product.where}: ingredient {product.get('ingredient')} is not in the medication map"
            )
        known = medications.get((system, code))
        if known is not None and known.attrs != ingredient.attrs:
            raise MappingError(f"{product.where}: {system}|{code} already means {dict(known.attrs)}")
        medications[(system, code)] = Concept(ingredient.fact, ingredient.attrs, product.where)


_DEFAULT: CodeMaps | None = None


def default_code_maps() -> CodeMaps:
    """The maps from the configured folders, loaded once per process."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = load_code_maps()
    return _DEFAULT
