"""Run directories -> `Results`: per-run final metrics and curves, the table over seeds, paired comparisons.

The declared metrics, each once (a metric's role says where the report shows it):
- headline: held-out pass@1 at the run's own step-0 evaluation (start) and at its last one (end), the
  **primary metric** `eval/pass_at_1_gain` = end - start per run, the gradient steps taken and the
  wall time (cost: equal environment budgets do not mean equal compute).
- secondary: held-out failure shares by status at the last evaluation (syntax, name, runtime error,
  wrong answer); overall held-out hallucination only where the reward makes it differ from
  1 - pass@1 (under the default reward every failure has reward <= 0, so it is that one number
  again); sample efficiency = executed completions until held-out pass@1 first reaches 80% of the
  run's final gain (None when the gain is <= 0); final buffer occupancy; mean confidence variance of
  the nocturnal phases; entropy of low-valence rollouts (valence < -0.5) over the rest's.
- diagnostic (shown, never compared): items pruned, Dream Queue size, Dream Queue share of replayed
  rows, the critic's last explained variance, completions/s, the tagger's share of the step time.
Cycles to zero error (Algorithm 1) come from the self-correction runs, aggregated in `selfcorrect.py`.

Comparisons (paired by seed, `stats.py`): the headline family `HEADLINE_FAMILY` is Holm-corrected and
the only place verdicts are given; every other method-vs-baseline pair on the primary and secondary
metrics is a second, descriptive family (Holm-adjusted p for reference, no verdict words).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cosmocore import configfile
from cosmocore.config import TrainConfig
from cosmocore.experiments.results import GridInfo, PairedRow, Results, RunResult, SelfCorrectionRow, TableRow
from cosmocore.experiments.stats import (
    completions_to_gain_fraction,
    describe_family,
    judge_family,
    paired_differences,
    summarise,
)
from cosmocore.methods import BASELINES
from cosmocore.telemetry import read_metrics
from cosmocore.types import STATUSES

METHOD = "cosmocore"  # the method the grid asks about
START, END = "eval/pass_at_1_start", "eval/pass_at_1"
PRIMARY = "eval/pass_at_1_gain"  # held-out pass@1 at the last evaluation minus the run's own step-0 one
PRIMARY_DIRECTION = 1  # a larger gain is better
HEADLINE_METRICS = (START, END, PRIMARY, "update/gradient_steps", "perf/wall_s")
HALLUCINATION = "eval/hallucination"
SECONDARY_METRICS = ("eval/status/syntax_error", "eval/status/name_error", "eval/status/runtime_error",
                     "eval/status/wrong_answer", HALLUCINATION, "sample_efficiency", "buffer/size",
                     "nocturnal/confidence_variance", "entropy/low_valence_ratio")
DIAGNOSTIC_METRICS = ("buffer/pruned", "buffer/dream_size", "nocturnal/dream_share", "update/value_explained_var",
                      "perf/samples_per_s", "perf/tagger_overhead")
# The headline family, (metric, method, baseline): the comparisons the report gives verdicts on, Holm-corrected
# together. Kept to the question the project asks (does affective replay beat plain PPO, and replay of the same
# volume without affect?) so the correction does not eat what little power 3-5 seeds have; the ablations vs
# cosmocore and everything else are descriptive. Members whose methods the grid did not run are left out.
HEADLINE_FAMILY = ((PRIMARY, METHOD, "ppo"), (PRIMARY, METHOD, "uniform-replay"))
GAIN_FRACTION = 0.8  # sample efficiency: completions until held-out pass@1 reaches this share of the final gain
BUFFER_KEYS = ("buffer/size", "buffer/dream_size", "buffer/pruned")


def _column(rows: Sequence[dict[str, Any]], key: str) -> list[Any]:
    return [row[key] for row in rows if key in row]


def _last(rows: Sequence[dict[str, Any]], key: str) -> float | None:
    values = [v for v in _column(rows, key) if v is not None]
    return float(values[-1]) if values else None


def _mean(values: Sequence[Any]) -> float | None:
    clean = [float(v) for v in values if v is not None]
    return float(np.mean(clean)) if clean else None


def entropy_by_valence(rows: Sequence[dict[str, Any]]) -> dict[str, float | None]:
    """Mean rollout entropy of low-valence rollouts and of the rest, weighted by how many each step had."""
    low = [(r["rollout/entropy_low_valence"], r["rollout/low_valence_n"]) for r in rows
           if r.get("rollout/entropy_low_valence") is not None]
    rest = [(r["rollout/entropy_rest"], _rest_n(r)) for r in rows
            if r.get("rollout/entropy_rest") is not None]
    return {"low": _weighted(low), "rest": _weighted(rest)}


def _rest_n(row: dict[str, Any]) -> float:
    total = sum(row.get(f"rollout/status/{s}", 0.0) for s in STATUSES)
    return float(total - row.get("rollout/low_valence_n", 0.0))


def _weighted(pairs: Sequence[tuple[float, float]]) -> float | None:
    weight = sum(w for _, w in pairs)
    return float(sum(v * w for v, w in pairs) / weight) if weight > 0 else None


def _eval_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if "eval/pass_at_1" in r]


def pass_at_1_progress(evals: Sequence[dict[str, Any]]) -> dict[str, float | None]:
    """Start (the step-0 evaluation), end (the last), the gain and the completions to 80% of it."""
    start = next((r["eval/pass_at_1"] for r in evals if r.get("step") == 0), None)
    end = evals[-1]["eval/pass_at_1"] if evals else None
    from_start = evals if start is not None and evals[0].get("step") == 0 else []
    efficiency = completions_to_gain_fraction([float(r.get("perf/completions") or 0.0) for r in from_start],
                                              [r["eval/pass_at_1"] for r in from_start], GAIN_FRACTION)
    gain = None if start is None or end is None else float(end) - float(start)
    return {START: start, END: end, PRIMARY: gain, "sample_efficiency": efficiency}


def final_metrics(rows: Sequence[dict[str, Any]]) -> dict[str, float | None]:
    """One run's numbers: the last evaluation's held-out metrics, the pass@1 progress and the rest."""
    evals = _eval_rows(rows)
    final = {k: v for k, v in (evals[-1] if evals else {}).items() if k.startswith("eval/")}
    entropy = entropy_by_valence([r for r in rows if "rollout/hallucination" in r])
    ratio = entropy["low"] / entropy["rest"] if entropy["low"] and entropy["rest"] else None
    return {**final, **pass_at_1_progress(evals),
            "buffer/size": _last(rows, "buffer/size"), "buffer/pruned": _last(rows, "buffer/pruned"),
            "buffer/dream_size": _last(rows, "buffer/dream_size"),
            "nocturnal/dream_share": _mean(_column(rows, "nocturnal/dream_share")),
            "nocturnal/confidence_variance": _mean(_column(rows, "nocturnal/confidence_variance")),
            "update/gradient_steps": _last(rows, "update/gradient_steps"),
            "update/value_explained_var": _last(rows, "update/value_explained_var"),
            "entropy/low_valence_ratio": ratio, "perf/samples_per_s": _last(rows, "perf/samples_per_s"),
            "perf/tagger_overhead": _last(rows, "perf/tagger_overhead"), "perf/wall_s": _last(rows, "perf/wall_s")}


def _series(rows: Sequence[dict[str, Any]], keys: Sequence[str]) -> dict[str, tuple[float | None, ...]]:
    chosen = [r for r in rows if any(k in r for k in keys)]
    if not chosen:
        return {}
    out: dict[str, tuple[float | None, ...]] = {
        "completions": tuple(float(r.get("perf/completions") or 0.0) for r in chosen)}
    out.update({k: tuple(r.get(k) for r in chosen) for k in keys})
    return out


def run_result(directory: Path) -> RunResult:
    """One run's numbers from its directory."""
    config = configfile.build(TrainConfig, configfile.read_yaml(directory / "config.yaml"))
    rows = read_metrics(directory / "metrics.jsonl")
    training = [r for r in rows if "rollout/hallucination" in r]
    counts: dict[str, int] = {s: int(sum(r.get(f"rollout/status/{s}", 0) for r in training)) for s in STATUSES}
    return RunResult(config.run.method, config.run.seed, float(_last(rows, "perf/wall_s") or 0.0),
                     final_metrics(rows), _series(_eval_rows(rows), ("eval/pass_at_1", "eval/hallucination")),
                     _series([r for r in rows if "buffer/size" in r], BUFFER_KEYS), entropy_by_valence(training),
                     counts)


