"""The report of a grid: `report.md`, `report.html`, `results.csv` and the plots, from `Results` alone.

Job: say at a glance what a grid measured and whether CosmoCore beat each baseline, whatever the
answer. The report and the terminal `headline` open with at most five lines that answer it: the
primary metric (held-out pass@1 gain over the run's own step 0) of CosmoCore vs `ppo` and vs
`uniform-replay`, each with the paired mean difference, its Holm-corrected interval, MDE and verdict,
then whether any method learned at all (each method's gain with its 95% interval). Then one compact
table of the headline family (comparison, difference, interval, adjusted p, MDE, verdict), the
per-method table (start, end, gain, gradient steps, wall time), the secondary metrics and their
descriptive comparisons, the diagnostics, Algorithm 1, the plots, the paper's numbers beside ours,
the grid settings and the command that made it. `headline` is the terminal form (what
`cosmocore reproduce` and `cosmocore demo` print at the end).

Verdicts are the aggregator's (`stats.judge_family`): "better" / "worse" only for the headline
family, where the corrected interval excludes 0 and the Holm-adjusted p <= 0.05; otherwise
"no resolvable difference (MDE x)". Secondary comparisons get intervals, p-values and MDEs but no
verdict words.

Limits: the report shows what `results.json` holds and derives only ratios and summaries of its
per-run values for the paper's claims (ppo -> cosmocore hallucination, buffer bloat, entropy ratio,
self-correction means). The paper's numbers come from `paper.py` and appear only in the column
labelled "paper (reported, not reproduced)". The HTML is self-contained (inline style, images by
relative file name, no scripts).
"""

from __future__ import annotations

import csv
import html
import io
import math
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cosmocore.experiments import paper
from cosmocore.experiments.aggregate import HALLUCINATION, HEADLINE_FAMILY, METHOD
from cosmocore.experiments.results import PairedRow, Results, TableRow, write_text_atomic
from cosmocore.experiments.stats import (
    BETTER,
    NO_VERDICT,
    UNRESOLVED,
    WORSE,
    Summary,
    paired_differences,
    summarise,
)
from cosmocore.methods import BASELINES

CSV_FIELDS = ("method", "metric", "role", "mean", "std", "low", "high", "n", "interval")
METRIC_NAMES = {
    "eval/pass_at_1_start": "held-out pass@1 at step 0",
    "eval/pass_at_1": "held-out pass@1 at the end",
    "eval/pass_at_1_gain": "held-out pass@1 gain over step 0",
    "eval/hallucination": "held-out hallucination",
    "eval/mean_reward": "held-out mean reward",
    "sample_efficiency": "completions to 80% of the final gain",
    "buffer/size": "buffer occupancy (final)",
    "buffer/pruned": "items pruned",
    "buffer/dream_size": "Dream Queue size (final)",
    "nocturnal/confidence_variance": "confidence variance",
    "entropy/low_valence_ratio": "entropy, low valence / rest",
    "perf/wall_s": "wall time (s)",
    "perf/samples_per_s": "completions/s",
    "perf/tagger_overhead": "tagger share of step time",
    "update/gradient_steps": "gradient steps",
    "update/value_explained_var": "critic explained variance",
    "nocturnal/dream_share": "Dream Queue share of replayed rows",
}
INTERVAL_NOTE = ("Intervals are Student t below 10 seeds and studentised bootstrap (bootstrap-t) from 10 seeds; "
                 "one seed gives none.")
PLOT_CAPTIONS = {
    "learning_curves": "Held-out pass@1 vs executed completions (mean, 95% interval band over seeds).",
    "status_breakdown": "Rollout executions by status, per method.",
    "buffer_occupancy": "Buffer occupancy over time (cosmocore vs cosmocore-no-prune shows what pruning does).",
    "entropy_by_valence": "Token entropy of low-valence rollouts (valence < -0.5) vs the rest.",
    "cycles_to_zero_error": "Self-correction: cycles to zero error, with and without pruning.",
}


@dataclass(frozen=True)
class ReportFiles:
    """What `render_report` wrote."""

    markdown: Path
    html: Path
    csv: Path
    plots: dict[str, Path]  # plot name -> PNG, only those the results had data for


# ---- the report's content as blocks (rendered to Markdown and to HTML) ---------------------------


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Para:
    text: str


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Image:
    file: str  # relative to the report
    caption: str


@dataclass(frozen=True)
class Code:
    text: str


Block = Heading | Para | Bullets | Table | Image | Code


