"""Order checks: the §6 safety rules (CLINICAL_RULES.md) run on the orders being written, for the
CDS Hooks ``order-select`` and ``order-sign`` hooks and for draft orders in replayed bundles.

``services`` declares the two services; ``drafts`` reads the draft orders and turns them into
planned therapy; ``checks`` is the reviewable table (one row per §6 check: indicator, override
reasons, the fix, safer alternatives); ``evaluate`` runs the engine and attributes its §6
warnings to the drafts; ``cards`` renders one card per problem.
"""
