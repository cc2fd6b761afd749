"""Geometry of the satisfaction quadrant chart, drawn as inline SVG by the template (no JavaScript)."""

from dataclasses import dataclass

from .queries import Quadrant

SIZE, MARGIN = 420, 48
LOW, HIGH = 1.0, 5.0  # the answer scale
TICKS = [1, 2, 3, 4, 5]


def _x(satisfaction: float) -> float:
    return MARGIN + (satisfaction - LOW) / (HIGH - LOW) * (SIZE - 2 * MARGIN)


def _y(importance: float) -> float:
    return SIZE - MARGIN - (importance - LOW) / (HIGH - LOW) * (SIZE - 2 * MARGIN)


@dataclass
class ChartPoint:
    x: float
    y: float
    label: str
    quadrant: str
    importance: float
    satisfaction: float


def quadrant_chart(quadrant: Quadrant) -> dict:
    """Pixel positions: satisfaction on the x axis, importance on the y axis, the thresholds as lines."""
    return {
        "size": SIZE,
        "left": MARGIN,
        "right": SIZE - MARGIN,
        "top": MARGIN,
        "bottom": SIZE - MARGIN,
        "ticks": [{"value": t, "x": _x(t), "y": _y(t)} for t in TICKS],
        "points": [
            ChartPoint(_x(p.satisfaction), _y(p.importance), p.label, p.quadrant, p.importance, p.satisfaction)
            for p in quadrant.points
        ],
        "threshold_x": None if quadrant.satisfaction_threshold is None else _x(quadrant.satisfaction_threshold),
        "threshold_y": None if quadrant.importance_threshold is None else _y(quadrant.importance_threshold),
    }