def render_report(results: Results, out_dir: Path, command: str | None = None) -> ReportFiles:
    """Write the plots, `report.md`, `report.html` and `results.csv` into `out_dir`.

    `command`: the command line that produced the results (shown as is); without it, the
    equivalent `cosmocore reproduce` line is shown.
    """
    from cosmocore.experiments.plots import render_plots

    out_dir = Path(out_dir)
    plots = render_plots(results, out_dir)
    blocks = report_blocks(results, plots, command or reproduce_command(results, out_dir), out_dir)
    files = ReportFiles(out_dir / "report.md", out_dir / "report.html", out_dir / "results.csv", plots)
    write_text_atomic(files.markdown, to_markdown(blocks))
    write_text_atomic(files.html, to_html(blocks, title(results)))
    write_text_atomic(files.csv, table_csv(results))
    return files


def report_blocks(results: Results, plots: dict[str, Path], command: str, out_dir: Path) -> list[Block]:
    """The whole report, top to bottom: the answer in at most five lines first, then the full tables."""
    return [
        Heading(title(results), 1),
        Bullets(tuple(answer_lines(results))),
        Para(scope_line(results)),
        *family_section(results),
        Heading("Results by method"),
        Para(f"Mean ± std over seeds; the gain is the per-run end minus step 0, mean [95% interval]. "
             f"{INTERVAL_NOTE} (n=k) where fewer seeds had a value."),
        method_table(results, results.metrics_with("headline"), intervals=False),
        *secondary_section(results),
        Heading("Diagnostics"),
        Para("What the mechanisms did and what they cost, per method (mean ± std over seeds); not compared."),
        method_table(results, results.metrics_with("diagnostic"), intervals=False),
        *self_correction_section(results),
        *plot_section(plots),
        *paper_section(results),
        Heading("Grid settings"),
        settings_table(results),
        Heading("How this was produced"),
        Code(command),
        Para("Re-render this report from the saved results with:"),
        Code(f"cosmocore report {shlex.quote(str(out_dir))}"),
    ]


def title(results: Results) -> str:
    return f"CosmoCore results: {results.grid.name} grid on {results.grid.task_source or 'no task source'}"


def scope_line(results: Results) -> str:
    g = results.grid
    planned = len(g.methods) * len(g.seeds)
    wall = sum(r.wall_s for r in results.runs)
    return (f"{len(results.runs)} of {planned} runs finished ({len(g.methods)} methods x {seeds(len(g.seeds))}), "
            f"each with the same budget of {g.budget} executed completions; {wall:.0f} s of run time in all.")


# ---- numbers in words ----------------------------------------------------------------------------


def metric_name(metric: str) -> str:
    """The metric in words ("eval/pass_at_1_gain" -> "held-out pass@1 gain over step 0")."""
    if metric in METRIC_NAMES:
        return METRIC_NAMES[metric]
    if metric.startswith("eval/status/"):
        return f"held-out {metric.removeprefix('eval/status/')} share"
    return metric


def method_name(method: str) -> str:
    return "CosmoCore" if method == METHOD else method


def fmt(x: float | None) -> str:
    """A number for people: 2 decimals from 0.01 to 10, fewer above, more below; "n/a" for missing."""
    if x is None or not math.isfinite(x):
        return "n/a"
    size = abs(x)
    if size >= 100:
        return f"{x:.0f}"
    if size >= 10:
        return f"{x:.1f}"
    if size >= 0.01 or size == 0:
        return f"{x:.2f}"
    return f"{x:.3f}" if size >= 0.001 else f"{x:.1e}"


def fmt_p(p: float) -> str:
    """A p-value: three decimals, "<0.001" below that, "n/a" when untested."""
    if not math.isfinite(p):
        return "n/a"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def interval(s: Summary | TableRow | PairedRow) -> str:
    return f"[{fmt(s.low)}, {fmt(s.high)}]"


def level_words(row: PairedRow) -> str:
    """The interval's level and how it was made: "97.5% t", "95% bootstrap-t" ("no interval" below 2 seeds)."""
    return "no interval" if row.interval == "none" else f"{100 * row.level:.4g}% {row.interval}"


def seeds(n: int) -> str:
    return f"{n} seed" if n == 1 else f"{n} seeds"


def _signed(x: float) -> str:
    return fmt(x) if not math.isfinite(x) or x < 0 else f"+{fmt(x)}"


