"""Ridge regression for the linear forecasters' closed-form fits (numpy, float64).

Each linear model (CycleLinear, RLinear, DLinear) is, per window `n` and
variate `c`, `y[n, c] = a[n, c] @ W + b [+ u[n] @ V[c]]`: `a` `(n, c, F)`
what its linear map reads (the de-cycled or instance-normalised input, or
DLinear's seasonal and trend parts), `W` `(F, H)` and `b` `(H,)` shared by
the variates (or one per variate, `individual`), `V` `(c, k)` one row per
variate weighing the forecast steps' future columns `u` `(n, H, k)`. A
model's fit turns its windows into a `Design` and calls `fit`, which
returns the ridge solution (`alpha ||W||^2`, `b` and `V` unpenalised) for
the `alpha` with the lowest validation MSE.
"""

from typing import NamedTuple

import numpy as np

ALPHAS = (0.0, 1.0, 10.0, 100.0, 1000.0)


class Design(NamedTuple):
    """One split's regression: `a` `(n, c, F)` features, `b` `(n, c, H)` targets, `u` `(n, H, k)` future
    columns or `None`, `scale` `(n, c, 1)` the size in data units of one unit of `b` (RevIN's stdev) or
    `None` (data units), for the validation MSE."""

    a: np.ndarray
    b: np.ndarray
    u: np.ndarray = None
    scale: np.ndarray = None


def split_arrays(model, split, argument):
    """`({input name: array}, y float64)` from `split = (inputs, y)`; raises unless it has every model input."""
    arrays, y = split
    names = [t.name for t in model.inputs]
    if len(arrays) != len(names):
        raise ValueError(
            f"`{argument}` inputs must be the model's {len(names)} inputs ({', '.join(names)}), "
            f"got {len(arrays)} arrays"
        )
    return dict(zip(names, arrays)), np.asarray(y, "float64")


def future_columns(given, marks):
    """`u` `(n, H, k)` as the model's `future_linear` reads it, or `None`: `y_mark` (with `marks`), then
    `x_future` or, with a mask, `[where(mask > 0, x_future, 0), mask]` (`common.future_steps`' order)."""
    parts = [np.asarray(given["y_mark"], "float64")] if marks and "y_mark" in given else []
    if "x_future" in given:
        u = np.asarray(given["x_future"], "float64")
        if "future_mask" in given:
            known = np.asarray(given["future_mask"]) > 0
            u = np.concatenate([np.where(known, u, 0.0), known.astype("float64")], axis=-1)
        parts.append(u)
    return np.concatenate(parts, axis=-1) if parts else None


def target_index(model):
    """The variate a model built with `target_index` forecasts, else `None`."""
    return next((layer.cropping[0] for layer in model.layers if layer.name == "target"), None)


def layer(model, name):
    """The layer `name` of `model`, or `None`."""
    return next((layer for layer in model.layers if layer.name == name), None)


def instance_stats(x, eps):
    """RevIN's statistics of `x` `(n, L, c)` over time: `(mean, sqrt(var + eps))`, each `(n, 1, c)`."""
    mean = x.mean(axis=1, keepdims=True)
    return mean, np.sqrt(((x - mean) ** 2).mean(axis=1, keepdims=True) + eps)


def fit(train, val=None, alphas=ALPHAS, individual=False):
    """`(alpha, (W, b, V), val_mse)` for `Design`s `train`, `val`: each of `alphas` solved on `train`, the
    one with the lowest MSE on `val` in data units kept (the first of `alphas`, `val_mse` `None`, without
    `val`). `individual`: one `W` `(c, F, H)`, `b` `(c, H)` per variate instead of one shared."""
    if individual:
        solvers = [_solver(train.a[:, c : c + 1], train.b[:, c : c + 1], train.u) for c in range(train.a.shape[1])]

        def solve(alpha):
            w, bias, v = zip(*(s(alpha) for s in solvers))
            return np.stack(w), np.stack(bias), None if v[0] is None else np.concatenate(v)
    else:
        solve = _solver(train.a, train.b, train.u)
    if val is None:
        return alphas[0], solve(alphas[0]), None
    fits = {alpha: solve(alpha) for alpha in alphas}
    scale = 1.0 if val.scale is None else val.scale
    scores = {
        alpha: float(np.mean((scale * (predict(val.a, val.u, *fit) - val.b)) ** 2)) for alpha, fit in fits.items()
    }
    alpha = min(scores, key=scores.get)
    return alpha, fits[alpha], scores[alpha]


