"""kerasfactory: Keras 3 embedding layers for deep time-series forecasting."""

__version__ = "0.2.0"
