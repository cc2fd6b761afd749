"""Scope-matrix hooks (jiketong/tests_scope): the world's month is computed, so every manager of the world has a
scorecard and every unit a roll-up. The only id in the assessment's paths is a manager's (`staff_pk`, probed by
the matrix as a colleague in another province) and an org unit's (the org tree is readable by everyone; the
scorecard behind it is scoped)."""

from datetime import date

from jiketong.assessment.compute import month_compute


def populate(world, customers) -> None:
    month_compute(date(2026, 11, 1))
