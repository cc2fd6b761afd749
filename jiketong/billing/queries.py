"""Billing reads. Import runs belong to the people who may import; points are read through the customer's scope."""

from pathlib import Path

from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from jiketong.org.models import can

from .models import CustomerMonth, ImportRun, PointsLedger
from .services import IMPORT_ROLES, require_import

STATEMENT_MONTHS = 24


def import_runs(user) -> QuerySet[ImportRun]:
    require_import(user)
    return ImportRun.objects.select_related("created_by")


def import_run_get(user, pk: int) -> ImportRun:
    """A run, or 404 for anyone who may not import (the same answer as a run that does not exist)."""
    if not can(user, IMPORT_ROLES):
        raise Http404(_("No such import."))
    return get_object_or_404(ImportRun.objects.select_related("created_by"), pk=pk)


def error_report(user, pk: int) -> tuple[ImportRun, Path]:
    run = import_run_get(user, pk)
    path = Path(run.error_path) if run.error_path else None
    if path is None or not path.is_file():
        raise Http404(_("This import has no error report."))
    return run, path


def points_of(user, customer_id: int) -> QuerySet[PointsLedger]:
    """The customer's points statement, newest month first (empty for a customer out of scope)."""
    return PointsLedger.objects.visible_to(user).filter(customer_id=customer_id).order_by("-period")


def points_summary(user, customer_id: int) -> PointsLedger | None:
    """The latest month: balance, cumulative spend and tier. One query."""
    return points_of(user, customer_id).first()


def recent_months(user, customer_id: int, months: int = 12) -> list[CustomerMonth]:
    """The customer's latest billed months, newest first: one query."""
    return list(CustomerMonth.objects.visible_to(user).filter(customer_id=customer_id).order_by("-period")[:months])
