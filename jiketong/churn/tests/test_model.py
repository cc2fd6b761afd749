"""Labels, the time split, metrics, training end to end, and `churn evaluate` on outside tables."""

import csv
import math
import random
from datetime import date

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from jiketong import testing
from jiketong.churn import features, model, services
from jiketong.churn.models import ChurnModel, ChurnScore, Scorer

from .helpers import bill

JAN = date(2025, 1, 1)


def month(k: int) -> date:
    return features.add_months(JAN, k)


# --- labels -----------------------------------------------------------------------------------------
def test_label_is_churn_within_the_next_three_months(cast):
    """Billed Jan..Mar 2025 then nothing: as of Jan the customer leaves in Apr (m+3) → 1; as of Dec 2024
    its first unbilled month is m+4 → 0."""
    stays = cast.alice_customer
    leaves = cast.bob_customer
    bill(stays, month(-3), [100] * 12)
    bill(leaves, month(-3), [100] * 6)  # Oct 2024 .. Mar 2025
    last = model.last_billed()
    as_of_jan = features.build(JAN, in_service_only=False)
    as_of_dec = features.build(month(-1), in_service_only=False)
    by_id = dict(zip(as_of_jan.ids.tolist(), model.labels(as_of_jan, last).tolist(), strict=True))
    assert by_id[leaves.pk] == 1 and by_id[stays.pk] == 0
    by_id = dict(zip(as_of_dec.ids.tolist(), model.labels(as_of_dec, last).tolist(), strict=True))
    assert by_id[leaves.pk] == 0


def test_leaving_in_the_snapshot_month_itself_is_not_a_future_churn(cast):
    """Last billed in Dec: as of Jan it is not billed, so it is no snapshot row at all."""
    bill(cast.bob_customer, month(-3), [100] * 3)
    table = features.build(JAN, in_service_only=False)
    assert not table.billed[table.ids == cast.bob_customer.pk].any()


# --- the time split ---------------------------------------------------------------------------------
def test_time_split_never_trains_on_a_month_whose_label_reaches_the_test_months():
    months = [month(k) for k in range(24)]
    train, test = model.split_months(months)
    assert test == [month(18), month(19), month(20)]  # the last three labelled months
    assert train[0] == month(3)  # three months of history before the first snapshot
    assert max(train) < min(test)
    # Every training label (m+1..m+3) was known when the first test month began.
    assert all(features.add_months(m, model.HORIZON) <= test[0] for m in train)
    assert train[-1] == month(15)


def test_too_short_a_history_has_no_training_months():
    train, _test = model.split_months([month(k) for k in range(8)])
    assert train == []


# --- metrics ----------------------------------------------------------------------------------------
def test_lift_at_ten_percent():
    y = np.array([1] * 5 + [0] * 95)
    perfect = np.arange(100, 0, -1).astype(float)  # the five churners score highest
    assert model.lift_at(y, perfect) == pytest.approx(10.0)  # 50% in the top 10 vs 5% overall
    assert model.auc(y, perfect) == pytest.approx(1.0)
    reversed_ = -perfect
    assert model.lift_at(y, reversed_) == 0.0


# --- training end to end ----------------------------------------------------------------------------
def test_train_judges_three_scorers_and_keeps_the_best(cast, tmp_path, settings):
    """A small history where falling revenue precedes leaving: every scorer is judged on the test
    months, the best AUC wins, and a winning model is saved and used for scoring."""
    settings.VAR_DIR = tmp_path
    rng = random.Random(1)
    for n in range(60):
        customer = testing.make_customer(org_unit=cast.org["440106"], owner=cast.alice)
        leave_at = rng.choice([8, 10, 12, 14, 16, 17, 18, 19]) if n % 3 == 0 else 24
        revenues = [100.0 + rng.random() for _ in range(24)]
        for k in range(max(0, leave_at - 4), leave_at):  # falling revenue before leaving
            revenues[k] = 100.0 - 15 * (k - leave_at + 5)
        bill(customer, JAN, revenues[:leave_at])
    trained = model.train(progress=lambda message: None)
    scorers = trained.metrics["scorers"]
    assert set(scorers) == {Scorer.RULES, Scorer.LOGISTIC, Scorer.BOOSTING}
    best = max(scorers, key=lambda kind: scorers[kind]["auc"])
    assert scorers[trained.winner]["auc"] == scorers[best]["auc"]
    assert scorers[Scorer.RULES]["auc"] > 0.6  # the revenue rule sees the signal
    assert max(trained.metrics["train_months"]) < min(trained.metrics["test_months"])
    assert ChurnModel.objects.first() == trained
    # The nightly scoring uses the kept scorer (a saved model is loaded from its file): 60 + the cast's 5.
    services.score_all(date(2027, 1, 5))
    scores = list(ChurnScore.objects.values_list("score", "model_version"))
    assert len(scores) == 65 and {version for _s, version in scores} == {trained.version}
    assert all(0 <= s <= 100 for s, _v in scores)


