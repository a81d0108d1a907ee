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


def _fmt(value, spec):
    return "n/a" if value is None else format(value, spec)


def _aligned(header, lines):
    widths = [max(len(r[i]) for r in [header, *lines]) for i in range(len(header))]
    fmt = lambda r: "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))  # noqa: E731
    return [fmt(header), "-" * len(fmt(header)), *map(fmt, lines)]


def table(rows, target, unit, title=None):
    """A plain-text table: one row per method, MSE/MAE scaled and in original units."""
    unit_text = f" [{unit}]" if unit else ""
    sq_text = f" [{unit}²]" if unit else ""
    header = ["method", "MSE (scaled)", "MAE (scaled)", f"MSE{sq_text}", f"MAE{unit_text}"]
    lines = []
    for name, m in rows.items():
        if m is None:
            lines.append([name, "n/a", "n/a", "n/a", "n/a"])
        else:
            lines.append([name, _fmt(m["mse_scaled"], ".4f"), _fmt(m["mae_scaled"], ".4f"),
                          _fmt(m["mse"], ".6g"), _fmt(m["mae"], ".6g")])
    return "\n".join([title or f"Test split, target {target!r}:", *_aligned(header, lines)])


def interval_table(rows, target, calibrated=True):
    """Prediction intervals per method: pinball loss, CRPS and the coverage of each central
    interval (nominal level in the header), on the target in scaled units."""
    levels = next((list(m["coverage"]) for m in rows.values() if m and "coverage" in m), [])
    header = ["method", "pinball", "CRPS", *[f"coverage {level}" for level in levels]]
    lines = [[name, _fmt(m.get("pinball"), ".4f"), _fmt(m.get("crps"), ".4f"),
              *[_fmt(m.get("coverage", {}).get(level), ".3f") for level in levels]]
             if m and "pinball" in m else [name, "n/a", "n/a", *["n/a"] * len(levels)]
             for name, m in rows.items()]
    how = ("model's calibrated on validation" if calibrated else "model's not calibrated") + \
        ", baselines' from validation residuals"
    return "\n".join([f"Prediction intervals, test split, target {target!r} (scaled units; {how}):",
                      *_aligned(header, lines)])


def _shade_bands(ax, dates, bands, label=True):
    """The model's central intervals (outermost first, lighter), `[(level, lower, upper)]`."""
    for k, (level, lower, upper) in enumerate(bands):
        ax.fill_between(dates, lower, upper, color="tab:red", alpha=0.12 + 0.1 * k, linewidth=0,
                        label=f"model {level} interval" if label else None)


def selection_table(candidates):
    """`model="auto"`'s candidates: how each was fitted, its validation MSE and training time."""
    header = ["candidate", "fit", "val MSE (scaled)", "train s", "CPU s", ""]
    lines = [[r["candidate"], r["fit"], _fmt(r["val_mse"], ".4f"), _fmt(r["train_s"], ".1f"),
              _fmt(r.get("cpu_s"), ".1f"),
              "<- chosen" if r["chosen"] else r.get("reason", "")[:60]] for r in candidates]
    return "\n".join(["Model choice on the validation split (the test split is not read):", *_aligned(header, lines)])


def _change(value):
    return "" if value is None else f"{value:+.1%}"


def ablation_table(ablation, target, unit, holiday_code, note=None):
    """The ablation: test MSE of each run, overall and on holiday days, and the change from "none"."""
    sq = f" [{unit}²]" if unit else ""
    header = ["run", f"test MSE{sq}", "vs none", "MSE (scaled)"]
    if holiday_code:
        header += [f"MSE on {holiday_code} holidays{sq}", "vs none"]
    lines = []
    for name, a in ablation.items():
        change = a.get("change_vs_none", {})
        row = [name, _fmt(a["mse"], ".6g"), _change(change.get("mse")), _fmt(a["mse_scaled"], ".4f")]
        if holiday_code:
            row += [_fmt((a["holiday_days"] or {}).get("mse"), ".6g"), _change(change.get("holiday_days_mse"))]
        lines.append(row)
    title = f"Ablation (same model and training, target {target!r}; the last run is the saved model):"
    text = [title, *_aligned(header, lines)]
    if note:
        text.append(f"Note: {note}")
    return "\n".join(text)


def _shade_holidays(ax, days):
    for i, day in enumerate(days):
        ax.axvspan(day, day + np.timedelta64(1, "D"), color="tab:orange", alpha=0.15, linewidth=0,
                   label="holiday" if i == 0 else None)


def plot_test_period(path, panels, closeups, target, unit, time_label, holiday_code=None):
    """The whole test period per series (`panels`: dates, actual, forecast, holidays), and
    below it a few forecast windows up close (`closeups`: inputs, truth, forecasts); each may
    hold `bands`, the model's central intervals `[(level, lower, upper)]`, shaded."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    rows = len(panels) + (1 if closeups else 0)
    cols = max(1, len(closeups))
    fig = plt.figure(figsize=(13, 3.2 * rows), layout="constrained")
    grid = fig.add_gridspec(rows, cols)
    ylabel = f"{target} [{unit}]" if unit else f"{target} (original units)"
    xlabel = f"time ({time_label})" if time_label else "time"
    for i, panel in enumerate(panels):
        ax = fig.add_subplot(grid[i, :])
        _shade_holidays(ax, panel["holidays"])
        _shade_bands(ax, panel["dates"], panel.get("bands", []))
        ax.plot(panel["dates"], panel["actual"], color="black", linewidth=0.6, label="actual")
        ax.plot(panel["dates"], panel["forecast"], color="tab:red", linewidth=0.6, alpha=0.8,
                label="model forecast (every pred_len-th window)")
        where = f", {panel['label']}" if panel["label"] else ""
        holidays = f"; {holiday_code} holidays shaded" if holiday_code else ""
        ax.set_title(f"{target}: the whole test period{where}{holidays}")
        ax.set_ylabel(ylabel)
        ax.legend(loc="upper right", fontsize="small")
    for c, close in enumerate(closeups):
        ax = fig.add_subplot(grid[rows - 1, c])
        ax.plot(close["input_dates"], close["input_values"], color="0.3", label="input window")
        _shade_bands(ax, close["future_dates"], close.get("bands", []))
        ax.plot(close["future_dates"], close["truth"], color="black", linestyle="--", label="true future")
        styles = [("tab:red", 2.0), ("tab:blue", 1.0), ("tab:green", 1.0), ("tab:purple", 1.0)]
        for (name, values), (color, width) in zip(close["forecasts"].items(), styles):
            ax.plot(close["future_dates"], values, color=color, linewidth=width, label=name)
        ax.axvline(close["future_dates"][0], color="0.6", linewidth=0.8)
        ax.set_title(close["title"], fontsize="small")
        ax.set_xlabel(xlabel)
        if c == 0:
            ax.set_ylabel(ylabel)
            ax.legend(loc="best", fontsize="x-small")
        ax.tick_params(axis="x", labelrotation=30, labelsize="x-small")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
