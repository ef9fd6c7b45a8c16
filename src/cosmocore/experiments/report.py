"""The report of a grid: `report.md`, `report.html`, `results.csv` and the plots, from `Results` alone.

Job: say at a glance what a grid measured and whether CosmoCore beat each baseline, whatever the
answer: a headline table (mean ± std [95% interval] over seeds), paired differences against `ppo`
and `uniform-replay` with a plain-words verdict per metric, the plots, the paper's Table 1 and
section 7 claims beside our matching numbers, the grid settings and the command that made it.
`headline` is the terminal form (what `cosmocore demo` prints at the end).

A verdict is decided by the paired 95% interval alone: if it excludes 0 the change is stated with
its size and whether it is better or worse (lower is better for hallucination, sample efficiency,
cycles, recurrence and failure shares; higher for pass rates and reward); otherwise "no difference
the interval can resolve". One seed gives no interval, hence no verdict.

Limits: the report shows what `results.json` holds and derives only ratios of it (buffer bloat,
entropy ratio, self-correction means); the table and paired rows are the aggregator's. The paper's
numbers come from `paper.py` and appear only in the column labelled "paper (reported, not
reproduced)". The HTML is self-contained (inline style, images by relative file name, no scripts).
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
from cosmocore.experiments.results import PairedRow, Results, TableRow, write_text_atomic
from cosmocore.experiments.stats import Summary, summarise
from cosmocore.methods import BASELINES

CSV_FIELDS = ("method", "metric", "mean", "std", "low", "high", "n")
METHOD = "cosmocore"  # the method the headline speaks for
METRIC_NAMES = {
    "eval/pass_at_1": "held-out pass@1",
    "eval/hallucination": "held-out hallucination",
    "eval/mean_reward": "held-out mean reward",
    "sample_efficiency": "sample efficiency (completions to 80% pass@1)",
    "cycles_to_zero_error": "cycles to zero error",
    "bug_recurrence": "bug recurrence",
    "wall_s": "wall time (s)",
    "update/gradient_steps": "gradient steps",
    "update/value_explained_var": "critic explained variance",
    "nocturnal/dream_share": "Dream Queue share of replayed rows",
}
_HIGHER_BETTER = ("pass_at", "pass_rate", "status/passed", "reward")
_LOWER_BETTER = ("hallucination", "sample_efficiency", "cycles", "recurrence", "/status/", "error", "wall_s")
PLOT_CAPTIONS = {
    "learning_curves": "Held-out pass@1 and hallucination vs executed completions (mean, 95% bootstrap band).",
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


@dataclass(frozen=True)
class Verdict:
    """A paired difference judged in plain words."""

    outcome: str  # "better", "worse", "changed" (direction not judged), "unresolved", "no verdict"
    text: str


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
    write_text_atomic(files.csv, table_csv(results.table))
    return files


def report_blocks(results: Results, plots: dict[str, Path], command: str, out_dir: Path) -> list[Block]:
    """The whole report, top to bottom."""
    return [
        Heading(title(results), 1),
        Para(scope_line(results)),
        Heading("Verdict"),
        Bullets(tuple(baseline_tallies(results)) + tuple(v.text for v in headline_verdicts(results))),
        Heading("Results by method"),
        Para("Mean ± std [95% bootstrap interval of the mean] over seeds; (n=k) where fewer seeds had a value."),
        method_table(results),
        *paired_section(results),
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


# ---- numbers and verdicts ------------------------------------------------------------------------


def metric_name(metric: str) -> str:
    """The metric in words ("eval/hallucination" -> "held-out hallucination")."""
    if metric in METRIC_NAMES:
        return METRIC_NAMES[metric]
    if metric.startswith("eval/status/"):
        return f"held-out {metric.removeprefix('eval/status/')} share"
    return metric


def better_direction(metric: str) -> int:
    """+1 when higher is better, -1 when lower is better, 0 when the report does not judge it."""
    name = metric.lower()
    if any(word in name for word in _HIGHER_BETTER):
        return 1
    if any(word in name for word in _LOWER_BETTER):
        return -1
    return 0


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


def interval(s: Summary | TableRow | PairedRow) -> str:
    return f"[{fmt(s.low)}, {fmt(s.high)}]"


def seeds(n: int) -> str:
    return f"{n} seed" if n == 1 else f"{n} seeds"


def judge(row: PairedRow) -> Verdict:
    """`row` (method - baseline, paired by seed) in plain words, decided by whether its interval excludes 0."""
    who, base, what = method_name(row.method), row.baseline, metric_name(row.metric)
    if row.n == 0:
        return Verdict("no verdict", f"{who} vs {base} on {what}: no seed finished for both, nothing to compare.")
    if row.n == 1:
        return Verdict("no verdict", f"{who} vs {base} on {what}: {_signed(row.mean)} on one seed; "
                                     "one seed gives no interval, so no verdict.")
    if not row.summary.excludes_zero():
        return Verdict("unresolved", f"{who} vs {base} on {what}: no difference the interval can resolve "
                                     f"({_signed(row.mean)} {interval(row)}, {seeds(row.n)}).")
    verb = "lowered" if row.mean < 0 else "raised"
    low, high = (-row.high, -row.low) if row.mean < 0 else (row.low, row.high)
    change = f"{who} {verb} {what} vs {base} by {fmt(abs(row.mean))} [{fmt(low)}, {fmt(high)}] ({seeds(row.n)})"
    direction = better_direction(row.metric)
    if direction == 0:
        return Verdict("changed", f"{change}.")
    better = (row.mean > 0) == (direction > 0)
    return Verdict("better" if better else "worse", f"{change}: {'better' if better else 'worse'}.")


def _signed(x: float) -> str:
    return fmt(x) if not math.isfinite(x) or x < 0 else f"+{fmt(x)}"


def headline_verdicts(results: Results) -> list[Verdict]:
    """CosmoCore's verdict against each baseline on each table metric (every method's if no cosmocore)."""
    rows = [r for r in _ordered_paired(results) if r.method == METHOD] or _ordered_paired(results)
    return [judge(r) for r in rows]


def baseline_tallies(results: Results) -> list[str]:
    """Per baseline, one line: on how many metrics CosmoCore was better, worse, or not resolved."""
    rows = [r for r in _ordered_paired(results) if r.method == METHOD]
    lines = []
    for baseline in dict.fromkeys(r.baseline for r in rows):
        outcomes = [judge(r).outcome for r in rows if r.baseline == baseline]
        better, worse = outcomes.count("better"), outcomes.count("worse")
        lines.append(f"Against {baseline}: CosmoCore was better on {better} and worse on {worse} of "
                     f"{len(outcomes)} metrics; on {len(outcomes) - better - worse} the data give no verdict.")
    return lines or ["No paired differences of CosmoCore against a baseline in these results."]


def _ordered_paired(results: Results) -> list[PairedRow]:
    """Paired rows by baseline (ppo, uniform-replay first), then method, then the table's metric order."""
    baselines = list(dict.fromkeys([*BASELINES, *(r.baseline for r in results.paired)]))
    methods, metrics = list(results.methods), list(results.metrics)

    def key(r: PairedRow) -> tuple[int, int, int]:
        return (baselines.index(r.baseline), _index(methods, r.method), _index(metrics, r.metric))

    return sorted(results.paired, key=key)


