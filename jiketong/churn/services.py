"""Writes of the churn app: the nightly scoring and the one-click retention task."""

import json
import logging
from datetime import date, timedelta

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from jiketong.core.audit import record, snapshot
from jiketong.core.bulk import Writer
from jiketong.core.dbrouter import reading_replica
from jiketong.core.events import emit, emit_many
from jiketong.core.models import AuditAction
from jiketong.core.notes import readable, stored
from jiketong.customers.services import require_edit, require_scope
from jiketong.work.models import TaskKind, TaskPriority
from jiketong.work.services import task_create

from . import alerts, features, model, queries, rules
from .models import AlertStatus, ChurnModel, ChurnScore, RiskAlert, RiskLevel, Scorer

log = logging.getLogger(__name__)

RETENTION_DUE_DAYS = 7
SCORE_FIELDS = ["customer", "scored_on", "score", "risk", "reasons", "flags", "model_version"]
WRITE_CHUNK = 20_000
# The warning level (流失预警): a high risk score. Medium scores are shown on the list too, but only a high
# one moves the customer to 预警 and tells its manager (docs/churn-early-warning.md).
WARNING_LEVEL = RiskLevel.HIGH


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
    fitted_model = churn_model is not None and churn_model.winner != Scorer.RULES
    columns = model.model_features(churn_model) if fitted_model else None
    if fitted_model and columns is None:
        log.warning("churn model %s reads features that no longer exist: scoring by the rules; train again",
                    churn_model.version)  # fmt: skip
        churn_model = None
    if churn_model is None or churn_model.winner == Scorer.RULES:
        scores = rules.evaluate(table, conf).score.astype(float)
        high, medium = conf["high_from"], conf["medium_from"]
        version = churn_model.version if churn_model else "rules"
    else:
        fitted = model.load(churn_model)
        with model.one_thread():
            x = model.combine(*table.matrix(columns["numeric"], columns["categorical"]))
            probabilities = fitted.predict_proba(x)[:, 1] if len(table) else np.zeros(0)
        scores = model.percentile_scores(probabilities, churn_model.metrics["quantiles"])
        high, medium = model.MODEL_HIGH_FROM, model.MODEL_MEDIUM_FROM
        version = churn_model.version
    risk = np.where(scores >= high, RiskLevel.HIGH, np.where(scores >= medium, RiskLevel.MEDIUM, RiskLevel.LOW))
    return np.rint(scores).astype(int), risk, version


def score_all(today: date) -> int:
    """Score every in-service customer as of today and replace the stored scores in one transaction
    (readers see yesterday's scores until it commits; running it twice gives the same rows). A customer
    whose warning starts or ends with this run gets one `churn.level_changed` in the same transaction."""
    with reading_replica(fresh=True):  # the features: the heavy read, on the replica when it has caught up
        table = features.build(scoring_month(today), on_date=today)
    churn_model = ChurnModel.objects.first()
    scores, risk, version = scores_for(table, churn_model)
    conf = rules.config()
    found = rules.evaluate(table, conf)
    with transaction.atomic():
        crossings = _crossings(table.ids, risk)
        ChurnScore.objects.all().delete()  # one DELETE: nothing points at a score
        rows = []
        for i, customer_id in enumerate(table.ids.tolist()):
            reasons = rules.reasons_at(table, found, i, conf) if found.flags[i] else []
            if customer_id in crossings:
                crossings[customer_id].update(to_level=str(risk[i]), score=int(scores[i]), reasons=reasons)
            rows.append(
                (customer_id, today, int(scores[i]), str(risk[i]), json.dumps(reasons), int(found.flags[i]), version)
            )
            if len(rows) == WRITE_CHUNK:
                _write(rows)
                rows = []
        _write(rows)
        _emit_crossings(crossings)
    return len(table)