def _history(cast) -> None:
    rng = random.Random(1)
    for n in range(60):
        customer = testing.make_customer(org_unit=cast.org["440106"], owner=cast.alice)
        leave_at = rng.choice([8, 10, 12, 14, 16, 17, 18, 19]) if n % 3 == 0 else 24
        revenues = [100.0 + rng.random() for _ in range(24)]
        for k in range(max(0, leave_at - 4), leave_at):
            revenues[k] = 100.0 - 15 * (k - leave_at + 5)
        bill(customer, JAN, revenues[:leave_at])


def test_a_model_trained_before_a_feature_was_added_still_scores_with_its_own_columns(
    cast, tmp_path, settings, monkeypatch
):
    """A model kept from before the group features (decision 0802) reads the 17 columns it was fitted on; the
    nightly scoring builds those, not today's 19, instead of stopping with a column-count error."""
    settings.VAR_DIR = tmp_path
    _history(cast)
    with monkeypatch.context() as before_0802:
        before_0802.setattr(features, "NUMERIC", features.NUMERIC[:17])
        trained = model.train(progress=lambda message: None)
    assert trained.winner != Scorer.RULES  # a fitted model won on this history
    del trained.metrics["features"]  # as models trained before their columns were recorded
    trained.save(update_fields=["metrics"])
    services.score_all(date(2027, 1, 5))
    assert set(ChurnScore.objects.values_list("model_version", flat=True)) == {trained.version}


def test_a_model_reading_a_feature_that_is_gone_gives_way_to_the_rules(cast, tmp_path, settings):
    settings.VAR_DIR = tmp_path
    _history(cast)
    trained = model.train(progress=lambda message: None)
    trained.winner = Scorer.BOOSTING
    trained.metrics["features"] = {"numeric": ["a_feature_since_removed"], "categorical": []}
    trained.save()
    services.score_all(date(2027, 1, 5))
    assert set(ChurnScore.objects.values_list("model_version", flat=True)) == {"rules"}


def test_a_model_score_is_the_percentile_among_the_test_months():
    quantiles = list(np.linspace(0.0, 0.5, 101))  # probabilities 0 … 0.5 spread evenly
    scores = model.percentile_scores(np.array([0.0, 0.25, 0.45, 0.9]), quantiles)
    assert scores.tolist() == pytest.approx([0, 50, 90, 100])


def test_train_refuses_a_short_history(cast):
    bill(cast.alice_customer, JAN, [100] * 6)
    with pytest.raises(CommandError, match="Not enough billed history"):
        call_command("churn", "train")


# --- any table --------------------------------------------------------------------------------------
def _write_table(path, rows: int, signal: bool, seed: int) -> None:
    rng = random.Random(seed)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "spend_drop", "tickets", "region", "churned"])
        for i in range(rows):
            drop = rng.gauss(0, 1)
            region = rng.choice(["north", "south", "east", "west"])
            tickets = rng.randint(0, 5)
            effect = 1.8 * drop + (1.0 if region == "north" else 0) + 0.3 * tickets - 2.5
            logit = effect if signal else -1.5
            churned = rng.random() < 1 / (1 + math.exp(-logit))
            writer.writerow([f"C{i}", f"{drop:.3f}", tickets if rng.random() > 0.05 else "", region, int(churned)])


def test_evaluate_finds_a_known_signal(tmp_path, capsys):
    path = tmp_path / "signal.csv"
    _write_table(path, 3000, signal=True, seed=7)
    x, y, numeric, categorical = model.read_table(str(path), "churned", "id")
    assert numeric == ["spend_drop", "tickets"] and categorical == ["region"]
    result = model.evaluate_table(x, y, len(numeric))
    for kind in model.MODEL_KINDS:
        assert result[kind]["auc"] > 0.75
        assert result[kind]["lift10"] > 2
    call_command("churn", "evaluate", "--csv", str(path), "--label", "churned", "--id", "id")
    out = capsys.readouterr().out
    assert "AUC" in out and "lift@10%" in out and "categorical: region" in out


def test_evaluate_on_noise_is_a_coin_toss(tmp_path):
    path = tmp_path / "noise.csv"
    _write_table(path, 4000, signal=False, seed=11)
    x, y, numeric, _categorical = model.read_table(str(path), "churned", "id")
    result = model.evaluate_table(x, y, len(numeric))
    for kind in model.MODEL_KINDS:
        assert abs(result[kind]["auc"] - 0.5) < 0.07


def test_evaluate_rejects_a_label_that_is_not_binary(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("a,label\n1,yes\n2,maybe\n", encoding="utf-8")
    with pytest.raises(CommandError, match="Line 3: label 'maybe' is not binary"):
        call_command("churn", "evaluate", "--csv", str(path), "--label", "label")


def test_evaluate_names_a_missing_label_column(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("a,b\n1,0\n", encoding="utf-8")
    with pytest.raises(CommandError, match="No column 'churned'"):
        call_command("churn", "evaluate", "--csv", str(path), "--label", "churned")