def _index(items: Sequence[str], item: str) -> int:
    return items.index(item) if item in items else len(items)


# ---- tables --------------------------------------------------------------------------------------


def method_table(results: Results) -> Table:
    """Methods x metrics: mean ± std [low, high], with the number of finished seeds."""
    header = ("method", "seeds", *(metric_name(m) for m in results.metrics))
    rows = [(m, str(len(results.runs_of(m))), *(_cell(results.row(m, metric), len(results.runs_of(m)))
                                                  for metric in results.metrics)) for m in results.methods]
    return Table(header, tuple(rows))


def _cell(row: TableRow | None, finished: int) -> str:
    if row is None or row.n == 0:
        return "n/a"
    n = "" if row.n == finished else f" (n={row.n})"
    return f"{fmt(row.mean)} ± {fmt(row.std)} {interval(row)}{n}"


def paired_section(results: Results) -> list[Block]:
    """One table of paired differences per baseline, each with its verdicts."""
    blocks: list[Block] = [Heading("Paired differences"), Para(
        "Method minus baseline on the same seed, mean [95% bootstrap interval]; a verdict needs an interval "
        "that excludes 0.")]
    rows = _ordered_paired(results)
    for baseline in dict.fromkeys(r.baseline for r in rows):
        table = [(r.method, metric_name(r.metric), f"{_signed(r.mean)} {interval(r)}", str(r.n), judge(r).text)
                 for r in rows if r.baseline == baseline]
        blocks += [Heading(f"vs {baseline}", 3),
                   Table(("method", "metric", "difference", "seeds", "verdict"), tuple(table))]
    if not rows:
        blocks.append(Para("No paired differences in these results."))
    return blocks


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


