"""The relapse view's two charts as geometry for the SVG templates: the MRD chart (log scale,
each value with its method and date, each scheme's threshold line labelled, the end-block-1
window shaded) and the timeline. The markup is in ``templates/``; the scales in ``scales``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from service.view.model import Event, MrdPoint, RelapseView, Threshold
from service.view.scales import LogScale, TimeScale

WIDTH = 960
PLOT_LEFT, PLOT_RIGHT = 70, WIDTH - 20
MRD_TOP, MRD_BOTTOM = 20, 330
MRD_HEIGHT = MRD_BOTTOM + 50
ROW_HEIGHT = 52
CHAR_WIDTH = 6.2  # an average 10-12 px DejaVu Sans character
TIMELINE_TOP = 30
MARKERS = {"=": "circle", "<": "below", "<=": "below", ">": "above", ">=": "above"}


@dataclass(frozen=True)
class PlacedPoint:
    point: MrdPoint
    x: float
    y: float
    marker: str  # circle, below (a "<" value), above (a ">" value)
    label_y: float


@dataclass(frozen=True)
class PlacedLine:
    threshold: Threshold
    y: float


@dataclass(frozen=True)
class MrdChart:
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    x_ticks: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]
    points: list[PlacedPoint]
    lines: list[PlacedLine]
    window: tuple[float, float, str] | None  # x from, x to, its dates
    relapse_x: float | None


def mrd_chart(view: RelapseView) -> MrdChart | None:
    """The chart's geometry, or None when there is no MRD value to show."""
    if not view.mrd:
        return None
    days = [p.when for p in view.mrd]
    relapse_day = _current_relapse(view)
    if view.window is not None:
        days += [view.window.reinduction_start, view.window.end]
    if relapse_day is not None:
        days.append(relapse_day)
    time = TimeScale.around(days, PLOT_LEFT, PLOT_RIGHT)
    scale = LogScale.covering([p.fraction for p in view.mrd], MRD_TOP, MRD_BOTTOM,
                              low_exp=-6, high_exp=0)
    points = []
    for n, p in enumerate(view.mrd):
        y = scale.y(p.fraction)
        below = y < MRD_TOP + 30 or (n % 2 == 1 and y < MRD_BOTTOM - 30)
        label_y = y + 20 if below else y - 10
        points.append(PlacedPoint(p, time.x(p.when), y, MARKERS.get(p.comparator, "circle"),
                                  label_y))
    window = None
    if view.window is not None:
        window = (time.x(view.window.start), time.x(view.window.end),
                  f"{view.window.start.isoformat()} – {view.window.end.isoformat()}")
    return MrdChart(WIDTH, MRD_HEIGHT, PLOT_LEFT, PLOT_RIGHT, MRD_TOP, MRD_BOTTOM, time.ticks(),
                    scale.ticks(), points, [PlacedLine(t, scale.y(t.fraction))
                                            for t in view.thresholds], window,
                    time.x(relapse_day) if relapse_day else None)


def _current_relapse(view: RelapseView) -> date | None:
    relapses = [e.when for e in view.events if e.kind == "relapse" and e.when]
    return relapses[-1] if relapses else None


@dataclass(frozen=True)
class PlacedEvent:
    event: Event
    x: float
    x_end: float | None
    row: int
    y: float
    anchor_end: bool
    text: str  # the line under the label


@dataclass(frozen=True)
class Timeline:
    width: int
    height: int
    left: float
    right: float
    axis_y: float
    ticks: list[tuple[float, str]]
    events: list[PlacedEvent]


def timeline(view: RelapseView) -> Timeline | None:
    """The timeline's geometry, or None when no event has a date. Each label goes on the first
    row where it overlaps no other label (labels near the right edge extend leftwards)."""
    if not view.events:
        return None
    days = [d for e in view.events for d in (e.when, e.end) if d]
    time = TimeScale.around(days, PLOT_LEFT, PLOT_RIGHT)
    rows: list[list[tuple[float, float]]] = []
    placed = []
    for event in view.events:
        assert event.when is not None
        x = time.x(event.when)
        width = CHAR_WIDTH * max(len(event.label) * 1.15, len(_second_line(event))) + 10
        anchor_end = x + width > PLOT_RIGHT
        span = (x - width, x) if anchor_end else (x, x + width)
        row = next((n for n, taken in enumerate(rows)
                    if all(span[1] < a or span[0] > b for a, b in taken)), len(rows))
        if row == len(rows):
            rows.append([])
        rows[row].append(span)
        placed.append(PlacedEvent(event, x, time.x(event.end) if event.end else None, row,
                                  TIMELINE_TOP + row * ROW_HEIGHT, anchor_end,
                                  _second_line(event)))
    axis_y = TIMELINE_TOP + len(rows) * ROW_HEIGHT + 10
    return Timeline(WIDTH, int(axis_y + 30), PLOT_LEFT, PLOT_RIGHT, axis_y, time.ticks(), placed)


def _second_line(event: Event) -> str:
    """The date (as recorded), the end of a span, and the detail shortened."""
    text = event.when_text or (event.when.isoformat() if event.when else "")
    if event.end:
        text += f" – {event.end.isoformat()}"
    if event.detail and event.kind != "frontline":
        detail = event.detail if len(event.detail) <= 28 else event.detail[:27] + "…"
        text += f": {detail}"
    return text
