"""Checks on what providers enter: values far out of line with their own recent periods, and evidence files.

A warning here never stops a draft being saved: it asks the person to confirm or correct the value, and a
return cannot be submitted while a warning is neither confirmed nor corrected.
"""

from __future__ import annotations

from standards.kinds import RequirementKind, figure, figure_text

#: A percentage this many points away from the average of recent periods is unusual.
PERCENTAGE_POINTS = 20
#: A count this many times the largest recent count (and at least ``COUNT_MINIMUM_JUMP`` more) is unusual.
COUNT_FACTOR = 3
COUNT_MINIMUM_JUMP = 10


def unusual_value_warning(kind: str, values: dict, recent: list) -> str:
    """A plain-English warning when ``values`` are far out of line with ``recent`` [(period, values)], else ""."""
    new = figure(kind, values)
    history = [(period, figure(kind, old)) for period, old in recent]
    history = [(period, value) for period, value in history if value is not None]
    if new is None or not history:
        return ""
    past = [value for _, value in history]
    if kind == RequirementKind.COUNT:
        largest = max(past)
        unusual = new >= largest * COUNT_FACTOR and new - largest >= COUNT_MINIMUM_JUMP
    else:
        average = sum(past) / len(past)
        unusual = abs(new - average) >= PERCENTAGE_POINTS
    if not unusual:
        return ""
    earlier = ", ".join(f"{figure_text(kind, value)} in {period.label.split(' (')[0]}" for period, value in history)
    return (
        f"This comes to {figure_text(kind, new)}, far from your recent figures ({earlier}). Check the numbers; if they "
        "are right, confirm them."
    )
