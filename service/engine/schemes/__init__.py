"""The four pediatric first-relapse risk schemes, one decision table each (CLINICAL_RULES §2)."""
