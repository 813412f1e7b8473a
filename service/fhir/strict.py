"""Full structural validation with ``fhir.resources`` (R4B models; its defaults are R5).

About 30× the cost of the JSON parse (STACK_NOTES.md): used by ``replay --strict`` and by the
tests on the fixtures, not on the live request path.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError


class InvalidFhir(ValueError):
    """What is wrong and where, without the offending values (they may be patient data)."""


def validate_bundle(bundle: dict[str, Any]) -> None:
    from fhir.resources.R4B.bundle import Bundle  # imported here: ~1 s, strict mode only

    try:
        Bundle.model_validate(bundle)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        shown = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors[:5])
        more = f" (+{len(errors) - 5} more)" if len(errors) > 5 else ""
        raise InvalidFhir(f"not valid FHIR R4: {shown}{more}") from None
    except KeyError as exc:  # an entry with an unknown resourceType (STACK_NOTES.md)
        raise InvalidFhir(f"not valid FHIR R4: unknown resourceType {exc}") from None
