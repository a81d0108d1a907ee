"""`model="auto"`: candidates fitted and scored on validation; the test split plays no part."""

import numpy as np
import pandas as pd
import pytest

from kerasfactory.forecast import auto
from kerasfactory.forecast.forecaster import Forecaster, UsageError

SEQ, PRED = 24, 8
# The gradient-trained candidate: a small model that compiles fast (auto trains whatever `NEURAL` lists).
TINY_NEURAL = (("linear", {"period": 1}),)


def hourly(rows=480):
    rng = np.random.default_rng(0)
    t = np.arange(rows)
    temp = 10 + 4 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 0.3, rows)
    load = 30 + 5 * np.sin(2 * np.pi * (t - 3) / 24) + 0.5 * temp + rng.normal(0, 0.5, rows)
    return pd.DataFrame({"date": pd.date_range("2024-01-01", periods=rows, freq="h"), "temp": temp, "load": load})


def fit_auto(frame):
    fc = Forecaster(seq_len=SEQ, pred_len=PRED, epochs=1, batch_size=256, seed=1, time_budget=60)
    return fc.fit(frame, target="load")


@pytest.fixture(autouse=True)
def tiny_neural(monkeypatch):
    monkeypatch.setattr(auto, "NEURAL", TINY_NEURAL)


@pytest.fixture(scope="module")
def chosen():
    with pytest.MonkeyPatch.context() as m:
        m.setattr(auto, "NEURAL", TINY_NEURAL)
        return fit_auto(hourly())


def test_auto_is_the_default_and_keeps_the_candidate_with_the_lowest_validation_mse(chosen):
    assert Forecaster().model_name == "auto"
    table = chosen.selection_
    assert [r["candidate"] for r in table] == [auto.label(*c) for c in (*auto.CLOSED_FORM, *TINY_NEURAL)]
    scored = [r for r in table if r["val_mse"] is not None]
    best = min(scored, key=lambda r: r["val_mse"])
    assert [r["chosen"] for r in table].count(True) == 1 and best["chosen"]
    assert chosen.model_name == best["model"] and chosen.hparams == best["hparams"]
    assert {r["fit"] for r in table} == {"closed form", "gradient"}


def test_the_choice_reads_no_test_row(chosen):
    frame = hourly()
    test_rows = slice(int(len(frame) * 0.8), None)  # the default split's last 20 %, read only as test windows
    frame.loc[frame.index[test_rows], ["temp", "load"]] *= -50.0
    again = fit_auto(frame)
    before = [(r["candidate"], r["val_mse"], r["chosen"]) for r in chosen.selection_]
    after = [(r["candidate"], r["val_mse"], r["chosen"]) for r in again.selection_]
    assert [b[0] for b in before] == [a[0] for a in after] and [b[2] for b in before] == [a[2] for a in after]
    np.testing.assert_allclose([b[1] for b in before], [a[1] for a in after], rtol=1e-5)


def test_the_saved_forecaster_is_the_chosen_model_with_the_selection(chosen, tmp_path):
    chosen.save(tmp_path)
    loaded = Forecaster.load(tmp_path)
    assert loaded.model_name == chosen.model_name and loaded.hparams == chosen.hparams
    frame = hourly()
    np.testing.assert_allclose(loaded.predict(frame).load, chosen.predict(frame).load, rtol=1e-5)


def test_a_candidate_that_does_not_fit_the_data_is_skipped_with_its_reason():
    def build(name, hparams, compile):
        raise ValueError(f"`seq_len` must suit {name}")

    with pytest.raises(ValueError, match="no candidate that fits the data.*must suit linear"):
        auto.select(build, None, None, None, neural=())


def test_the_time_budget_stops_training_after_the_batch_that_spends_it():
    import keras

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    x = np.zeros((64, 2), "float32")
    history = model.fit(x, x[:, :1], batch_size=8, epochs=5, verbose=0, callbacks=[auto.time_budget(0.0)])
    assert len(history.history["loss"]) == 1


def test_the_time_budget_counts_cpu_time_so_waiting_does_not_spend_it():
    import time

    import keras

    class Idle(keras.callbacks.Callback):  # another process holding the CPU looks like this to ours
        def on_train_batch_end(self, batch, logs=None):
            time.sleep(0.2)

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    x = np.zeros((16, 2), "float32")
    model.fit(x, x[:, :1], batch_size=8, epochs=1, verbose=0)  # traced outside the budget
    history = model.fit(x, x[:, :1], batch_size=8, epochs=4, verbose=0,
                        callbacks=[Idle(), auto.time_budget(1.0)])
    assert len(history.history["loss"]) == 4  # 1.6 s of sleep, far less CPU


def test_candidates_narrow_the_choice_to_the_names_given():
    fc = Forecaster(seq_len=SEQ, pred_len=PRED, candidates=["rlinear", "dlinear"], seed=1)
    fc.fit(hourly(), target="load")
    assert [r["candidate"] for r in fc.selection_] == ["rlinear", "dlinear"] and fc.model_name in ("rlinear", "dlinear")


def test_bad_candidates_are_refused_naming_them():
    with pytest.raises(UsageError, match=r"`candidates` must be names among .*got \['lstm'\]"):
        Forecaster(candidates=["rlinear", "lstm"])
    with pytest.raises(UsageError, match="model 'patchtst' is pinned"):
        Forecaster("patchtst", candidates=["rlinear"])


def test_hyperparameters_need_a_pinned_model():
    with pytest.raises(UsageError, match="d_model.*pinned model"):
        Forecaster(d_model=8)
    with pytest.raises(UsageError, match="time_budget"):
        Forecaster(time_budget=-1)
