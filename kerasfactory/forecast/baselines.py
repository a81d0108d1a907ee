"""Baselines scored on the same test windows as the model (scaled units)."""

import numpy as np
from sklearn.linear_model import Ridge

RIDGE_ALPHAS = (0.1, 1.0, 10.0, 100.0, 1000.0)


def repeat_last(x, outputs, pred_len):
    """The last input value of each output column, repeated `pred_len` times."""
    return np.repeat(x[:, -1:, outputs], pred_len, axis=1)


def seasonal_naive(x, outputs, pred_len, period):
    """Each step repeats the value one season earlier within the input window.

    Returns None when the window is shorter than one season.
    """
    seq_len = x.shape[1]
    if period > seq_len:
        return None
    steps = seq_len - period + np.arange(pred_len) % period
    return x[:, steps][:, :, outputs]


class LinearBaseline:
    """Ridge regression from the flattened input window to the flattened targets.

    The penalty is chosen on the validation windows from `RIDGE_ALPHAS`, never on test.
    """

    def fit(self, train, val):
        (x, *_), y = train
        (xv, *_), yv = val
        self.shape = y.shape[1:]
        best = None
        for alpha in RIDGE_ALPHAS:
            model = Ridge(alpha=alpha).fit(x.reshape(len(x), -1), y.reshape(len(y), -1))
            error = float(np.mean((model.predict(xv.reshape(len(xv), -1)) - yv.reshape(len(yv), -1)) ** 2))
            if best is None or error < best[0]:
                best = (error, alpha, model)
        _, self.alpha, self.model = best
        return self

    def predict(self, x):
        return self.model.predict(x.reshape(len(x), -1)).reshape((len(x), *self.shape)).astype("float32")