def _crossings(ids: np.ndarray, risk: np.ndarray) -> dict[int, dict]:
    """Customer id → the payload so far, for each customer whose warning starts or ends with the new
    scores. Read before the old scores are replaced: the warned ones in one query, then the earlier level
    of those newly warned (a few per night; the first night, or a new model, in chunks)."""
    warned_before = np.fromiter(
        ChurnScore.objects.filter(risk=WARNING_LEVEL).values_list("customer_id", flat=True), dtype=np.int64
    )
    starts = np.setdiff1d(ids[risk == WARNING_LEVEL], warned_before)
    crossings = {}
    for chunk in np.array_split(starts, max(1, len(starts) // 5000 + 1)):  # bounded IN lists
        chunk_ids = chunk.tolist()
        before = dict(ChurnScore.objects.filter(customer_id__in=chunk_ids).values_list("customer_id", "risk"))
        for customer_id in chunk_ids:
            crossings[customer_id] = {"warned": True, "from_level": before.get(customer_id, "")}
    # A customer no longer scored (set to 离网 or 潜在 by a person) has no new level: nothing ended.
    for customer_id in np.intersect1d(ids[risk != WARNING_LEVEL], warned_before).tolist():
        crossings[customer_id] = {"warned": False, "from_level": WARNING_LEVEL.value}
    return crossings


EMIT_CHUNK = 2000  # events per emit_many: bounded statements and after-commit batches


def _emit_crossings(crossings: dict[int, dict]) -> None:
    """One `churn.level_changed` per crossing, its reasons in words (the site's language: the archive's
    history and the inbox keep them as written)."""
    with translation.override(settings.LANGUAGE_CODE):
        items = [
            (
                customer_id,
                {
                    "warned": payload["warned"],
                    "from_level": payload["from_level"],
                    "to_level": payload["to_level"],
                    "score": payload["score"],
                    "reasons": [str(rules.describe(reason)) for reason in payload["reasons"]],
                },
            )
            for customer_id, payload in sorted(crossings.items())
        ]
    for start in range(0, len(items), EMIT_CHUNK):
        emit_many("churn.level_changed", items[start : start + EMIT_CHUNK])


def _write(rows: list[tuple]) -> None:
    Writer().write(ChurnScore, SCORE_FIELDS, rows)


def retention_task_create(*, actor, customer, because: str = ""):
    """One click: a retention task for the customer's manager, with the latest reasons in its note (after
    `because`, e.g. a risk alert's reason in words). A customer that already has an open retention task keeps
    that one (returned, `created` False)."""
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
        note = "\n".join([*([because] if because else []),
                          *(rules.describe(reason) for reason in (score.reasons if score else []))])  # fmt: skip
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
        # The defence app carries the task on as a retention case with actions and an outcome.
        emit("churn.retention_opened", customer_id=customer.pk, actor=actor, task=task.pk, owner=owner.pk,
             risk=score.risk if score else "", score=score.score if score else None)  # fmt: skip
        return task, True


# --- risk alerts (风险提醒, decision 0705) -----------------------------------------------------------
ALERT_CHUNK = 2000  # alerts per INSERT, IN list and emit_many


def alerts_raise(today: date) -> int:
    """The nightly detector: every hit of `alerts.detect` not raised before becomes one `RiskAlert`, routed to
    the customer's manager (the backup manager when there is none) and the nearest supervisor, with one
    `churn.alert_raised` each (whose reaction notifies them), all in one transaction. Running it again the same
    night raises nothing. Returns the number raised."""
    current = today.replace(day=1)
    earlier = [m for m in model.billed_months() if m < current]  # the month the scores read too
    hits = alerts.detect(today, earlier[-1] if earlier else None)
    with transaction.atomic():
        new = _not_raised(hits)
        routes = _routes({hit.customer_id for hit in new})
        created: list[RiskAlert] = []
        for start in range(0, len(new), ALERT_CHUNK):
            rows = [
                RiskAlert(
                    kind=hit.kind,
                    customer_id=hit.customer_id,
                    key=hit.key,
                    occurred_on=hit.occurred_on,
                    raised_on=today,
                    reason=hit.reason,
                    owner_id=routes[hit.customer_id][0],
                    supervisor_id=routes[hit.customer_id][1],
                    org_unit_id=routes[hit.customer_id][2],
                )  # fmt: skip
                for hit in new[start : start + ALERT_CHUNK]
            ]
            created += RiskAlert.objects.bulk_create(rows)
        with translation.override(settings.LANGUAGE_CODE):
            items = [
                (alert.customer_id, {"alert": alert.pk, "kind": alert.kind, "reason": readable(alert.reason)})
                for alert in created
            ]
        for start in range(0, len(items), ALERT_CHUNK):
            emit_many("churn.alert_raised", items[start : start + ALERT_CHUNK])
    return len(created)


def _not_raised(hits: list[alerts.Hit]) -> list[alerts.Hit]:
    """The hits whose (kind, customer, key) has no alert yet (and each once, should a query repeat one)."""
    seen: set[tuple[str, int, str]] = set()
    by_kind: dict[str, set[str]] = {}
    for hit in hits:
        by_kind.setdefault(hit.kind, set()).add(hit.key)
    for kind, keys in by_kind.items():
        keys = sorted(keys)
        for start in range(0, len(keys), ALERT_CHUNK):
            seen |= {
                (kind, customer_id, key)
                for customer_id, key in RiskAlert.objects.filter(
                    kind=kind, key__in=keys[start : start + ALERT_CHUNK]
                ).values_list("customer_id", "key")
            }
    new = []
    for hit in hits:
        once = (hit.kind, hit.customer_id, hit.key)
        if once not in seen:
            seen.add(once)
            new.append(hit)
    return new


def _routes(customer_ids: set[int]) -> dict[int, tuple[int | None, int | None, int]]:
    """Customer id → (manager's staff id, nearest supervisor's staff id, org unit id): a few queries for all."""
    from jiketong.customers.models import Customer
    from jiketong.org.models import Staff
    from jiketong.org.queries import supervisors_for

    ids = sorted(customer_ids)
    customers = []
    for start in range(0, len(ids), ALERT_CHUNK):
        customers += Customer.objects.filter(pk__in=ids[start : start + ALERT_CHUNK]).values_list(
            "pk", "owner_id", "backup_owner_id", "org_unit_id", "org_unit__path"
        )
    supervisors = supervisors_for({path for *_ids, path in customers})
    first_users = {users[0] for users in supervisors.values() if users}
    staff_of_user = dict(Staff.objects.filter(user_id__in=first_users).values_list("user_id", "pk"))
    routes = {}
    for pk, owner_id, backup_id, unit_id, path in customers:
        users = supervisors.get(path) or []
        routes[pk] = (owner_id or backup_id, staff_of_user.get(users[0]) if users else None, unit_id)
    return routes


def _alert_for_update(actor, alert: RiskAlert) -> RiskAlert:
    """The alert locked for its state change, if the actor may act on it: an edit role and the customer in scope
    (otherwise 403 / 404, as for any write on the customer)."""
    require_edit(actor)
    require_scope(actor, alert.customer_id)
    return RiskAlert.objects.select_for_update().select_related("customer").get(pk=alert.pk)


ALERT_FIELDS = ["status", "acknowledged_at", "resolved_at", "resolution", "task"]


@transaction.atomic
def alert_acknowledge(*, actor, alert: RiskAlert) -> RiskAlert:
    """The manager or supervisor has seen it and is on it (open → acknowledged); audited. Acknowledging again
    changes nothing; a resolved alert stays resolved."""
    alert = _alert_for_update(actor, alert)
    if alert.status != AlertStatus.OPEN:
        return alert
    before = snapshot(alert, ALERT_FIELDS)
    alert.status = AlertStatus.ACKNOWLEDGED
    alert.acknowledged_at = timezone.now()
    alert.acknowledged_by = actor
    alert.save(update_fields=["status", "acknowledged_at", "acknowledged_by"])
    record(actor=actor, action=AuditAction.STATUS, target=alert, customer_id=alert.customer_id, before=before,
           after=snapshot(alert, ALERT_FIELDS))  # fmt: skip
    return alert


@transaction.atomic
def alert_resolve(*, actor, alert: RiskAlert, note: str) -> RiskAlert:
    """Done with it (open or acknowledged → resolved), with a note of what was done; audited."""
    alert = _alert_for_update(actor, alert)
    note = (note or "").strip()
    errors = {}
    if not note:
        errors["note"] = [_("Say what was done about the alert.")]
    elif len(note) > 500:
        errors["note"] = [_("At most 500 characters.")]
    if alert.status == AlertStatus.RESOLVED:
        errors["status"] = [_("This alert is already resolved.")]
    if errors:
        raise ValidationError(errors)
    before = snapshot(alert, ALERT_FIELDS)
    now = timezone.now()
    if alert.acknowledged_at is None:
        alert.acknowledged_at, alert.acknowledged_by = now, actor
    alert.status = AlertStatus.RESOLVED
    alert.resolved_at, alert.resolved_by, alert.resolution = now, actor, note
    alert.save(update_fields=["status", "acknowledged_at", "acknowledged_by", "resolved_at", "resolved_by",
                              "resolution"])  # fmt: skip
    record(actor=actor, action=AuditAction.STATUS, target=alert, customer_id=alert.customer_id, before=before,
           after=snapshot(alert, ALERT_FIELDS))  # fmt: skip
    return alert


def alert_retention_open(*, actor, alert: RiskAlert):
    """One click on an alert: churn's retention task (the defence app opens its retention case from it, as for a
    warning), with the alert's reason first in its note; the alert is acknowledged and points to the task.
    Returns (task, created) as `retention_task_create`."""
    with transaction.atomic():
        alert = _alert_for_update(actor, alert)
        task, created = retention_task_create(actor=actor, customer=alert.customer, because=readable(alert.reason))
        if alert.task_id != task.pk:
            before = snapshot(alert, ALERT_FIELDS)
            alert.task = task
            alert.save(update_fields=["task"])
            record(actor=actor, action=AuditAction.UPDATE, target=alert, customer_id=alert.customer_id,
                   before=before, after=snapshot(alert, ALERT_FIELDS),
                   note=stored(gettext_noop("Retention task opened from the alert")))  # fmt: skip
        if alert.status == AlertStatus.OPEN:
            alert_acknowledge(actor=actor, alert=alert)
    return task, created
