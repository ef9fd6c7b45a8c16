"""PNG plots of a grid's `Results`, one file per function, for the report.

Job: learning curves (held-out pass@1, and hallucination where the reward makes it differ from
1 - pass@1, vs executed completions, mean over seeds with a 95% interval band), rollout executions
by status, buffer occupancy over time, token entropy of low-valence rollouts vs the rest, and cycles
to zero error with and without pruning. Each function writes one PNG into `out_dir`, returns its
path, and returns None (writing nothing) when the results hold no data for it.

Limits: matplotlib is imported inside the functions (so `import cosmocore` stays fast) and drawn
on the Agg canvas directly, never through pyplot, so no global backend or figure state is touched;
the default style is used whatever the user's matplotlibrc says. Output is deterministic for the
same results and matplotlib version. Bands come from `stats.summarise` per x value over the seeds
that have a value there (Student t below 10 seeds, bootstrap-t from 10; no band where one seed has a
value), so runs cut short at different points still plot.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cosmocore.experiments.results import Results, RunResult, SelfCorrectionRow
from cosmocore.experiments.stats import summarise
from cosmocore.types import STATUSES

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

CURVE_METRICS = (("eval/pass_at_1", "held-out pass@1 (higher is better)"),
                 ("eval/hallucination", "held-out hallucination (lower is better)"))
BUFFER_PANELS = ((("buffer/size",), "items in the buffer"), (("buffer/dream_size",), "items in the Dream Queue"),
                 (("buffer/pruned_total", "buffer/pruned"), "items pruned so far"))
_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
            "#bcbd22", "#17becf")
_STATUS_COLORS = dict(zip(STATUSES, ("#4caf50", "#ff9800", "#b71c1c", "#7b1fa2", "#e53935", "#1e88e5",
                                     "#00897b", "#616161"), strict=True))
_DPI = 100
Plot = Callable[[Results, Path], "Path | None"]


@dataclass(frozen=True)
class Band:
    """Mean over seeds and the 95% interval of the mean (NaN where only one seed has a value), at each x value."""

    x: tuple[float, ...]
    mean: tuple[float, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]


def band(runs: Sequence[RunResult], key: str, series: Callable[[RunResult], dict[str, Any]]) -> Band | None:
    """The band of `key` over `runs` against their "completions"; None when no run has a value."""
    by_x: dict[float, list[float]] = {}
    for run in runs:
        s = series(run)
        for x, y in zip(s.get("completions", ()), s.get(key, ()), strict=False):
            if x is not None and y is not None and np.isfinite(y):
                by_x.setdefault(float(x), []).append(float(y))
    if not by_x:
        return None
    xs = sorted(by_x)
    summaries = [summarise(by_x[x]) for x in xs]
    return Band(tuple(xs), tuple(s.mean for s in summaries), tuple(s.low for s in summaries),
                tuple(s.high for s in summaries))


def _default_style(plot: Plot) -> Plot:
    """Run `plot` under matplotlib's default style, whatever the user's matplotlibrc sets."""

    @functools.wraps(plot)
    def styled(results: Results, out_dir: Path) -> Path | None:
        import matplotlib.style

        with matplotlib.style.context("default"):
            return plot(results, out_dir)

    return styled


def render_plots(results: Results, out_dir: Path) -> dict[str, Path]:
    """Every plot the results have data for: plot name -> PNG path."""
    makers = {"learning_curves": learning_curves, "status_breakdown": status_breakdown,
              "buffer_occupancy": buffer_occupancy, "entropy_by_valence": entropy_by_valence,
              "cycles_to_zero_error": cycles_to_zero_error}
    out = {name: make(results, out_dir) for name, make in makers.items()}
    return {name: path for name, path in out.items() if path is not None}


# ---- the plots -----------------------------------------------------------------------------------


@_default_style
def learning_curves(results: Results, out_dir: Path) -> Path | None:
    """Held-out pass@1 (and hallucination, unless it is 1 - pass@1 throughout) vs executed completions."""
    keys = [k for k, _ in CURVE_METRICS if k != "eval/hallucination" or not _hallucination_mirrors_pass(results)]
    panels = [(key, label) for key, label in CURVE_METRICS
              if key in keys and any(band(results.runs_of(m), key, _curve) for m in results.methods)]
    if not panels:
        return None
    fig, axes = _figure(len(panels))
    for ax, (key, label) in zip(axes, panels, strict=True):
        for method, color in _colors(results).items():
            _draw_band(ax, band(results.runs_of(method), key, _curve), method, color)
        _label(ax, label, "executed completions", key)
    return _save(fig, Path(out_dir) / "learning_curves.png", f"Held-out evaluation, {_seeds_note(results)}")


@_default_style
def buffer_occupancy(results: Results, out_dir: Path) -> Path | None:
    """Buffer size, Dream Queue size and items pruned over time, per method that has a buffer."""
    panels = [(key, label) for keys, label in BUFFER_PANELS if (key := _buffer_key(results, keys))]
    if not panels:
        return None
    fig, axes = _figure(len(panels))
    for ax, (key, label) in zip(axes, panels, strict=True):
        for method, color in _colors(results).items():
            _draw_band(ax, band(results.runs_of(method), key, _buffer), method, color)
        _label(ax, label, "executed completions", key)
    return _save(fig, Path(out_dir) / "buffer_occupancy.png",
                 f"Buffer occupancy (with and without pruning: compare cosmocore and cosmocore-no-prune), "
                 f"{_seeds_note(results)}")


@_default_style
def status_breakdown(results: Results, out_dir: Path) -> Path | None:
    """Share of rollout executions by status per method (all seeds together), stacked."""
    shares = {m: s for m in results.methods if (s := _status_shares(results.runs_of(m)))}
    if not shares:
        return None
    fig, (ax,) = _figure(1, width=max(6.0, 1.2 * len(shares) + 3))
    methods, bottom = list(shares), np.zeros(len(shares))
    for status in STATUSES:
        heights = np.array([shares[m].get(status, 0.0) for m in methods])
        if heights.any():
            ax.bar(methods, heights, bottom=bottom, color=_STATUS_COLORS[status], label=status)
            bottom += heights
    _label(ax, "share of rollout executions", "method", "")
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.tick_params(axis="x", rotation=20)
    return _save(fig, Path(out_dir) / "status_breakdown.png",
                 "Rollout executions by status: every status but 'passed' is a failure")


@_default_style
def entropy_by_valence(results: Results, out_dir: Path) -> Path | None:
    """Mean token entropy of low-valence rollouts vs the rest, per method, with 95% intervals."""
    groups = {m: {g: _entropy_values(results.runs_of(m), g) for g in ("low", "rest")} for m in results.methods}
    groups = {m: g for m, g in groups.items() if g["low"] or g["rest"]}
    if not groups:
        return None
    fig, (ax,) = _figure(1, width=max(6.0, 1.2 * len(groups) + 3))
    x = np.arange(len(groups))
    for offset, (group, color, label) in zip((-0.2, 0.2), (("low", "#c62828", "valence < -0.5"),
                                                           ("rest", "#90a4ae", "the rest")), strict=True):
        _interval_bars(ax, x + offset, [groups[m][group] for m in groups], color, label)
    ax.set_xticks(x, list(groups), rotation=20)
    _label(ax, "mean token entropy (nats)", "method", "")
    ax.legend(fontsize=8)
    return _save(fig, Path(out_dir) / "entropy_by_valence.png",
                 "Token entropy by valence: mean and 95% interval over seeds")


@_default_style
def cycles_to_zero_error(results: Results, out_dir: Path) -> Path | None:
    """Cycles until no task fails, per method, with and without pruning (self-correction runs)."""
    if not results.self_correction:
        return None
    groups = _cycle_groups(results.self_correction)
    fig, (ax,) = _figure(1, width=max(6.0, 1.4 * len(groups) + 2))
    x = np.arange(len(groups))
    reached = [[float(c) for c in cycles if c is not None] for cycles in groups.values()]
    _interval_bars(ax, x, reached, "#5c6bc0", "cycles to zero error")
    for xi, values, cycles in zip(x, reached, groups.values(), strict=True):
        missed = len(cycles) - len(values)
        if missed:
            top = float(np.mean(values)) if values else 0.0
            ax.annotate(f"{missed}/{len(cycles)} not reached", (xi, top), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, [f"{m}\n({'pruning' if p else 'no pruning'})" for m, p in groups], fontsize=8)
    _label(ax, "cycles to zero error (lower is better)", "", "")
    return _save(fig, Path(out_dir) / "cycles_to_zero_error.png",
                 "Self-correction: mean and 95% interval over seeds that reached zero error")


# ---- data helpers --------------------------------------------------------------------------------


def _curve(run: RunResult) -> dict[str, Any]:
    return run.curve


def _buffer(run: RunResult) -> dict[str, Any]:
    return run.buffer


def _hallucination_mirrors_pass(results: Results) -> bool:
    """Whether every curve point has hallucination = 1 - pass@1 (the default reward), so its panel says nothing new."""
    for run in results.runs:
        points = zip(run.curve.get("eval/hallucination", ()), run.curve.get("eval/pass_at_1", ()), strict=False)
        if any(h is not None and p is not None and abs(h - (1 - p)) > 1e-9 for h, p in points):
            return False
    return True


def _buffer_key(results: Results, candidates: Sequence[str]) -> str | None:
    """The first of `candidates` that some run's buffer series has values for."""
    for key in candidates:
        if any(any(v is not None for v in run.buffer.get(key, ())) for run in results.runs):
            return key
    return None