def verdict_words(row: PairedRow) -> str:
    """The verdict with the MDE beside it: "better (MDE 0.04)", "no resolvable difference (MDE 0.21)"."""
    if row.n == 0:
        return "no verdict: no seed finished for both"
    if row.verdict == NO_VERDICT:
        return "no verdict: one seed gives no interval"
    if row.verdict in (BETTER, WORSE, UNRESOLVED):
        return f"{row.verdict} (MDE {fmt(row.mde)})"
    return row.verdict


def comparison_name(row: PairedRow) -> str:
    return f"{method_name(row.method)} vs {row.baseline}"


# ---- the answer ----------------------------------------------------------------------------------


def answer_lines(results: Results) -> list[str]:
    """At most five lines: each declared headline comparison (or why it is missing), then the learning line."""
    lines = []
    for metric, method, baseline in HEADLINE_FAMILY:
        row = results.paired_row(method, baseline, metric)
        lines.append(family_line(row) if row is not None and row.family == "headline" else
                     f"{method_name(method)} vs {baseline}: not in this grid (it ran {', '.join(results.methods)}).")
    return [*lines, learned_line(results)]


def family_line(row: PairedRow) -> str:
    """One headline comparison in a line: difference, corrected interval, adjusted p, verdict with MDE."""
    if row.n < 2:
        return f"{comparison_name(row)}, {metric_name(row.metric)}: {_signed(row.mean)} on {seeds(row.n)}; " \
               f"{verdict_words(row)}."
    return (f"{comparison_name(row)}, {metric_name(row.metric)}: {_signed(row.mean)} (paired, {seeds(row.n)}), "
            f"Holm-corrected {level_words(row)} interval {interval(row)}, adjusted p {fmt_p(row.p_adjusted)}: "
            f"{verdict_words(row)}.")


def learned_line(results: Results) -> str:
    """Whether any method learned: each method's gain over step 0 with its 95% interval, in one line."""
    rows = [(m, row) for m in results.methods if (row := results.row(m, results.primary)) is not None and row.n]
    if not rows:
        return f"Learned at all? No run has a {metric_name(results.primary)} (no step-0 evaluation)."
    cells = "; ".join(f"{m} {_signed(r.mean)} {interval(r)}" for m, r in rows)
    above = [m for m, r in rows if r.summary.excludes_zero() and r.mean > 0]
    return (f"Learned at all? {metric_name(results.primary)}, mean [95% interval, uncorrected]: {cells}; "
            f"interval above 0 for {', '.join(above) or 'none'}.")


# ---- tables --------------------------------------------------------------------------------------


def family_section(results: Results) -> list[Block]:
    """The headline family as one compact table, with the rule it was judged by."""
    rows = results.family("headline")
    table = tuple((f"{comparison_name(r)} ({seeds(r.n)})", _signed(r.mean), f"{interval(r)} {level_words(r)}",
                   fmt_p(r.p_adjusted), fmt(r.mde), verdict_words(r)) for r in rows)
    declared = " and ".join(f"{method_name(m)} vs {b}" for _, m, b in HEADLINE_FAMILY)
    return [Heading("Headline comparisons"), Para(
        f"{metric_name(results.primary)}, method minus baseline paired by seed. The family is declared in advance "
        f"({declared}, those the grid ran) and Holm-corrected at 5% family-wise "
        "error: each interval is at its Holm step's level 1 - 0.05/(m - k + 1), p is the two-sided paired "
        "t-test, Holm-adjusted. A verdict needs the corrected interval to exclude 0 and the adjusted p <= 0.05; "
        "MDE = (t(1 - alpha_k/2, n-1) + t(0.8, n-1)) s / sqrt(n), the true difference these seeds would "
        "detect with 80% power."),
        Table(("comparison", "difference", "interval", "adjusted p", "MDE", "verdict"), table)
        if table else Para("No headline comparison: the grid did not run CosmoCore and a baseline.")]


def method_table(results: Results, metrics: Sequence[str], intervals: bool = True) -> Table:
    """Methods x `metrics`: the primary as mean [interval], the rest as mean ± std, with [interval] if `intervals`."""
    header = ("method", "seeds", *(metric_name(m) for m in metrics))
    rows = [(m, str(len(results.runs_of(m))), *(_cell(results.row(m, metric), len(results.runs_of(m)),
                                                      metric == results.primary, intervals) for metric in metrics))
            for m in results.methods]
    return Table(header, tuple(rows))


