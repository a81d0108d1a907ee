"""Harness rows for the calendar layers (see tests/cases.py)."""

import numpy as np

from kerasfactory import layers
from tests.harness import Case

# Table sizes of the marks columns [month, day, weekday, hour, minute // 15].
SIZES = (13, 32, 7, 24, 4)


def mark_inputs(batch, time, dtype="int32"):
    """Valid marks (batch, time, 5), as `time_features.marks` produces them."""

    def make(rng):
        low = (1, 1, 0, 0, 0)
        cols = [rng.integers(lo, size, (batch, time)) for lo, size in zip(low, SIZES)]
        return (np.stack(cols, axis=-1).astype(dtype),)

    return make


def covariate_mark_inputs(batch, time, extra_sizes, dtype="int32"):
    """Marks (batch, time, 5) followed by one column per extra field of `extra_sizes`."""

    def make(rng):
        extra = [rng.integers(0, size, (batch, time, 1)) for size in extra_sizes]
        return (np.concatenate([mark_inputs(batch, time, dtype)(rng)[0], *extra], -1).astype(dtype),)

    return make


# The extra fields `time_features.calendar(..., holidays=..., events=..., encoding="marks")` gives.
EXTRA = (("holiday", 2), ("days_to_holiday", 31), ("days_since_holiday", 31), ("event_sale", 2))


def index_inputs(batch, time, c_in, dtype="int32"):
    return lambda rng: (rng.integers(0, c_in, (batch, time)).astype(dtype),)


def timef_inputs(batch, time, width):
    return lambda rng: (rng.uniform(-0.5, 0.5, (batch, time, width)).astype("float32"),)


CASES = [
    Case("fixed_embedding", lambda **kw: layers.FixedEmbedding(24, 16, **kw), index_inputs(4, 12, 24), (4, 12, 16), 0),
    Case(
        "fixed_embedding_float_indices",
        lambda **kw: layers.FixedEmbedding(7, 9, **kw),
        index_inputs(2, 10, 7, "float32"),
        (2, 10, 9),
        0,
    ),
    Case("temporal_fixed_h", lambda **kw: layers.TemporalEmbedding(16, **kw), mark_inputs(4, 12), (4, 12, 16), 0),
    Case(
        "temporal_fixed_t",
        lambda **kw: layers.TemporalEmbedding(16, "fixed", "t", **kw),
        mark_inputs(4, 12),
        (4, 12, 16),
        0,
    ),
    Case(
        "temporal_learned_h",
        lambda **kw: layers.TemporalEmbedding(16, "learned", "h", **kw),
        mark_inputs(4, 12),
        (4, 12, 16),
        4,
    ),
    Case(
        "temporal_learned_15min_clip_float_marks",
        lambda **kw: layers.TemporalEmbedding(8, "learned", "15min", out_of_range="clip", **kw),
        mark_inputs(2, 10, "float32"),
        (2, 10, 8),
        5,
    ),
    Case("time_feature_h", lambda **kw: layers.TimeFeatureEmbedding(16, "h", **kw), timef_inputs(4, 12, 4), (4, 12, 16), 1),
    Case(
        "time_feature_30min",
        lambda **kw: layers.TimeFeatureEmbedding(8, "30min", **kw),
        timef_inputs(2, 10, 5),
        (2, 10, 8),
        1,
    ),
    Case(
        "temporal_fixed_h_extra_fields",
        lambda **kw: layers.TemporalEmbedding(16, extra_fields=EXTRA, **kw),
        covariate_mark_inputs(4, 12, [size for _, size in EXTRA]),
        (4, 12, 16),
        0,
    ),
    Case(
        "temporal_learned_t_extra_fields",
        lambda **kw: layers.TemporalEmbedding(8, "learned", "t", extra_fields=EXTRA[:1], **kw),
        covariate_mark_inputs(2, 10, [2]),
        (2, 10, 8),
        6,
    ),
    Case(
        "time_feature_h_extra_columns",
        lambda **kw: layers.TimeFeatureEmbedding(8, "h", extra_columns=3, **kw),
        timef_inputs(2, 10, 7),
        (2, 10, 8),
        1,
    ),
]
