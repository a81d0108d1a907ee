"""Sliding windows over a scaled series, served to Keras as a `PyDataset`."""

import math

import keras
import numpy as np


class WindowDataset(keras.utils.PyDataset):
    """Windows of `seq_len` inputs followed by `pred_len` targets, stride 1.

    Window `i` is `x = values[i : i + seq_len, inputs]`, its marks
    `x_mark = marks[i : i + seq_len]` and `y = values[i + seq_len : i + seq_len + pred_len, targets]`.
    Batches are `((x, x_mark), y)` in float32. With `shuffle=True` the window order is
    a permutation drawn from `(seed, epoch)`, so a resumed run sees the same order as an
    uninterrupted one; `set_epoch` is called by the trainer's callback.

    Args:
        values: array `(T, n_columns)`, already scaled.
        marks: array `(T, mark_dim)` of time features for the same rows.
        seq_len, pred_len: window lengths.
        inputs, targets: column indices of `values` fed to the model and predicted.
        batch_size: windows per batch; the last batch may be smaller.
        shuffle, seed: see above.

    For data-parallel training every batch must split evenly over the devices:
    `split_over(devices, pad)` makes the last batch a multiple of `devices`, by
    dropping its extra windows (`pad=False`: fewer than `devices` windows of the
    split go unused that epoch) or repeating its last window (`pad=True`, for
    prediction; keep the first `num_windows` predictions).
    """

    def __init__(self, values, marks, seq_len, pred_len, inputs, targets, batch_size=32,
                 shuffle=False, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.values = np.asarray(values, dtype="float32")
        self.marks = np.asarray(marks, dtype="float32")
        self.seq_len = int(seq_len)
        self.pred_len = int(pred_len)
        self.inputs = list(inputs)
        self.targets = list(targets)
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.seed = int(seed)
        self.num_windows = len(self.values) - self.seq_len - self.pred_len + 1
        if self.num_windows < 1:
            raise ValueError(
                f"`values` must have at least seq_len + pred_len = {self.seq_len + self.pred_len} "
                f"rows, got {len(self.values)}"
            )
        self.devices, self.pad = 1, False
        self._x_values = self.values[:, self.inputs]
        self._y_values = self.values[:, self.targets]
        self.set_epoch(0)

    def set_epoch(self, epoch):
        """Fixes the window order for `epoch` (identity when not shuffling)."""
        self.epoch = int(epoch)
        if self.shuffle:
            self._order = np.random.default_rng([self.seed, self.epoch]).permutation(self.num_windows)
        else:
            self._order = np.arange(self.num_windows)

    def split_over(self, devices, pad=False):
        """Makes every batch split evenly over `devices` (see the class docstring)."""
        if self.batch_size % devices:
            raise ValueError(f"`batch_size` must be a multiple of the {devices} devices, got {self.batch_size}")
        self.devices, self.pad = int(devices), bool(pad)
        return self

    def _last_size(self):
        last = self.num_windows - (math.ceil(self.num_windows / self.batch_size) - 1) * self.batch_size
        if self.pad:
            return math.ceil(last / self.devices) * self.devices
        return last - last % self.devices

    def __len__(self):
        full = math.ceil(self.num_windows / self.batch_size) - 1
        return full + (self._last_size() > 0)

    def _windows(self, starts):
        steps_in = starts[:, None] + np.arange(self.seq_len)
        steps_out = starts[:, None] + self.seq_len + np.arange(self.pred_len)
        return (self._x_values[steps_in], self.marks[steps_in]), self._y_values[steps_out]

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"batch index {index} out of range for {len(self)} batches")
        starts = self._order[index * self.batch_size:(index + 1) * self.batch_size]
        if index == len(self) - 1 and self.devices > 1:
            size = self._last_size()
            starts = np.concatenate([starts, np.repeat(starts[-1:], max(0, size - len(starts)))])[:size]
        return self._windows(starts)

    def arrays(self):
        """All windows in time order: `((x, x_mark), y)` as whole arrays."""
        return self._windows(np.arange(self.num_windows))
