"""From a checked series to scaled train/validation/test windows."""

from dataclasses import dataclass

import numpy as np
from sklearn.preprocessing import StandardScaler

from kerasfactory.data.errors import DataError
from kerasfactory.data.splits import DEFAULT_FRACTIONS, SPLIT_NAMES, split_borders
from kerasfactory.time_features import time_features

FEATURES = ("M", "S", "MS")


def feature_columns(columns, target, features):
    """Input and output column names for `features` M (all->all), S (target->target), MS (all->target)."""
    if features not in FEATURES:
        raise DataError(f"--features must be one of {', '.join(FEATURES)}, got {features!r}.")
    if features == "S":
        return [target], [target]
    if features == "MS":
        return list(columns), [target]
    return list(columns), list(columns)


def marks_for(dates, freq):
    """timeF marks `(T, mark_dim)` in float32 for `dates` at `freq`."""
    return np.asarray(time_features(dates, freq), dtype="float32")


@dataclass
class ForecastData:
    """Everything a forecaster needs from one series, split and scaled.

    Attributes:
        series: the loaded `Series`.
        inputs, outputs: column names fed to and predicted by the model.
        target: the target column's name; `target_output` is its index in `outputs`.
        target_index: index of the target among `inputs` when the model predicts it alone
            (features "MS"), else None.
        scaler: `StandardScaler` fitted on the training rows of `inputs`.
        borders: `{split: (start, stop)}` rows, look-back included.
        datasets: `{split: WindowDataset}`; only "train" shuffles.
    """

    series: object
    features: str
    inputs: list
    outputs: list
    target: str
    target_index: object
    target_output: int
    seq_len: int
    pred_len: int
    scaler: StandardScaler
    borders: dict
    datasets: dict
    mark_dim: int

    @property
    def freq(self):
        return self.series.freq

    def target_scale(self):
        """(mean, std) of the target in original units."""
        j = self.inputs.index(self.target)
        return float(self.scaler.mean_[j]), float(self.scaler.scale_[j])

    def window_dates(self, split):
        """Timestamps of each window's first predicted step, shape (num_windows,)."""
        start, _ = self.borders[split]
        n = self.datasets[split].num_windows
        return self.series.dates[start + self.seq_len:start + self.seq_len + n]


def prepare(series, *, target, features="MS", seq_len=96, pred_len=48, batch_size=32,
            split=DEFAULT_FRACTIONS, seed=0):
    """Splits `series` chronologically, fits the scaler on training rows, makes windows."""
    from kerasfactory.data.windows import WindowDataset  # imports Keras (see the package)

    if target not in series.columns:
        raise DataError(
            f"The target column {target!r} is not among the loaded columns "
            f"{', '.join(map(repr, series.columns))}. Choose it with --target."
        )
    inputs, outputs = feature_columns(series.columns, target, features)
    borders = split_borders(len(series.dates), seq_len, pred_len, split, series.freq, series.source)
    columns = [series.columns.index(c) for c in inputs]
    raw = series.values[:, columns]
    scaler = StandardScaler().fit(raw[borders["train"][0]:borders["train"][1]])
    scaled = scaler.transform(raw).astype("float32")
    marks = marks_for(series.dates, series.freq)
    out_index = [inputs.index(c) for c in outputs]
    datasets = {}
    for name in SPLIT_NAMES:
        start, stop = borders[name]
        datasets[name] = WindowDataset(
            scaled[start:stop], marks[start:stop], seq_len, pred_len, range(len(inputs)),
            out_index, batch_size=batch_size, shuffle=name == "train", seed=seed,
        )
    return ForecastData(
        series=series, features=features, inputs=inputs, outputs=outputs, target=target,
        target_index=inputs.index(target) if features == "MS" else None,
        target_output=outputs.index(target), seq_len=seq_len, pred_len=pred_len,
        scaler=scaler, borders=borders, datasets=datasets, mark_dim=int(marks.shape[1]),
    )