def _cell(row: TableRow | None, finished: int, primary: bool, intervals: bool) -> str:
    if row is None or row.n == 0:
        return "n/a"
    n = "" if row.n == finished else f" (n={row.n})"
    if row.n == 1:
        return f"{fmt(row.mean)}{n}"
    if primary:
        return f"{_signed(row.mean)} {interval(row)}{n}"
    return f"{fmt(row.mean)} ± {fmt(row.std)}{f' {interval(row)}' if intervals else ''}{n}"


def secondary_section(results: Results) -> list[Block]:
    """The secondary metrics per method, then their paired comparisons (descriptive, no verdicts)."""
    metrics = results.metrics_with("secondary")
    dropped = "" if HALLUCINATION in metrics else (
        " Held-out hallucination is left out: under this grid's reward it equals 1 - pass@1 in every run.")
    rows = tuple((comparison_name(r), metric_name(r.metric), f"{_signed(r.mean)} {interval(r)}", str(r.n),
                  fmt_p(r.p), fmt_p(r.p_adjusted), fmt(r.mde)) for r in results.family("secondary"))
    return [Heading("Secondary metrics"),
            Para(f"Mean ± std [95% interval] over seeds. {INTERVAL_NOTE}{dropped}"),
            method_table(results, metrics),
            Heading("Secondary comparisons (descriptive)", 3),
            Para("Method minus baseline paired by seed: the other pairs on the primary metric and every pair on "
                 "the secondary ones, with uncorrected 95% intervals, the paired t-test's p, p Holm-adjusted "
                 "within this secondary family (for reference) and the MDE at 5%. These get no verdict words."),
            Table(("comparison", "metric", "difference [95% interval]", "seeds", "p", "p (Holm, secondary)",
                   "MDE"), rows) if rows else Para("No secondary comparisons in these results.")]


def self_correction_section(results: Results) -> list[Block]:
    lines = self_correction_lines(results)
    return [Heading("Self-correction (Algorithm 1)"), Bullets(tuple(lines))] if lines else []


def settings_table(results: Results) -> Table:
    g = results.grid
    rows = (("grid", g.name), ("world", g.world or "-"), ("benchmark", g.benchmark or "-"),
            ("methods", ", ".join(g.methods)), ("seeds", ", ".join(map(str, g.seeds))),
            ("wake steps per run", str(g.steps)), ("executed completions per step", str(g.completions_per_step)),
            ("budget per run (executed completions)", str(g.budget)),
            ("held-out evaluation", f"every {g.eval_every} steps on {g.eval_tasks} tasks"), ("model", g.model))
    return Table(("setting", "value"), rows)


def reproduce_command(results: Results, out_dir: Path) -> str:
    """The `cosmocore reproduce` line equivalent to the grid's settings."""
    g = results.grid
    source = f"--benchmark {g.benchmark}" if g.benchmark else f"--world {g.world}"
    return (f"cosmocore reproduce --grid {shlex.quote(g.name)} --methods {' '.join(g.methods)} "
            f"--seeds {' '.join(map(str, g.seeds))} {source} --out {shlex.quote(str(out_dir))}")


def table_csv(results: Results) -> str:
    """The table as CSV, one line per method x metric with its role (missing values empty)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for r in results.table:
        writer.writerow([r.method, r.metric, results.metrics.get(r.metric, ""),
                         *(_csv_number(x) for x in (r.mean, r.std, r.low, r.high)), r.n, r.interval])
    return buffer.getvalue()


def _csv_number(x: float) -> str:
    return repr(float(x)) if math.isfinite(x) else ""


def plot_section(plots: dict[str, Path]) -> list[Block]:
    if not plots:
        return []
    return [Heading("Plots"), *(Image(path.name, PLOT_CAPTIONS.get(name, name)) for name, path in plots.items())]


# ---- the paper beside ours -----------------------------------------------------------------------


def paper_section(results: Results) -> list[Block]:
    """The paper's Table 1 and section 7 claims, each beside our matching number (if this grid has one)."""
    source = results.grid.task_source
    matched = paper.table_1_rows_for(source)
    rows = [(f"hallucination on {p.benchmark}, baseline -> CosmoCore",
             _ours_hallucination(results) if p in matched else f"not run (this grid ran on {source})",
             p.text(), p.source) for p in paper.TABLE_1]
    rows += [(c.what, _ours_claim(results, c.key), c.claim + (f" ({c.note})" if c.note else ""), c.source)
             for c in paper.CLAIMS]
    return [Heading("The paper's numbers beside ours"),
            Para("Our numbers come from this grid only. The paper's are what it reports, in their own column: "
                 "they were not reproduced here and nothing of ours is derived from them."),
            Table(("claim", "ours (this grid)", paper.PAPER_COLUMN, "where in the paper"), tuple(rows))]


