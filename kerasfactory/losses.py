"""Losses for probabilistic forecasts."""

import keras
from keras import ops

from kerasfactory.quantiles import check_quantiles


@keras.saving.register_keras_serializable(package="kerasfactory")
class Pinball(keras.losses.Loss):
    """Pinball (quantile) loss, averaged over every step, variate and quantile.

    For a truth `y` and the forecast `p_k` of quantile level `q_k`:
    `L = mean_{batch, step, variate, k} max(q_k (y - p_k), (q_k - 1)(y - p_k))`.
    Its minimiser over `p_k` is the `q_k`-quantile of `y`; with `q = 0.5`
    it is half the absolute error.

    Args:
        quantiles: the levels, sorted, distinct, in `(0, 1)` (see
            `kerasfactory.quantiles.check_quantiles`), in the order of
            `y_pred`'s last axis.
        name, reduction, dtype: as `keras.losses.Loss` (the default
            reduction, "sum_over_batch_size", gives the mean above;
            `sample_weight` `(batch,)` weighs windows).

    Shapes: `y_true` `(batch, pred_len, n_out)`, `y_pred`
    `(batch, pred_len, n_out, n_q)`; `y_true` may also carry a trailing
    axis of 1 or the same rank as `y_pred` with a last axis of 1.

    Example:
    >>> import numpy as np
    >>> loss = Pinball((0.1, 0.5, 0.9))
    >>> y = np.zeros((1, 1, 1), "float32")
    >>> p = np.array([[[[-1.0, 0.0, 1.0]]]], "float32")
    >>> round(float(loss(y, p)), 4)   # (0.1 * 1 + 0 + (0.9 - 1) * (-1)) / 3
    0.0667
    """

    def __init__(self, quantiles, name="pinball", reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.quantiles = check_quantiles(quantiles)

    def call(self, y_true, y_pred):
        y_pred = ops.convert_to_tensor(y_pred)
        n_q = len(self.quantiles)
        if y_pred.shape[-1] is not None and y_pred.shape[-1] != n_q:
            raise ValueError(
                f"`y_pred` last dimension must equal len(`quantiles`)={n_q}, got {y_pred.shape[-1]} "
                f"(shape {tuple(y_pred.shape)})"
            )
        y_true = ops.cast(y_true, y_pred.dtype)
        if len(y_true.shape) == len(y_pred.shape) - 1:
            y_true = ops.expand_dims(y_true, -1)
        q = ops.cast(ops.convert_to_tensor(self.quantiles), y_pred.dtype)
        error = y_true - y_pred
        # One loss per window, (batch,): Keras multiplies a sample weight (batch,) in as is (it aligns
        # trailing axes, so a per-step loss would meet the weights along pred_len).
        losses = ops.maximum(q * error, (q - 1.0) * error)
        return ops.mean(losses, axis=tuple(range(1, len(losses.shape))))

    def get_config(self):
        return {**super().get_config(), "quantiles": list(self.quantiles)}


__all__ = ["Pinball"]