def table_csv(rows: Sequence[TableRow]) -> str:
    """The headline table as CSV, one line per method x metric (missing values empty)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for r in rows:
        writer.writerow([r.method, r.metric, *(_csv_number(x) for x in (r.mean, r.std, r.low, r.high)), r.n])
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
    """ppo -> cosmocore held-out hallucination, the relative change, and the paired interval."""
    base, ours = results.row("ppo", "eval/hallucination"), results.row(METHOD, "eval/hallucination")
    if base is None or ours is None or not base.n or not ours.n:
        return "not measured in this grid (needs ppo and cosmocore)"
    change = f" ({_percent(ours.mean / base.mean - 1)})" if base.mean else ""
    text = f"{fmt(base.mean)} -> {fmt(ours.mean)}{change}"
    paired = results.paired_row(METHOD, "ppo", "eval/hallucination")
    if paired is not None and paired.n:
        text += f"; paired difference {_signed(paired.mean)} {interval(paired)}, {seeds(paired.n)}"
    return text


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


HEADLINE_METRICS = ("eval/pass_at_1", "eval/hallucination", "rollout/hallucination", "buffer/size",
                    "cycles_to_zero_error", "perf/wall_s")


def headline(results: Results, metrics: Sequence[str] = HEADLINE_METRICS) -> str:
    """A compact table (mean [95% interval] per method) of the key `metrics` and CosmoCore's verdicts on
    them, for a terminal; the report has every metric."""
    shown = [m for m in metrics if m in results.metrics]
    header = ["method", *(metric_name(m) for m in shown)]
    rows = [[m, *(_short_cell(results.row(m, metric)) for metric in shown)] for m in results.methods]
    widths = [max(len(line[i]) for line in [header, *rows]) for i in range(len(header))]
    lines = [title(results), scope_line(results), ""]
    lines += ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in [header, *rows]]
    pairs = zip(_cosmocore_rows(results), headline_verdicts(results), strict=True)
    lines += ["", *baseline_tallies(results), *(f"- {v.text}" for r, v in pairs if r.metric in shown)]
    return "\n".join(lines + self_correction_lines(results))


def self_correction_lines(results: Results) -> list[str]:
    """Algorithm 1, per method: cycles to zero error over seeds (or how many seeds never got there)."""
    lines = []
    for method in dict.fromkeys(r.method for r in results.self_correction):
        rows = [r for r in results.self_correction if r.method == method]
        done = [r.cycles_to_zero_error for r in rows if r.cycles_to_zero_error is not None]
        reached = f"mean {sum(done) / len(done):.1f} cycles over {len(done)} seed(s)" if done else "not reached"
        lines.append(f"- self-correction (Algorithm 1), {method}: zero error on {rows[0].tasks} held-out tasks "
                     f"{reached}; {len(rows) - len(done)} of {len(rows)} seed(s) hit the cycle cap")
    return ["", *lines] if lines else []


def _cosmocore_rows(results: Results) -> list[PairedRow]:
    return [r for r in _ordered_paired(results) if r.method == METHOD] or _ordered_paired(results)


def _short_cell(row: TableRow | None) -> str:
    if row is None or row.n == 0:
        return "n/a"
    return f"{fmt(row.mean)} {interval(row)}"