def _ours_claim(results: Results, key: str) -> str:
    if key == "self_correction":
        return _ours_self_correction(results)
    if key == "buffer_bloat":
        return _ours_bloat(results)
    if key == "entropy_low_valence":
        return _ours_entropy_ratio(results)
    return "not compared"


def _ours_hallucination(results: Results) -> str:
    """ppo -> cosmocore held-out hallucination (means over seeds), the relative change, and the paired
    difference by seed with its 95% interval (descriptive; from the runs' final values)."""
    base, ours = _final_by_seed(results, "ppo", HALLUCINATION), _final_by_seed(results, METHOD, HALLUCINATION)
    if not base or not ours:
        return "not measured in this grid (needs ppo and cosmocore)"
    b, o = summarise(list(base.values())), summarise(list(ours.values()))
    change = f" ({_percent(o.mean / b.mean - 1)})" if b.mean else ""
    paired = summarise(paired_differences(ours, base))
    text = f"{fmt(b.mean)} -> {fmt(o.mean)}{change}"
    if paired.n > 1:
        text += f"; paired difference {_signed(paired.mean)} {interval(paired)}, {seeds(paired.n)}"
    return text


def _final_by_seed(results: Results, method: str, metric: str) -> dict[int, float]:
    return {r.seed: v for r in results.runs_of(method) if (v := r.final.get(metric)) is not None}


def _ours_self_correction(results: Results) -> str:
    """Mean cycles to zero error, a baseline (no pruning rows needed) -> cosmocore with pruning."""
    ours = _cycles(results, METHOD, pruning=True)
    base_name = next((b for b in BASELINES if _cycles(results, b, pruning=None)), None)
    if not ours or base_name is None:
        return "not measured in this grid (needs self-correction runs of cosmocore and ppo or uniform-replay)"
    base = _cycles(results, base_name, pruning=None)
    b, o = summarise([c for c in base if c is not None]), summarise([c for c in ours if c is not None])
    change = f" ({_percent(o.mean / b.mean - 1)})" if b.n and o.n and b.mean else ""
    return (f"{base_name} {_one_decimal(b.mean)} -> cosmocore {_one_decimal(o.mean)} cycles{change}; "
            f"zero error reached in {b.n} of {len(base)} {base_name} runs and {o.n} of {len(ours)} cosmocore runs")


def _one_decimal(x: float) -> str:
    return f"{x:.1f}" if math.isfinite(x) else "n/a"


def _cycles(results: Results, method: str, pruning: bool | None) -> list[int | None]:
    return [r.cycles_to_zero_error for r in results.self_correction
            if r.method == method and (pruning is None or r.pruning == pruning)]


def _ours_bloat(results: Results) -> str:
    """Final buffer size of cosmocore-no-prune over cosmocore's, per seed, as a percentage."""
    with_prune = _final_sizes(results, METHOD)
    without = _final_sizes(results, "cosmocore-no-prune")
    shared = sorted(set(with_prune) & set(without))
    ratios = [without[s] / with_prune[s] - 1 for s in shared if with_prune[s] > 0]
    if not ratios:
        return "not measured in this grid (needs cosmocore and cosmocore-no-prune with buffer sizes)"
    s = summarise(ratios)
    return f"{_percent(s.mean)} [{_percent(s.low)}, {_percent(s.high)}], {seeds(s.n)}"


def _final_sizes(results: Results, method: str) -> dict[int, float]:
    sizes = {}
    for run in results.runs_of(method):
        values = [v for v in run.buffer.get("buffer/size", ()) if v is not None]
        final = values[-1] if values else run.final.get("buffer/size")
        if final is not None and math.isfinite(final):
            sizes[run.seed] = float(final)
    return sizes


def _ours_entropy_ratio(results: Results) -> str:
    """cosmocore's low-valence entropy over the rest's, per seed."""
    ratios = []
    for run in results.runs_of(METHOD):
        low, rest = run.entropy_by_valence.get("low"), run.entropy_by_valence.get("rest")
        if low is not None and rest is not None and rest > 0:
            ratios.append(low / rest)
    if not ratios:
        return "not measured in this grid (needs cosmocore runs with entropy by valence)"
    s = summarise(ratios)
    return f"{fmt(s.mean)}x [{fmt(s.low)}, {fmt(s.high)}], {seeds(s.n)}"


