"""The four pediatric first-relapse risk schemes, one decision table each (CLINICAL_RULES §2).

``SCHEMES`` is the one list the engine loops over: a new scheme is a new module ending with its
``SCHEME`` (``registry.Scheme``) and one entry here.
"""

from __future__ import annotations

from service.engine.schemes import bfm, cog, ibfm, ukall
from service.engine.schemes.registry import Scheme

SCHEMES: tuple[Scheme, ...] = (bfm.SCHEME, ukall.SCHEME, ibfm.SCHEME, cog.SCHEME)
SCHEME_IDS = tuple(s.id for s in SCHEMES)
