"""Run directories -> `Results`: per-run final metrics and curves, the table over seeds, paired differences.

Per run (from its `metrics.jsonl`): the held-out metrics of the last evaluation; the training
hallucination fraction over the whole run; sample efficiency (executed completions until the held-out
pass@1 first reaches 0.8, None = not reached); the buffer's final occupancy, pruned count and Dream
Queue size; the mean Dream Queue share of replayed rows and confidence variance of the nocturnal
phases; the gradient steps taken and the critic's last explained variance; mean rollout entropy at
low valence (< -0.5) and for the rest, weighted by rollouts; wall time, completions/s and the
tagger's share of the step time. Over seeds: mean, std and 95% bootstrap interval per method;
paired per-seed differences of every method against `ppo` and `uniform-replay`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cosmocore import configfile
from cosmocore.config import TrainConfig
from cosmocore.experiments.results import GridInfo, PairedRow, Results, RunResult, SelfCorrectionRow, TableRow
from cosmocore.experiments.stats import paired_difference, steps_to_threshold, summarise
from cosmocore.methods import BASELINES
from cosmocore.telemetry import read_metrics
from cosmocore.types import STATUSES

METRICS = (
    "eval/pass_at_1", "eval/hallucination", "rollout/hallucination", "sample_efficiency",
    "eval/status/syntax_error", "eval/status/name_error", "eval/status/runtime_error",
    "eval/status/wrong_answer", "buffer/size", "buffer/pruned", "buffer/dream_size", "nocturnal/dream_share",
    "nocturnal/confidence_variance", "update/gradient_steps", "update/value_explained_var",
    "entropy/low_valence_ratio", "perf/samples_per_s", "perf/tagger_overhead", "perf/wall_s",
)
TARGET_PASS_RATE = 0.8  # sample efficiency: executed completions until held-out pass@1 reaches this
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


def final_metrics(rows: Sequence[dict[str, Any]]) -> dict[str, float | None]:
    evals = _eval_rows(rows)
    final = {k: v for k, v in (evals[-1] if evals else {}).items() if k.startswith("eval/")}
    training = [r for r in rows if "rollout/hallucination" in r]
    efficiency = steps_to_threshold([int(r.get("perf/completions", 0)) for r in evals],
                                    [r["eval/pass_at_1"] for r in evals], TARGET_PASS_RATE)
    entropy = entropy_by_valence(training)
    ratio = entropy["low"] / entropy["rest"] if entropy["low"] and entropy["rest"] else None
    return {**final, "rollout/hallucination": _mean(_column(training, "rollout/hallucination")),
            "sample_efficiency": None if efficiency is None else float(efficiency),
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


def table(runs: Sequence[RunResult], methods: Sequence[str]) -> list[TableRow]:
    def values(method: str, metric: str) -> list[float]:
        return [v for r in runs if r.method == method and (v := r.final.get(metric)) is not None]

    return [TableRow.from_summary(m, metric, summarise(values(m, metric))) for m in methods for metric in METRICS]


def paired(runs: Sequence[RunResult], methods: Sequence[str]) -> list[PairedRow]:
    def by_seed(method: str, metric: str) -> dict[int, float]:
        return {r.seed: v for r in runs if r.method == method and (v := r.final.get(metric)) is not None}

    return [PairedRow.from_summary(m, base, metric, paired_difference(by_seed(m, metric), by_seed(base, metric)))
            for base in BASELINES if base in methods for m in methods if m != base for metric in METRICS]


def aggregate(name: str, directories: Sequence[Path],
              self_correction: Sequence[SelfCorrectionRow] = ()) -> Results:
    """`Results` of the finished runs among `directories` (unfinished ones are left out)."""
    done = [d for d in directories if (d / "DONE.json").exists()]
    configs = [configfile.build(TrainConfig, configfile.read_yaml(d / "config.yaml")) for d in done]
    runs = [run_result(d) for d in done]
    info = grid_info(name, configs)
    return Results(info, tuple(runs), METRICS, tuple(table(runs, info.methods)), tuple(paired(runs, info.methods)),
                   tuple(self_correction))
