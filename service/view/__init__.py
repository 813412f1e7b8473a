"""The relapse view: one printable, offline page per patient (timeline, MRD chart with each
scheme's thresholds, risk table, text alternatives), from the same pipeline as the cards."""

from service.view.build import page_of_bundle, page_of_resources

__all__ = ["page_of_bundle", "page_of_resources"]
