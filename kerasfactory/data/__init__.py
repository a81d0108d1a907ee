"""Forecasting data: CSV loading and checks (one series or many), chronological splits, scaling, windows.

Uses pandas, numpy and scikit-learn; the layers never import this package.
"""

from kerasfactory.data.datasets import DATASETS, DatasetSpec, vic_elec
from kerasfactory.data.errors import DataError
from kerasfactory.data.loading import FILLS, Panel, Series, load_panel, load_series, read_csv
from kerasfactory.data.prepare import (
    FEATURES, ForecastData, Part, calendar_for, feature_columns, holiday_flags, marks_for, prepare, read_events,
)
from kerasfactory.data.splits import DEFAULT_FRACTIONS, parse_split, split_borders

__all__ = [
    "DATASETS", "DEFAULT_FRACTIONS", "DataError", "DatasetSpec", "FEATURES", "FILLS",
    "ForecastData", "Panel", "Part", "Series", "WindowDataset", "calendar_for", "feature_columns",
    "holiday_flags", "load_panel", "load_series", "marks_for", "parse_split", "prepare", "read_csv",
    "read_events", "split_borders", "vic_elec",
]


def __getattr__(name):
    # WindowDataset imports Keras, and with it the backend; loading and checking
    # data does not, so the command line reports bad input before any backend
    # starts (TensorFlow writes start-up lines to stderr whatever its log level).
    if name == "WindowDataset":
        from kerasfactory.data.windows import WindowDataset

        return WindowDataset
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
