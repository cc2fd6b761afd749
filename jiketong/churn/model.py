"""Training and judging the churn scorers on time-split history, and the same pipeline on any table.

Label: a customer billed in month m churns (label 1) when its last billed month L satisfies
m ≤ L ≤ m+2, i.e. its first month without any billing row is m+1, m+2 or m+3 (and it never comes
back). Month m can be labelled only once month m+3 has been billed, and it needs the three months
before it for the revenue trend, so the usable snapshot months are months[3 : -3] of the history.

Time split: the last TEST_MONTHS snapshot months are the test; training uses only months whose
label was already known when the first test month began (m + 3 ≤ first test month), so nothing a
test month could only learn later leaks into training.

Scorers: the rule baseline (rules.py), a logistic regression and a gradient-boosted tree model, all
judged on the test months by AUC and lift in the top 10%; the winner (highest AUC) is kept.
"""

import csv
import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from . import features, rules
from .models import ChurnModel, Scorer

TEST_MONTHS = 3
HORIZON = 3  # months ahead a churn counts
HISTORY = 3  # months before m the features need
MAX_ROWS_PER_MONTH = 100_000  # a province has 1M customers: train on a fixed random sample per month
TOP_SHARE = 0.10


# --- metrics --------------------------------------------------------------------------------------------
def auc(y: np.ndarray, score: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, score)) if 0 < y.sum() < len(y) else math.nan


def lift_at(y: np.ndarray, score: np.ndarray, share: float = TOP_SHARE) -> float:
    """Churn rate among the top `share` by score over the overall churn rate (ties: lowest index first)."""
    if not len(y) or not y.any():
        return math.nan
    top = np.argsort(-score, kind="stable")[: max(1, math.ceil(len(y) * share))]
    return float(y[top].mean() / y.mean())


def metrics(y: np.ndarray, score: np.ndarray) -> dict:
    """AUC and lift@10% (None when the rows hold no churner or nothing else: JSON has no NaN)."""
    area, lift = auc(y, score), lift_at(y, score)
    return {"auc": None if math.isnan(area) else round(area, 4), "lift10": None if math.isnan(lift) else round(lift, 2)}


# --- the pipeline ---------------------------------------------------------------------------------------
def as_float(values):
    return np.asarray(values, dtype=float)


def as_text(values):
    return np.asarray(values, dtype=object).astype(str)


def pipeline(kind: str, numeric: list[int], categorical: list[int]):
    """Numeric columns imputed (with a missing-flag) and scaled, categorical ones one-hot encoded, then
    the classifier. Columns are positions in one object matrix (numeric first)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    numeric_steps = make_pipeline(
        FunctionTransformer(as_float),
        SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
        StandardScaler(),
    )
    categorical_steps = make_pipeline(
        FunctionTransformer(as_text),
        OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=20, sparse_output=False),
    )
    columns = ColumnTransformer([("num", numeric_steps, numeric), ("cat", categorical_steps, categorical)])
    if kind == Scorer.LOGISTIC:
        classifier = LogisticRegression(max_iter=1000)
    else:
        # Shallow trees and big leaves: churners are 1–5% of the rows and the signal is noisy.
        classifier = HistGradientBoostingClassifier(
            max_iter=200, learning_rate=0.05, max_leaf_nodes=15, min_samples_leaf=200, l2_regularization=1.0,
            random_state=0,
        )  # fmt: skip
    return make_pipeline(columns, classifier)


def combine(numeric: np.ndarray, categorical: np.ndarray) -> np.ndarray:
    return np.concatenate([numeric.astype(object), categorical.astype(object)], axis=1)


MODEL_KINDS = [Scorer.LOGISTIC, Scorer.BOOSTING]


def one_thread():
    """Fit and predict on one core. OpenMP's worker threads spin while they wait: on a shared server (the
    database, the web workers) two threads ran gradient boosting 3× slower than one."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def fit_and_compare(x_train, y_train, x_test, y_test, numeric: list[int], categorical: list[int]) -> dict:
    """{kind: (fitted pipeline, metrics on the test rows)} for each model kind."""
    results = {}
    with one_thread():
        for kind in MODEL_KINDS:
            fitted = pipeline(kind, numeric, categorical).fit(x_train, y_train)
            results[kind] = (fitted, metrics(y_test, fitted.predict_proba(x_test)[:, 1]))
    return results


# --- history --------------------------------------------------------------------------------------------
def billed_months() -> list[date]:
    CustomerMonth = features.source_model("billing", "CustomerMonth")
    if CustomerMonth is None:
        return []
    return sorted(CustomerMonth.objects.order_by().values_list("period", flat=True).distinct())


