"""Harness rows for the composite layers (see tests/cases.py)."""

import numpy as np

from kerasfactory import layers
from tests.harness import Case


def series(batch, time, variates):
    return lambda rng: (rng.standard_normal((batch, time, variates)).astype("float32"),)


def with_marks(batch, time, variates):
    """Values and integer calendar marks [month, day, weekday, hour]."""

    def make(rng):
        highs = np.array([13, 32, 7, 24])
        marks = (rng.random((batch, time, 4)) * highs).astype("int32")
        return rng.standard_normal((batch, time, variates)).astype("float32"), marks

    return make


def with_timef(batch, time, variates, width=4):
    def make(rng):
        x = rng.standard_normal((batch, time, variates)).astype("float32")
        return x, (rng.random((batch, time, width)) - 0.5).astype("float32")

    return make


def circular(cls, embed_type):
    return lambda **kw: cls(3, 8, embed_type=embed_type, padding="circular", use_bias=False, **kw)


CASES = [
    # Weights: TokenEmbedding kernel (+ bias); learned calendar tables 4; timeF kernel 1.
    Case("data_fixed_marks", circular(layers.DataEmbedding, "fixed"), with_marks(2, 12, 3), (2, 12, 8), 1),
    Case("data_fixed_nomarks", lambda **kw: layers.DataEmbedding(3, 8, **kw), series(2, 12, 3), (2, 12, 8), 2),
    Case("data_learned_marks", circular(layers.DataEmbedding, "learned"), with_marks(2, 12, 3), (2, 12, 8), 5),
    Case("data_timef_marks", circular(layers.DataEmbedding, "timeF"), with_timef(2, 12, 3), (2, 12, 8), 2),
    Case("data_timef_nomarks", circular(layers.DataEmbedding, "timeF"), series(2, 12, 3), (2, 12, 8), 2),
    Case("data_wo_pos_fixed", circular(layers.DataEmbeddingWithoutPosition, "fixed"), with_marks(2, 12, 3), (2, 12, 8), 1),
    Case("data_wo_pos_timef", circular(layers.DataEmbeddingWithoutPosition, "timeF"), with_timef(2, 12, 3), (2, 12, 8), 2),
    Case("inverted", lambda **kw: layers.DataEmbeddingInverted(12, 8, **kw), series(2, 12, 3), (2, 3, 8), 2),
    Case("inverted_marks", lambda **kw: layers.DataEmbeddingInverted(12, 8, **kw), with_timef(2, 12, 3), (2, 7, 8), 2),
    Case("patch", lambda **kw: layers.PatchEmbedding(8, patch_len=4, stride=2, **kw), series(2, 12, 3), (2, 3, 6, 8), 1),
    Case(
        "patch_nopad",
        lambda **kw: layers.PatchEmbedding(8, patch_len=4, stride=3, padding=None, **kw),
        series(2, 13, 3),
        (2, 3, 4, 8),
        1,
    ),
    Case("revin_norm", lambda **kw: layers.ReversibleInstanceNorm(3, **kw), series(2, 12, 3), (2, 12, 3), 2),
    Case("revin_no_affine", lambda **kw: layers.ReversibleInstanceNorm(3, affine=False, **kw), series(2, 12, 3), (2, 12, 3), 0),
]