def _percent(fraction: float) -> str:
    return f"{100 * fraction:+.0f}%" if math.isfinite(fraction) else "n/a"


# ---- rendering -----------------------------------------------------------------------------------


def to_markdown(blocks: Sequence[Block]) -> str:
    return "\n\n".join(_markdown(b) for b in blocks) + "\n"


def _markdown(block: Block) -> str:
    if isinstance(block, Heading):
        return f"{'#' * block.level} {block.text}"
    if isinstance(block, Para):
        return block.text
    if isinstance(block, Bullets):
        return "\n".join(f"- {item}" for item in block.items)
    if isinstance(block, Table):
        lines = [block.header, tuple("---" for _ in block.header), *block.rows]
        return "\n".join("| " + " | ".join(c.replace("|", "\\|") for c in line) + " |" for line in lines)
    if isinstance(block, Image):
        return f"![{block.caption}]({block.file})\n\n*{block.caption}*"
    return f"```\n{block.text}\n```"


_STYLE = ("body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
          "table{border-collapse:collapse;margin:1em 0;font-size:0.9em}"
          "th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}"
          "th{background:#f3f3f3}img{max-width:100%}figcaption{font-size:0.9em;color:#555}"
          "pre{background:#f6f6f6;padding:0.6em;overflow-x:auto}")


def to_html(blocks: Sequence[Block], page_title: str) -> str:
    body = "\n".join(_html(b) for b in blocks)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{html.escape(page_title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n{body}\n"
            "</body>\n</html>\n")


def _html(block: Block) -> str:
    e = html.escape
    if isinstance(block, Heading):
        return f"<h{block.level}>{e(block.text)}</h{block.level}>"
    if isinstance(block, Para):
        return f"<p>{e(block.text)}</p>"
    if isinstance(block, Bullets):
        return "<ul>\n" + "\n".join(f"<li>{e(item)}</li>" for item in block.items) + "\n</ul>"
    if isinstance(block, Table):
        head = "<tr>" + "".join(f"<th>{e(c)}</th>" for c in block.header) + "</tr>"
        rows = ["<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in block.rows]
        return "<table>\n" + "\n".join([head, *rows]) + "\n</table>"
    if isinstance(block, Image):
        return (f'<figure><img src="{e(block.file)}" alt="{e(block.caption)}">'
                f"<figcaption>{e(block.caption)}</figcaption></figure>")
    return f"<pre><code>{e(block.text)}</code></pre>"


# ---- the terminal headline -----------------------------------------------------------------------


def headline(results: Results) -> str:
    """The terminal form: the title and the answer (at most five lines), then the scope, the per-method
    table (start, end, gain, gradient steps, wall time) and Algorithm 1; the report has everything."""
    metrics = results.metrics_with("headline")
    header = ["method", *(metric_name(m) for m in metrics)]
    rows = [[m, *(_short_cell(results.row(m, metric), metric == results.primary) for metric in metrics)]
            for m in results.methods]
    widths = [max(len(line[i]) for line in [header, *rows]) for i in range(len(header))]
    lines = [title(results), *answer_lines(results), "", scope_line(results), ""]
    lines += ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in [header, *rows]]
    corrections = [f"- {line}" for line in self_correction_lines(results)]
    return "\n".join(lines + (["", *corrections] if corrections else []))


def self_correction_lines(results: Results) -> list[str]:
    """Algorithm 1, per method: cycles to zero error over seeds (or how many seeds never got there)."""
    lines = []
    for method in dict.fromkeys(r.method for r in results.self_correction):
        rows = [r for r in results.self_correction if r.method == method]
        done = [r.cycles_to_zero_error for r in rows if r.cycles_to_zero_error is not None]
        reached = f"mean {sum(done) / len(done):.1f} cycles over {len(done)} seed(s)" if done else "not reached"
        lines.append(f"self-correction (Algorithm 1), {method}: zero error on {rows[0].tasks} held-out tasks "
                     f"{reached}; {len(rows) - len(done)} of {len(rows)} seed(s) hit the cycle cap")
    return lines


def _short_cell(row: TableRow | None, primary: bool) -> str:
    if row is None or row.n == 0:
        return "n/a"
    return f"{_signed(row.mean)} {interval(row)}" if primary and row.n > 1 else fmt(row.mean)
