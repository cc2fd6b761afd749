"""Scheduled work of sales (`python -m jiketong jobs frequent`): lead imports whose worker died are failed;
(`jobs daily`): the kept pipeline figures are rebuilt.

A large lead file is imported by the task worker (services.run_lead_import); the leads and the run's final state
commit together, so a run still marked running when its heartbeat stopped has landed nothing: after
IMPORT_HEARTBEAT_TIMEOUT_SECONDS it is failed, its page stops polling and says to upload again.
"""

from datetime import date, datetime

from jiketong.core.imports import close_stalled

from . import pipeline
from .models import LeadImportRun


def frequent(now: datetime) -> str:
    return f"sales: {close_stalled(LeadImportRun, now)} stalled lead imports closed"


def daily(today: date) -> str:
    """The kept pipeline figures rebuilt from the opportunities (decision 0606): a customer moved by an import or
    a stage's meaning changed by an admin shows on the board by the morning."""
    return f"sales: {pipeline.refresh():,} pipeline figures kept"
