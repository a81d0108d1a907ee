"""One row per layer configuration; every row goes through the harness."""

import numpy as np

from kerasfactory import layers
from tests.harness import Case


def normal(*shape):
    return lambda rng: (rng.standard_normal(shape).astype("float32"),)


CASES = [
    Case("token_same", lambda **kw: layers.TokenEmbedding(7, 16, **kw), normal(4, 24, 7), (4, 24, 16), 2),
    Case(
        "token_circular_nobias",
        lambda **kw: layers.TokenEmbedding(7, 16, padding="circular", use_bias=False, **kw),
        normal(4, 24, 7),
        (4, 24, 16),
        1,
    ),
    Case(
        "token_causal_k4",
        lambda **kw: layers.TokenEmbedding(3, 8, kernel_size=4, padding="causal", **kw),
        normal(2, 10, 3),
        (2, 10, 8),
        2,
    ),
    Case("positional", lambda **kw: layers.PositionalEmbedding(64, d_model=16, **kw), normal(4, 24, 16), (1, 24, 16), 0),
]

# Each area keeps its rows in its own module; the harness sees them all.
from tests import cases_calendar, cases_composite  # noqa: E402

CASES += cases_calendar.CASES + cases_composite.CASES
