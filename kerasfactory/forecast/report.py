"""The run's outputs: the metrics table, metrics.json, test_forecasts.csv, forecast.png.

Every file is written to a temporary name in the same folder and moved into place with
`os.replace`, so a killed run never leaves a half-written file behind.
"""

import contextlib
import json
import os

import numpy as np


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path beside `path`; on success it replaces `path` in one step."""
    path = os.fspath(path)
    folder, name = os.path.split(path)
    stem, ext = os.path.splitext(name)
    tmp = os.path.join(folder, f".{stem}.tmp-{os.getpid()}{ext}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_json(path, data):
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, ensure_ascii=False)
            f.write("\n")


def write_csv(path, frame):
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)


def errors(pred, true):
    """MSE and MAE over every window, step and column."""
    diff = np.asarray(pred, dtype="float64") - np.asarray(true, dtype="float64")
    return {"mse": float(np.mean(diff**2)), "mae": float(np.mean(np.abs(diff)))}


def target_metrics(pred, true, scale):
    """Scaled and original-unit errors for one column; `scale` is its standard deviation."""
    scaled = errors(pred, true)
    return {
        "mse_scaled": scaled["mse"],
        "mae_scaled": scaled["mae"],
        "mse": scaled["mse"] * scale**2,
        "mae": scaled["mae"] * scale,
    }


def table(rows, target, unit):
    """A plain-text table: one row per method, MSE/MAE scaled and in original units."""
    unit_text = f" [{unit}]" if unit else ""
    sq_text = f" [{unit}²]" if unit else ""
    header = ["method", "MSE (scaled)", "MAE (scaled)", f"MSE{sq_text}", f"MAE{unit_text}"]
    lines = []
    for name, m in rows.items():
        if m is None:
            lines.append([name, "n/a", "n/a", "n/a", "n/a"])
        else:
            lines.append([name, f"{m['mse_scaled']:.4f}", f"{m['mae_scaled']:.4f}",
                          f"{m['mse']:.6g}", f"{m['mae']:.6g}"])
    widths = [max(len(r[i]) for r in [header, *lines]) for i in range(len(header))]
    fmt = lambda r: "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
    rule = "-" * len(fmt(header))
    return "\n".join([f"Test split, target {target!r}:", fmt(header), rule, *map(fmt, lines)])


def plot_forecast(path, input_dates, input_values, future_dates, true_future, forecast, target, unit,
                  time_label, baselines=None):
    """The last test window: its inputs, the true future and the forecasts."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(11, 4.5), layout="constrained")
    ax.plot(input_dates, input_values, color="0.3", label="input window")
    ax.plot(future_dates, true_future, color="black", linestyle="--", label="true future")
    for name, values in (baselines or {}).items():
        ax.plot(future_dates, values, linewidth=0.9, alpha=0.6, label=name)
    ax.plot(future_dates, forecast, color="tab:red", linewidth=2, label="model forecast")
    ax.axvline(future_dates[0], color="0.6", linewidth=0.8)
    ax.set_xlabel(f"time ({time_label})" if time_label else "time")
    ax.set_ylabel(f"{target} [{unit}]" if unit else f"{target} (original units)")
    ax.set_title(f"{target}: last test window")
    ax.legend(loc="best", fontsize="small")
    fig.autofmt_xdate()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