def grid_info(name: str, configs: Sequence[TrainConfig]) -> GridInfo:
    first = configs[0]
    methods = tuple(dict.fromkeys(c.run.method for c in configs))
    seeds = tuple(sorted({c.run.seed for c in configs}))
    return GridInfo(name, first.run.world, first.run.benchmark, methods, seeds, first.run.steps,
                    first.run.completions_per_step, first.run.eval_every, first.run.eval_tasks, first.policy.model)


# ---- metrics, table and comparisons --------------------------------------------------------------


def hallucination_is_failure_rate(runs: Sequence[RunResult]) -> bool:
    """Whether held-out hallucination equals 1 - pass@1 in every run (the reward gives no failure reward > 0)."""
    pairs = [(r.final.get(HALLUCINATION), r.final.get(END)) for r in runs]
    return all(abs(h - (1.0 - p)) < 1e-9 for h, p in pairs if h is not None and p is not None)


def metric_roles(runs: Sequence[RunResult]) -> dict[str, str]:
    """Every table metric with its role, in table order (hallucination only where it is a number of its own)."""
    secondary = [m for m in SECONDARY_METRICS if m != HALLUCINATION or not hallucination_is_failure_rate(runs)]
    return {**dict.fromkeys(HEADLINE_METRICS, "headline"), **dict.fromkeys(secondary, "secondary"),
            **dict.fromkeys(DIAGNOSTIC_METRICS, "diagnostic")}