def predict(a, u, w, bias, v):
    """`(n, c, H)`: `a @ W + b [+ u V^T]` (`W` shared, or one per variate when 3-D)."""
    y = (a @ w if w.ndim == 2 else np.einsum("ncf,cfh->nch", a, w)) + bias
    return y if v is None else y + np.einsum("nhj,cj->nch", u, v)


def _solver(a, b, u):
    return ridge(a, b) if u is None else ridge_with_future(a, b, u)


def ridge(a, b):
    """`alpha -> (W, b, None)`: ridge from `a` `(n, c, L)` to `b` `(n, c, H)`, rows pooled, intercept unpenalised."""
    L = a.shape[-1]
    a, b = a.reshape(-1, L), b.reshape(-1, b.shape[-1])
    mean_a, mean_b = a.mean(0), b.mean(0)
    a, b = a - mean_a, b - mean_b
    gram, cross = a.T @ a, a.T @ b

    def solve(alpha):
        w = np.linalg.lstsq(gram + alpha * np.eye(L), cross, rcond=None)[0]  # min-norm if singular
        return w, mean_b - mean_a @ w, None

    return solve


def ridge_with_future(a, b, u):
    """`alpha -> (W, b, V)` minimising `sum (a W + b + u V^T - y)^2 + alpha ||W||^2`.

    `a` `(n, c, L)` inputs, `b` `(n, c, H)` targets, `u` `(n, H, k)` the
    future columns; `W` `(L, H)` and `b` `(H,)` shared by the variates, `V`
    `(c, k)` one row per variate. With `A = [a, 1]` and `theta = [W; b]`, the
    normal equations are `G theta_h + sum_c M_hc V_c = R_h` and
    `sum_h M_hc^T theta_h + F V_c = S_c`, `G = sum A^T A`,
    `M_hc = sum_n A_nc^T u_nh`, `F = sum u^T u`; `theta_h` is eliminated, `V`
    solved from its `c k` equations, then `theta = G^-1 (R - M V)`.
    """
    n, c, L = a.shape
    H, k = b.shape[-1], u.shape[-1]
    A = np.concatenate([a, np.ones((n, c, 1))], axis=-1)  # (n, c, L + 1)
    gram = np.einsum("ncl,ncm->lm", A, A, optimize=True)
    R = np.einsum("ncl,nch->lh", A, b, optimize=True)  # (L + 1, H)
    M = np.einsum("ncl,nhj->hlcj", A, u, optimize=True).reshape(H, L + 1, c * k)
    F = np.einsum("nhj,nhi->ji", u, u, optimize=True)
    S = np.einsum("nhj,nch->cj", u, b, optimize=True).reshape(-1)
    penalty = np.diag(np.r_[np.ones(L), 0.0])

    def solve(alpha):
        g_inv = np.linalg.pinv(gram + alpha * penalty)
        T = g_inv @ R  # (L + 1, H): theta without the future term
        P = np.einsum("lm,hmq->hlq", g_inv, M, optimize=True)  # G^-1 M_h
        schur = np.kron(np.eye(c), F) - np.einsum("hlq,hlr->qr", M, P, optimize=True)
        rhs = S - np.einsum("hlq,lh->q", M, T, optimize=True)
        v = np.linalg.lstsq(schur, rhs, rcond=None)[0]  # min-norm if a column never varies
        theta = T - np.einsum("hlq,q->lh", P, v, optimize=True)
        return theta[:L], theta[L], v.reshape(c, k)

    return solve
