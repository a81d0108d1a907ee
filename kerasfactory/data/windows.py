"""Sliding windows over scaled series, served to Keras as a `PyDataset`."""

import math

import keras
import numpy as np


class WindowDataset(keras.utils.PyDataset):
    """Windows of `seq_len` inputs followed by `pred_len` targets, stride 1, over one or more series.

    Window `i` of a series is `x = values[i : i + seq_len, inputs]`, its marks
    `x_mark = marks[i : i + seq_len]` and `y = values[i + seq_len : i + seq_len + pred_len, targets]`;
    with `future_marks=True` also the forecast steps' marks `y_mark = marks[i + seq_len : i + seq_len + pred_len]`,
    and with `future` columns `x_future = values[i + seq_len : i + seq_len + pred_len, future]`
    (values known ahead). Batches are `((x, x_mark[, y_mark][, x_future]), y)` in float32, the
    inputs in the order `kerasfactory.models.build_model` takes them.

    `values` and `marks` may be lists (one array per series): windows are cut from each series
    on its own and never cross from one into the next; all are pooled, in series order then
    time order (`window_segments`, `window_offsets` say where each comes from). With
    `shuffle=True` the window order is a permutation drawn from `(seed, epoch)`, so a resumed
    run sees the same order as an uninterrupted one; `set_epoch` is called by the trainer's callback.

    Args:
        values: array `(T, n_columns)`, already scaled, or a list of them.
        marks: array `(T, mark_dim)` of time features for the same rows, or a list of them.
        seq_len, pred_len: window lengths.
        inputs, targets: column indices of `values` fed to the model and predicted.
        batch_size: windows per batch; the last batch may be smaller.
        shuffle, seed: see above.
        future: column indices of `values` fed at the forecast steps (default none).
        future_marks: also yield the forecast steps' marks.

    For data-parallel training every batch must split evenly over the devices:
    `split_over(devices, pad)` makes the last batch a multiple of `devices`, by
    dropping its extra windows (`pad=False`: fewer than `devices` windows of the
    split go unused that epoch) or repeating its last window (`pad=True`, for
    prediction; keep the first `num_windows` predictions).
    """

    def __init__(self, values, marks, seq_len, pred_len, inputs, targets, batch_size=32,
                 shuffle=False, seed=0, future=(), future_marks=False, **kwargs):
        super().__init__(**kwargs)
        segments = list(values) if isinstance(values, (list, tuple)) else [values]
        mark_segments = list(marks) if isinstance(marks, (list, tuple)) else [marks]
        if len(segments) != len(mark_segments):
            raise ValueError(f"`values` and `marks` must hold as many series, got {len(segments)} and {len(mark_segments)}")
        self.seq_len = int(seq_len)
        self.pred_len = int(pred_len)
        self.inputs = list(inputs)
        self.targets = list(targets)
        self.future = list(future)
        self.future_marks = bool(future_marks)
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.seed = int(seed)
        span = self.seq_len + self.pred_len
        starts, segment_ids, offsets, position = [], [], [], 0
        for k, (v, m) in enumerate(zip(segments, mark_segments)):
            if len(v) != len(m):
                raise ValueError(f"series {k}: `values` has {len(v)} rows but `marks` {len(m)}")
            count = len(v) - span + 1
            if count < 1:
                raise ValueError(
                    f"`values` must have at least seq_len + pred_len = {span} rows, got {len(v)}"
                    + (f" (series {k})" if len(segments) > 1 else "")
                )
            starts.append(position + np.arange(count))
            segment_ids.append(np.full(count, k))
            offsets.append(np.arange(count))
            position += len(v)
        self.values = np.concatenate([np.asarray(v, dtype="float32") for v in segments])
        self.marks = np.concatenate([np.asarray(m, dtype="float32") for m in mark_segments])
        self._starts = np.concatenate(starts)
        self.window_segments = np.concatenate(segment_ids)
        self.window_offsets = np.concatenate(offsets)
        self.num_windows = len(self._starts)
        self.devices, self.pad = 1, False
        self._x_values = self.values[:, self.inputs]
        self._y_values = self.values[:, self.targets]
        self._f_values = self.values[:, self.future]
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

    def _windows(self, windows):
        starts = self._starts[windows]
        steps_in = starts[:, None] + np.arange(self.seq_len)
        steps_out = starts[:, None] + self.seq_len + np.arange(self.pred_len)
        inputs = (self._x_values[steps_in], self.marks[steps_in])
        if self.future_marks:
            inputs += (self.marks[steps_out],)
        if self.future:
            inputs += (self._f_values[steps_out],)
        return inputs, self._y_values[steps_out]

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"batch index {index} out of range for {len(self)} batches")
        windows = self._order[index * self.batch_size:(index + 1) * self.batch_size]
        if index == len(self) - 1 and self.devices > 1:
            size = self._last_size()
            windows = np.concatenate([windows, np.repeat(windows[-1:], max(0, size - len(windows)))])[:size]
        return self._windows(windows)

    def arrays(self):
        """All windows in order (series, then time): `((x, x_mark[, y_mark][, x_future]), y)` as whole arrays."""
        return self._windows(np.arange(self.num_windows))