def table(runs: Sequence[RunResult], methods: Sequence[str], metrics: Sequence[str]) -> list[TableRow]:
    def values(method: str, metric: str) -> list[float | None]:
        return [r.final.get(metric) for r in runs if r.method == method]

    return [TableRow.from_summary(m, metric, summarise(values(m, metric))) for m in methods for metric in metrics]


def _by_seed(runs: Sequence[RunResult], method: str, metric: str) -> dict[int, float]:
    return {r.seed: v for r in runs if r.method == method and (v := r.final.get(metric)) is not None}


def _differences(runs: Sequence[RunResult], metric: str, method: str, baseline: str) -> list[float]:
    return paired_differences(_by_seed(runs, method, metric), _by_seed(runs, baseline, metric))


def headline_comparisons(runs: Sequence[RunResult], methods: Sequence[str]) -> list[PairedRow]:
    """The members of `HEADLINE_FAMILY` the grid ran, Holm-corrected together, with verdicts."""
    members = [(metric, m, b) for metric, m, b in HEADLINE_FAMILY if m in methods and b in methods]
    judged = judge_family([_differences(runs, *member) for member in members], [PRIMARY_DIRECTION] * len(members))
    return [PairedRow.from_comparison(m, b, metric, "headline", c) for (metric, m, b), c in
            zip(members, judged, strict=True)]


def compared_pairs(methods: Sequence[str]) -> list[tuple[str, str]]:
    """(method, baseline): every method vs `ppo` and `uniform-replay`, each cosmocore ablation vs cosmocore;
    a pair whose mirror is already there is left out."""
    pairs = [(m, b) for b in BASELINES if b in methods for m in methods if m != b]
    if METHOD in methods:
        pairs += [(m, METHOD) for m in methods if m.startswith(f"{METHOD}-")]
    kept: list[tuple[str, str]] = []
    for m, b in pairs:
        if (b, m) not in kept and (m, b) not in kept:
            kept.append((m, b))
    return kept


def secondary_comparisons(runs: Sequence[RunResult], methods: Sequence[str],
                          metrics: Sequence[str]) -> list[PairedRow]:
    """Every compared pair on the primary and secondary `metrics` outside the headline family, with at least
    one shared seed: a descriptive family (uncorrected 95% intervals, Holm-adjusted p for reference)."""
    members = [(metric, m, b) for m, b in compared_pairs(methods) for metric in metrics
               if (metric, m, b) not in HEADLINE_FAMILY]
    members = [member for member in members if _differences(runs, *member)]
    described = describe_family([_differences(runs, *member) for member in members])
    return [PairedRow.from_comparison(m, b, metric, "secondary", c) for (metric, m, b), c in
            zip(members, described, strict=True)]


def results_from_runs(info: GridInfo, runs: Sequence[RunResult],
                      self_correction: Sequence[SelfCorrectionRow] = ()) -> Results:
    """`Results` of finished runs: roles, the table over seeds and both families of comparisons."""
    roles = metric_roles(runs)
    compared = [PRIMARY, *(m for m, role in roles.items() if role == "secondary")]
    paired = headline_comparisons(runs, info.methods) + secondary_comparisons(runs, info.methods, compared)
    return Results(info, tuple(runs), roles, PRIMARY, tuple(table(runs, info.methods, list(roles))), tuple(paired),
                   tuple(self_correction))


def aggregate(name: str, directories: Sequence[Path],
              self_correction: Sequence[SelfCorrectionRow] = ()) -> Results:
    """`Results` of the finished runs among `directories` (unfinished ones are left out)."""
    done = [d for d in directories if (d / "DONE.json").exists()]
    configs = [configfile.build(TrainConfig, configfile.read_yaml(d / "config.yaml")) for d in done]
    return results_from_runs(grid_info(name, configs), [run_result(d) for d in done], self_correction)