def _status_shares(runs: Sequence[RunResult]) -> dict[str, float]:
    totals: dict[str, int] = {}
    for run in runs:
        for status, count in run.status_counts.items():
            totals[status] = totals.get(status, 0) + count
    n = sum(totals.values())
    return {s: c / n for s, c in totals.items()} if n else {}


def _entropy_values(runs: Sequence[RunResult], group: str) -> list[float]:
    values = (run.entropy_by_valence.get(group) for run in runs)
    return [float(v) for v in values if v is not None and np.isfinite(v)]


def _cycle_groups(rows: Sequence[SelfCorrectionRow]) -> dict[tuple[str, bool], list[int | None]]:
    groups: dict[tuple[str, bool], list[int | None]] = {}
    for row in rows:
        groups.setdefault((row.method, row.pruning), []).append(row.cycles_to_zero_error)
    return groups


def _colors(results: Results) -> dict[str, str]:
    """A fixed colour per method, by its place in the grid (the same in every plot)."""
    return {m: _PALETTE[i % len(_PALETTE)] for i, m in enumerate(results.methods)}


def _seeds_note(results: Results) -> str:
    return f"mean and 95% interval band over {len(results.grid.seeds)} seeds"


# ---- drawing helpers -----------------------------------------------------------------------------


def _figure(ncols: int, width: float | None = None) -> tuple[Figure, list[Axes]]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width or 5.0 * ncols, 4.0), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    return fig, list(axes)


