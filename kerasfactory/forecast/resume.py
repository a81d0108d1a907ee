"""Early stopping whose state survives a killed run, so `--resume` matches an unbroken run.

Keras's `BackupAndRestore` restores the weights, the optimizer and the epoch. What it does
not keep is saved here, per completed epoch, in the same backup folder: early stopping's
counters and best weights, the validation history, and the dropout random state. Each
epoch's state is written (atomically) before `BackupAndRestore` commits that epoch, and
the state matching the committed epoch is the one read back.
"""

import json
import os

import keras
import numpy as np

from kerasfactory.forecast.report import atomic_path, write_json

_KEEP = 2


def _random_states(model):
    """Variables of the model's random seed generators (dropout masks come from these)."""
    return [v for v in model.non_trainable_variables if "seed_generator" in v.path]


class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
    """`EarlyStopping(restore_best_weights=True)` that saves and reloads its state.

    Args:
        backup_dir: the folder `BackupAndRestore` writes to.
        **kwargs: passed to `keras.callbacks.EarlyStopping`.

    `history` holds each completed epoch's logs, from the first epoch of the run.
    """

    def __init__(self, backup_dir, **kwargs):
        super().__init__(restore_best_weights=True, **kwargs)
        self.backup_dir = backup_dir
        self.history = []

    def _paths(self, epoch):
        return (os.path.join(self.backup_dir, f"early_stopping-{epoch}.json"),
                os.path.join(self.backup_dir, f"early_stopping-{epoch}.npz"))

    def _committed_epoch(self):
        path = os.path.join(self.backup_dir, "training_metadata.json")
        if not os.path.isfile(path):
            return 0
        with open(path, encoding="utf-8") as f:
            return int(json.load(f)["epoch"])

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self.history = []
        epoch = self._committed_epoch()
        if epoch == 0:
            return
        state_path, arrays_path = self._paths(epoch)
        if not (os.path.isfile(state_path) and os.path.isfile(arrays_path)):
            raise RuntimeError(f"the backup in {self.backup_dir!r} has no early-stopping state for epoch {epoch}")
        with open(state_path, encoding="utf-8") as f:
            state = json.load(f)
        with np.load(arrays_path) as arrays:
            n_best = int(arrays["n_best"])
            self.best_weights = [arrays[f"best_{i}"] for i in range(n_best)] or None
            for i, variable in enumerate(_random_states(self.model)):
                variable.assign(arrays[f"random_{i}"])
        self.wait, self.best, self.best_epoch = state["wait"], state["best"], state["best_epoch"]
        self.stopped_epoch, self.history = state["stopped_epoch"], state["history"]
        if self.stopped_epoch > 0:
            # The run had already stopped early; run no more epochs, only the end.
            self.model._initial_epoch = self.params["epochs"]

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, logs)
        self.history.append({k: float(v) for k, v in (logs or {}).items()})
        os.makedirs(self.backup_dir, exist_ok=True)
        state_path, arrays_path = self._paths(epoch + 1)
        arrays = {"n_best": np.asarray(len(self.best_weights or []))}
        arrays.update({f"best_{i}": w for i, w in enumerate(self.best_weights or [])})
        arrays.update({f"random_{i}": np.asarray(v) for i, v in enumerate(_random_states(self.model))})
        with atomic_path(arrays_path) as tmp:
            np.savez(tmp, **arrays)
        write_json(state_path, {
            "wait": self.wait, "best": None if self.best is None else float(self.best),
            "best_epoch": self.best_epoch, "stopped_epoch": self.stopped_epoch, "history": self.history,
        })
        for old in self._paths(epoch + 1 - _KEEP):
            if os.path.exists(old):
                os.remove(old)
