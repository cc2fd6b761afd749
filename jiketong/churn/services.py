"""Writes of the churn app: the nightly scoring and the one-click retention task."""

import json
from datetime import date, timedelta

import numpy as np
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jiketong.core.bulk import Writer
from jiketong.work.models import TaskKind, TaskPriority
from jiketong.work.services import task_create

from . import features, model, queries, rules
from .models import ChurnModel, ChurnScore, RiskLevel, Scorer

RETENTION_DUE_DAYS = 7
SCORE_FIELDS = ["customer", "scored_on", "score", "risk", "reasons", "flags", "model_version"]
WRITE_CHUNK = 20_000


def scoring_month(today: date) -> date:
    """The latest billed month before today's month (this month's bill is not in yet); without billing,
    last month."""
    months = model.billed_months()
    current = today.replace(day=1)
    earlier = [m for m in months if m < current]
    return earlier[-1] if earlier else features.add_months(today, -1)


def scores_for(table: features.FeatureTable, churn_model: ChurnModel | None) -> tuple[np.ndarray, np.ndarray, str]:
    """(scores 0–100, risk levels, model version) of every row, by the kept scorer (rules without one)."""
    conf = rules.config()
    if churn_model is None or churn_model.winner == Scorer.RULES:
        scores = rules.evaluate(table, conf).score.astype(float)
        high, medium = conf["high_from"], conf["medium_from"]
        version = churn_model.version if churn_model else "rules"
    else:
        fitted = model.load(churn_model)
        with model.one_thread():
            probabilities = fitted.predict_proba(model.combine(*table.matrix()))[:, 1] if len(table) else np.zeros(0)
        scores = model.percentile_scores(probabilities, churn_model.metrics["quantiles"])
        high, medium = model.MODEL_HIGH_FROM, model.MODEL_MEDIUM_FROM
        version = churn_model.version
    risk = np.where(scores >= high, RiskLevel.HIGH, np.where(scores >= medium, RiskLevel.MEDIUM, RiskLevel.LOW))
    return np.rint(scores).astype(int), risk, version


def score_all(today: date) -> int:
    """Score every in-service customer as of today and replace the stored scores in one transaction
    (readers see yesterday's scores until it commits; running it twice gives the same rows)."""
    table = features.build(scoring_month(today), on_date=today)
    churn_model = ChurnModel.objects.first()
    scores, risk, version = scores_for(table, churn_model)
    conf = rules.config()
    found = rules.evaluate(table, conf)
    with transaction.atomic():
        ChurnScore.objects.all().delete()  # one DELETE: nothing points at a score
        rows = []
        for i, customer_id in enumerate(table.ids.tolist()):
            reasons = rules.reasons_at(table, found, i, conf) if found.flags[i] else []
            rows.append(
                (customer_id, today, int(scores[i]), str(risk[i]), json.dumps(reasons), int(found.flags[i]), version)
            )
            if len(rows) == WRITE_CHUNK:
                _write(rows)
                rows = []
        _write(rows)
    return len(table)


def _write(rows: list[tuple]) -> None:
    Writer().write(ChurnScore, SCORE_FIELDS, rows)


def retention_task_create(*, actor, customer):
    """One click: a retention task for the customer's manager, with the latest reasons in its note. A
    customer that already has an open retention task keeps that one (returned, `created` False)."""
    with transaction.atomic():
        # Lock the customer row so two clicks at once cannot both find no open task.
        type(customer).objects.select_for_update().filter(pk=customer.pk).first()
        existing = queries.open_retention_tasks().filter(customer=customer).first()
        if existing:
            return existing, False
        score = ChurnScore.objects.filter(customer=customer).first()
        owner = customer.owner or customer.backup_owner
        if owner is None:
            raise ValidationError({"owner": [_("This customer has no customer manager to give the task to.")]})
        note = "\n".join(rules.describe(reason) for reason in (score.reasons if score else []))
        task = task_create(
            actor,
            owner=owner,
            title=_("Retain %(customer)s") % {"customer": customer.name},
            due_on=timezone.localdate() + timedelta(days=RETENTION_DUE_DAYS),
            priority=TaskPriority.HIGH if score and score.risk == RiskLevel.HIGH else TaskPriority.NORMAL,
            kind=TaskKind.RETENTION,
            customer=customer,
            note=note,
        )
        return task, True