def _draw_band(ax: Axes, b: Band | None, method: str, color: str) -> None:
    if b is None:
        return
    ax.plot(b.x, b.mean, color=color, label=method, marker="o", markersize=3, linewidth=1.5)
    ax.fill_between(b.x, b.low, b.high, color=color, alpha=0.2, linewidth=0)


def _interval_bars(ax: Axes, x: Any, values: Sequence[Sequence[float]], color: str, label: str) -> None:
    """Bars at the mean of each value list, with its 95% interval as error bars (none below 2 values)."""
    summaries = [summarise(v) for v in values]
    means = np.array([s.mean if s.n else 0.0 for s in summaries])
    lows = np.array([s.mean - s.low if s.n > 1 else 0.0 for s in summaries])
    highs = np.array([s.high - s.mean if s.n > 1 else 0.0 for s in summaries])
    ax.bar(x, means, width=0.4, color=color, label=label, yerr=np.vstack([lows, highs]), capsize=3)


def _label(ax: Axes, ylabel: str, xlabel: str, title: str) -> None:
    ax.set_ylabel(ylabel)
    ax.set_xlabel(xlabel)
    if title:
        ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0] and xlabel == "executed completions":
        ax.legend(fontsize=8)


def _save(fig: Figure, path: Path, title: str) -> Path:
    fig.suptitle(title, fontsize=10)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", metadata={"Software": None})
    return path