def split_months(months: list[date]) -> tuple[list[date], list[date]]:
    """(train months, test months) of a billed history; see the module docstring."""
    snapshots = months[HISTORY : len(months) - HORIZON]
    test = snapshots[-TEST_MONTHS:]
    if len(snapshots) <= TEST_MONTHS:
        return [], test
    train = [m for m in snapshots if features.add_months(m, HORIZON) <= test[0]]
    return train, test


def last_billed() -> tuple[np.ndarray, np.ndarray]:
    """(customer ids, last billed month as a month index), sorted by id."""
    CustomerMonth = features.source_model("billing", "CustomerMonth")
    rows = list(CustomerMonth.objects.values("customer_id").annotate(last=Max("period")).order_by("customer_id"))
    ids = np.array([r["customer_id"] for r in rows], dtype=np.int64)
    last = np.array([_month_index(r["last"]) for r in rows], dtype=np.int64)
    return ids, last


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def labels(table: features.FeatureTable, last: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """1 where the customer's last billed month is m, m+1 or m+2 (see the module docstring)."""
    ids, last_month = last
    index = np.searchsorted(ids, table.ids).clip(0, max(len(ids) - 1, 0))
    known = ids[index] == table.ids if len(ids) else np.zeros(len(table), bool)
    m = _month_index(table.month)
    ended = np.where(known, last_month[index], np.iinfo(np.int64).max)
    return ((ended >= m) & (ended <= m + HORIZON - 1)).astype(np.int64)


@dataclass
class Snapshot:
    table: features.FeatureTable
    y: np.ndarray


def snapshot(month: date, last, rng: np.random.Generator, max_rows: int = MAX_ROWS_PER_MONTH) -> Snapshot:
    """Every customer billed in `month` (sampled down to max_rows), its features and label."""
    table = features.build(month, in_service_only=False)
    table = table.subset(table.billed)
    if len(table) > max_rows:
        table = table.subset(np.sort(rng.choice(len(table), max_rows, replace=False)))
    return Snapshot(table, labels(table, last))


def _stack(snaps: list[Snapshot]) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate([combine(*s.table.matrix()) for s in snaps]), np.concatenate([s.y for s in snaps])


# --- training -------------------------------------------------------------------------------------------
def train(*, progress=print, max_rows: int = MAX_ROWS_PER_MONTH) -> ChurnModel:
    """Build the history, judge the three scorers on the test months, keep the winner (refitted on every
    labelled month when it is a model) and record the run."""
    months = billed_months()
    train_months, test_months = split_months(months)
    if not train_months:
        raise ValueError(f"Not enough billed history to train: {len(months)} months, need at least "
                         f"{HISTORY + HORIZON + TEST_MONTHS + HORIZON + 1}.")  # fmt: skip
    rng = np.random.default_rng(0)
    last = last_billed()
    progress(f"train months {train_months[0]:%Y-%m}..{train_months[-1]:%Y-%m}, "
             f"test months {test_months[0]:%Y-%m}..{test_months[-1]:%Y-%m}")  # fmt: skip
    train_snaps = [snapshot(m, last, rng, max_rows) for m in train_months]
    test_snaps = [snapshot(m, last, rng, max_rows) for m in test_months]
    x_train, y_train = _stack(train_snaps)
    x_test, y_test = _stack(test_snaps)
    numeric = list(range(len(features.NUMERIC)))
    categorical = list(range(len(features.NUMERIC), len(features.NUMERIC) + len(features.CATEGORICAL)))
    rule_scores = np.concatenate([rules.evaluate(s.table).score for s in test_snaps])
    results = {Scorer.RULES: metrics(y_test, rule_scores.astype(float))}
    fitted = fit_and_compare(x_train, y_train, x_test, y_test, numeric, categorical)
    results.update({kind: m for kind, (_p, m) in fitted.items()})
    winner = max(results, key=lambda kind: (results[kind]["auc"] or 0, results[kind]["lift10"] or 0))
    for kind, m in results.items():
        progress(f"{Scorer(kind).label}: AUC {m['auc']}, lift@10% {m['lift10']}")
    now = timezone.now()
    version = now.strftime("%Y%m%d-%H%M%S")
    artifact = ""
    cut_offs = {}
    if winner != Scorer.RULES:
        with one_thread():
            final = pipeline(winner, numeric, categorical).fit(
                np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test])
            )
            cut_offs = _cut_offs(final.predict_proba(x_test)[:, 1])
        artifact = str(_save(version, final))
    record = {
        "scorers": {str(k): v for k, v in results.items()},
        "train_months": [f"{m:%Y-%m}" for m in train_months],
        "test_months": [f"{m:%Y-%m}" for m in test_months],
        "train_rows": int(len(y_train)),
        "test_rows": int(len(y_test)),
        "train_churn_rate": round(float(y_train.mean()), 4),
        "test_churn_rate": round(float(y_test.mean()), 4),
        # The columns the fitted model reads, in order: scoring builds exactly these (model_features), so a
        # feature added later does not break a model trained before it.
        "features": {"numeric": list(features.NUMERIC), "categorical": list(features.CATEGORICAL)},
        **cut_offs,
    }
    progress(f"kept: {Scorer(winner).label}")
    return ChurnModel.objects.create(version=version, trained_at=now, winner=winner, metrics=record, artifact=artifact)


