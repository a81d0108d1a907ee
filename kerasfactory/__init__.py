"""kerasfactory: Keras 3 embedding layers for deep time-series forecasting.

`kerasfactory.Forecaster` (see `kerasfactory.forecast.forecaster`) and `kerasfactory.export`
(`kerasfactory.forecast.export`) are loaded on first use, so importing the package loads no Keras backend.
"""

__version__ = "0.3.0"
__all__ = ["Forecaster", "export", "__version__"]


def __getattr__(name):
    if name == "Forecaster":
        from kerasfactory.forecast.forecaster import Forecaster

        return Forecaster
    if name == "export":
        from kerasfactory.forecast.export import export

        return export
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
