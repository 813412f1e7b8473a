"""CDS Hooks cards from an assessment (OUTPUT.md §2): one module per card, with the words they use
kept as data in ``labels.yaml``; ``service.render`` puts the cards together."""