MODEL_HIGH_FROM, MODEL_MEDIUM_FROM = 90, 70
# What models trained before their columns were recorded read: the features up to the group context (0802).
FEATURES_BEFORE_0802 = {"numeric": features.NUMERIC[:17], "categorical": ["grade", "industry"]}


def model_features(churn_model: ChurnModel) -> dict[str, list[str]] | None:
    """The columns a kept model reads, or None when today's features cannot give them (a feature it was trained
    on is gone): then the rules score until the model is trained again."""
    wanted = churn_model.metrics.get("features") or FEATURES_BEFORE_0802
    known = set(features.NUMERIC) | set(features.CATEGORICAL)
    if not set(wanted["numeric"]) | set(wanted["categorical"]) <= known:
        return None
    return wanted


def _cut_offs(probabilities: np.ndarray) -> dict:
    """A model's score is the percentile of its churn probability among the test months' customers, so
    90 means "riskier than 90% of them"; high is the top 10%, medium the next 20%."""
    return {"quantiles": [float(q) for q in np.quantile(probabilities, np.linspace(0, 1, 101))]}


def percentile_scores(probabilities: np.ndarray, quantiles: list[float]) -> np.ndarray:
    return np.interp(probabilities, quantiles, np.arange(101))


def model_dir() -> Path:
    return Path(settings.VAR_DIR) / "churn"


def _save(version: str, fitted) -> Path:
    import joblib

    model_dir().mkdir(parents=True, exist_ok=True)
    path = model_dir() / f"model-{version}.joblib"
    joblib.dump(fitted, path)
    return path


def load(churn_model: ChurnModel):
    import joblib

    return joblib.load(churn_model.artifact)


# --- any table ------------------------------------------------------------------------------------------
TRUE = {"1", "true", "yes", "y", "t", "是"}
FALSE = {"0", "false", "no", "n", "f", "否"}


def read_table(path: str, label: str, id_column: str | None) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """A CSV feature table: (x, y, numeric names, categorical names). A column is numeric when every
    non-empty value parses as a number; the label must be binary (1/0, true/false, yes/no)."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        names = [n for n in reader.fieldnames or [] if n not in (label, id_column)]
        if label not in (reader.fieldnames or []):
            raise ValueError(f"No column {label!r} in {path}.")
        rows = list(reader)
    y = []
    for number, row in enumerate(rows, start=2):
        value = (row[label] or "").strip().lower()
        if value not in TRUE | FALSE:
            raise ValueError(f"Line {number}: label {row[label]!r} is not binary (1/0, true/false, yes/no).")
        y.append(value in TRUE)
    numeric, categorical = [], []
    for name in names:
        values = [(row[name] or "").strip() for row in rows]
        (numeric if all(_is_number(v) for v in values if v) else categorical).append(name)
    columns = [[float(row[n]) if (row[n] or "").strip() else np.nan for row in rows] for n in numeric]
    columns += [[(row[n] or "").strip() for row in rows] for n in categorical]
    x = np.array(columns, dtype=object).T if columns else np.empty((len(rows), 0), dtype=object)
    return x, np.array(y, dtype=np.int64), numeric, categorical


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def evaluate_table(x: np.ndarray, y: np.ndarray, n_numeric: int, test_size: float = 0.25, seed: int = 0) -> dict:
    """Fit both model kinds on a stratified random split (an outside table has no months) and judge them
    on the held-out part: {kind: {"auc", "lift10"}}."""
    from sklearn.model_selection import train_test_split

    if y.min() == y.max():
        raise ValueError("The label has only one value; nothing to learn.")
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=test_size, stratify=y, random_state=seed)
    numeric = list(range(n_numeric))
    categorical = list(range(n_numeric, x.shape[1]))
    fitted = fit_and_compare(x_train, y_train, x_test, y_test, numeric, categorical)
    return {str(kind): m for kind, (_p, m) in fitted.items()} | {"rows": int(len(y)), "test_rows": int(len(y_test))}
