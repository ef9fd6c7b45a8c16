"""The results of an experiment grid as frozen records, and `results.json`, their one file format.

Job: hold what a grid measured (per-run curves and final metrics, the aggregated table, paired
comparisons with their tests, self-correction runs) between the runner, the aggregator and the
report, so that the report can be rendered from `results.json` alone; write it
atomically (temp file + `os.replace`: a reader sees the old file or the whole new one) and read it
back with validation, so a hand-edited or truncated file fails with an `InputError` naming the file
and the field (`runs[1].final['eval/pass_at_1']`), never with a traceback deep in the report.

Limits: the records are frozen, but their dict fields are plain dicts (so records pickle across
worker processes); treat them as read-only. Non-finite floats are written as JSON `null`; summary
statistics read back from `null` are NaN, per-run values stay None. Unknown fields are rejected
(a typo in a hand-edited file should not silently vanish); a new field means a new `version`.

Version 2 (the statistics of `stats.py`): `metrics` maps each table metric to its role (headline,
secondary, diagnostic) in table order, `primary` names the primary metric, table rows say how their
interval was made, and paired rows carry their family, interval level, p, Holm-adjusted p, MDE and
verdict. A version-1 file is refused with the way to rebuild it from its runs. Self-correction rows may
carry `bug_kind_recurrence` (added within version 2, written only when not empty: a file without it
reads as an empty map).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from cosmocore.checking import write_atomic
from cosmocore.errors import InputError
from cosmocore.experiments.stats import INTERVALS, LEVEL, VERDICTS, Comparison, Summary
from cosmocore.worlds.spark.diagnose import KINDS

SCHEMA_VERSION = 2
RESULTS_FILE = "results.json"
VALENCE_GROUPS = ("low", "rest")  # entropy of rollouts with valence < -0.5, and of the others
ROLES = ("headline", "secondary", "diagnostic")  # where a metric is shown; only headline/secondary are compared
FAMILIES = ("headline", "secondary")  # a paired row's family: Holm-corrected with verdicts, or descriptive

Series = dict[str, tuple[float | None, ...]]  # "completions" and named values, all the same length
T = TypeVar("T")


# ---- the records ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class GridInfo:
    """What was run: the grid's settings, the same for every (method, seed)."""

    name: str  # "quick", "paper" or a grid file's name
    world: str  # task world ("" when `benchmark` is set)
    benchmark: str  # benchmark name ("" when `world` is set)
    methods: tuple[str, ...]
    seeds: tuple[int, ...]
    steps: int  # wake steps per run
    completions_per_step: int  # executed completions per wake step (the environment budget per step)
    eval_every: int  # wake steps between held-out evaluations
    eval_tasks: int  # held-out tasks per evaluation
    model: str  # policy model ("default" = the embedded one)

    @property
    def budget(self) -> int:
        """Executed completions per run: the environment budget every method gets."""
        return self.steps * self.completions_per_step

    @property
    def task_source(self) -> str:
        return self.benchmark or self.world


@dataclass(frozen=True)
class RunResult:
    """One finished (method, seed) run."""

    method: str
    seed: int
    wall_s: float  # seconds the run took
    final: dict[str, float | None]  # "stage/name" -> value at the end of the run (None: not measured)
    curve: Series = field(default_factory=dict)  # held-out evaluations; first point before training
    buffer: Series = field(default_factory=dict)  # buffer occupancy over time; empty without a buffer
    entropy_by_valence: dict[str, float | None] = field(default_factory=dict)  # "low"/"rest" -> nats
    status_counts: dict[str, int] = field(default_factory=dict)  # rollout executions by status


@dataclass(frozen=True)
class TableRow:
    """One (method, metric) cell of a table, summarised over seeds."""

    method: str
    metric: str
    mean: float
    std: float
    low: float  # 95% interval of the mean (stats.LEVEL)
    high: float
    n: int  # seeds that had a value
    interval: str  # how the interval was made (stats.INTERVALS)

    @classmethod
    def from_summary(cls, method: str, metric: str, s: Summary) -> TableRow:
        return cls(method, metric, s.mean, s.std, s.low, s.high, s.n, s.interval)

    @property
    def summary(self) -> Summary:
        return Summary(self.mean, self.std, self.low, self.high, self.n, LEVEL, self.interval)


@dataclass(frozen=True)
class PairedRow:
    """`method - baseline` on one metric, paired by seed: its summary, test and verdict (stats.Comparison)."""

    method: str
    baseline: str
    metric: str
    family: str  # "headline" (Holm-corrected, verdicts) or "secondary" (descriptive)
    mean: float  # mean per-seed difference
    std: float
    low: float  # interval of the mean difference at `level`
    high: float
    level: float  # 0.95, or a headline comparison's Holm step level 1 - alpha_k
    interval: str  # how the interval was made (stats.INTERVALS)
    n: int  # seeds both runs finished
    p: float  # two-sided paired t-test
    p_adjusted: float  # Holm-adjusted within the family
    mde: float  # minimum detectable effect at 80% power and the interval's level
    verdict: str  # stats.VERDICTS

    @classmethod
    def from_comparison(cls, method: str, baseline: str, metric: str, family: str, c: Comparison) -> PairedRow:
        s = c.difference
        return cls(method, baseline, metric, family, s.mean, s.std, s.low, s.high, s.level, s.interval, s.n,
                   c.p, c.p_adjusted, c.mde, c.verdict)

    @property
    def summary(self) -> Summary:
        return Summary(self.mean, self.std, self.low, self.high, self.n, self.level, self.interval)


@dataclass(frozen=True)
class SelfCorrectionRow:
    """One Algorithm 1 / embarrassment-injection run on a task set."""

    method: str
    seed: int
    pruning: bool
    cycles_to_zero_error: int | None  # None: some task still failed at the iteration cap
    tasks: int
    bug_recurrence: dict[str, float | None] = field(default_factory=dict)  # bug category -> rate
    bug_kind_recurrence: dict[str, float] = field(default_factory=dict)  # Spark bug kind (diagnose.KINDS) -> rate


@dataclass(frozen=True)
class Results:
    """Everything `results.json` holds."""

    grid: GridInfo
    runs: tuple[RunResult, ...]
    metrics: dict[str, str]  # metric name -> its role (ROLES), in table order
    primary: str  # the primary metric (one of `metrics`), the one the headline family judges
    table: tuple[TableRow, ...]
    paired: tuple[PairedRow, ...]
    self_correction: tuple[SelfCorrectionRow, ...] = ()
    version: int = SCHEMA_VERSION

    @property
    def methods(self) -> tuple[str, ...]:
        """The grid's methods, then any other method a run or row names, in first-seen order."""
        seen = [*self.grid.methods, *(r.method for r in self.runs), *(r.method for r in self.table)]
        return tuple(dict.fromkeys(seen))

    def runs_of(self, method: str) -> tuple[RunResult, ...]:
        return tuple(sorted((r for r in self.runs if r.method == method), key=lambda r: r.seed))

    def row(self, method: str, metric: str) -> TableRow | None:
        return next((r for r in self.table if r.method == method and r.metric == metric), None)

    def paired_row(self, method: str, baseline: str, metric: str) -> PairedRow | None:
        return next((r for r in self.paired if (r.method, r.baseline, r.metric) == (method, baseline, metric)),
                    None)

    def metrics_with(self, role: str) -> tuple[str, ...]:
        """The metrics of one role, in table order."""
        return tuple(m for m, r in self.metrics.items() if r == role)

    def family(self, family: str) -> tuple[PairedRow, ...]:
        return tuple(r for r in self.paired if r.family == family)


# ---- to and from plain data ----------------------------------------------------------------------


def to_dict(results: Results) -> dict[str, Any]:
    """`results` as JSON-ready plain data (non-finite floats as None)."""
    g = results.grid
    return {
        "version": results.version,
        "grid": {"name": g.name, "world": g.world, "benchmark": g.benchmark, "methods": list(g.methods),
                 "seeds": list(g.seeds), "steps": g.steps, "completions_per_step": g.completions_per_step,
                 "eval_every": g.eval_every, "eval_tasks": g.eval_tasks, "model": g.model},
        "runs": [_run_to_dict(r) for r in results.runs],
        "metrics": dict(results.metrics),
        "primary": results.primary,
        "table": [_table_row_to_dict(r) for r in results.table],
        "paired": [_paired_row_to_dict(r) for r in results.paired],
        "self_correction": [_self_correction_to_dict(r) for r in results.self_correction],
    }


def _finite(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _series_to_dict(series: Series) -> dict[str, list[float | None]]:
    return {k: [_finite(v) for v in values] for k, values in series.items()}


def _run_to_dict(r: RunResult) -> dict[str, Any]:
    return {"method": r.method, "seed": r.seed, "wall_s": _finite(r.wall_s),
            "final": {k: _finite(v) for k, v in r.final.items()},
            "curve": _series_to_dict(r.curve), "buffer": _series_to_dict(r.buffer),
            "entropy_by_valence": {k: _finite(v) for k, v in r.entropy_by_valence.items()},
            "status_counts": dict(r.status_counts)}


def _table_row_to_dict(r: TableRow) -> dict[str, Any]:
    return {"method": r.method, "metric": r.metric, "mean": _finite(r.mean), "std": _finite(r.std),
            "low": _finite(r.low), "high": _finite(r.high), "n": r.n, "interval": r.interval}


def _paired_row_to_dict(r: PairedRow) -> dict[str, Any]:
    return {"method": r.method, "baseline": r.baseline, "metric": r.metric, "family": r.family,
            "mean": _finite(r.mean), "std": _finite(r.std), "low": _finite(r.low), "high": _finite(r.high),
            "level": r.level, "interval": r.interval, "n": r.n, "p": _finite(r.p),
            "p_adjusted": _finite(r.p_adjusted), "mde": _finite(r.mde), "verdict": r.verdict}


def _self_correction_to_dict(r: SelfCorrectionRow) -> dict[str, Any]:
    # written only when there is one, so a row without Spark tasks reads in CosmoCore from before the field
    kinds = {"bug_kind_recurrence": dict(r.bug_kind_recurrence)} if r.bug_kind_recurrence else {}
    return {"method": r.method, "seed": r.seed, "pruning": r.pruning,
            "cycles_to_zero_error": r.cycles_to_zero_error, "tasks": r.tasks,
            "bug_recurrence": {k: _finite(v) for k, v in r.bug_recurrence.items()}, **kinds}


class _FieldError(Exception):
    """A bad field, by its path from the top of the file (`runs[0].seed`)."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where, self.problem = where, problem


def results_from_dict(data: Any, source: str = "results") -> Results:
    """Validate plain data (as `to_dict` writes it) into `Results`; `InputError` names `source` and the field."""
    try:
        return _results(data)
    except _FieldError as err:
        raise InputError(f"{source}: field {err.where}: {err.problem}") from None


def _results(data: Any) -> Results:
    version = _version(data)
    d = _record(data, "(top level)", required=("version", "grid", "runs", "metrics", "primary", "table", "paired"),
                optional=("self_correction",))
    metrics = _metric_roles(d["metrics"], "metrics")
    primary = _str(d["primary"], "primary")
    if primary not in metrics:
        raise _FieldError("primary", f"{primary!r} is not one of the metrics")
    return Results(
        grid=_grid(d["grid"], "grid"),
        runs=_items(d["runs"], "runs", _run),
        metrics=metrics, primary=primary,
        table=_items(d["table"], "table", _table_row),
        paired=_items(d["paired"], "paired", _paired_row),
        self_correction=_items(d.get("self_correction", []), "self_correction", _self_correction_row),
        version=version,
    )


def _version(data: Any) -> int:
    """The file's version, checked first: an older file is told how to rebuild, not which field it lacks."""
    top = _mapping(data, "(top level)")
    if "version" not in top:
        raise _FieldError("version", "missing")
    version = _int(top["version"], "version")
    if version != SCHEMA_VERSION:
        raise _FieldError("version", f"this CosmoCore reads version {SCHEMA_VERSION}, the file has {version}; "
                                     "delete the file and run `cosmocore report` on its folder to rebuild it "
                                     "from the runs")
    return version


def _grid(data: Any, where: str) -> GridInfo:
    d = _record(data, where, required=("name", "world", "benchmark", "methods", "seeds", "steps",
                                       "completions_per_step", "eval_every", "eval_tasks", "model"))
    methods = _list(d["methods"], f"{where}.methods")
    seeds = _list(d["seeds"], f"{where}.seeds")
    return GridInfo(
        name=_str(d["name"], f"{where}.name"), world=_str(d["world"], f"{where}.world"),
        benchmark=_str(d["benchmark"], f"{where}.benchmark"),
        methods=tuple(_str(m, f"{where}.methods[{i}]") for i, m in enumerate(methods)),
        seeds=tuple(_int(s, f"{where}.seeds[{i}]") for i, s in enumerate(seeds)),
        steps=_count(d["steps"], f"{where}.steps"),
        completions_per_step=_count(d["completions_per_step"], f"{where}.completions_per_step"),
        eval_every=_count(d["eval_every"], f"{where}.eval_every"),
        eval_tasks=_count(d["eval_tasks"], f"{where}.eval_tasks"), model=_str(d["model"], f"{where}.model"))


def _run(data: Any, where: str) -> RunResult:
    d = _record(data, where, required=("method", "seed", "wall_s", "final"),
                optional=("curve", "buffer", "entropy_by_valence", "status_counts"))
    entropy = _number_map(d.get("entropy_by_valence", {}), f"{where}.entropy_by_valence")
    unknown = sorted(set(entropy) - set(VALENCE_GROUPS))
    if unknown:
        raise _FieldError(f"{where}.entropy_by_valence", f"unknown group {unknown[0]!r}; expected low, rest")
    counts = _mapping(d.get("status_counts", {}), f"{where}.status_counts")
    return RunResult(
        method=_str(d["method"], f"{where}.method"), seed=_int(d["seed"], f"{where}.seed"),
        wall_s=_required_number(d["wall_s"], f"{where}.wall_s"),
        final=_number_map(d["final"], f"{where}.final"),
        curve=_series(d.get("curve", {}), f"{where}.curve"), buffer=_series(d.get("buffer", {}), f"{where}.buffer"),
        entropy_by_valence=entropy,
        status_counts={k: _count(v, f"{where}.status_counts[{k!r}]") for k, v in counts.items()})


def _metric_roles(data: Any, where: str) -> dict[str, str]:
    return {k: _choice(v, f"{where}[{k!r}]", ROLES) for k, v in _mapping(data, where).items()}


def _table_row(data: Any, where: str) -> TableRow:
    d = _record(data, where, required=("method", "metric", "mean", "std", "low", "high", "n", "interval"))
    mean, std, low, high = _summary_values(d, where)
    return TableRow(_str(d["method"], f"{where}.method"), _str(d["metric"], f"{where}.metric"), mean, std, low,
                    high, _count(d["n"], f"{where}.n"), _choice(d["interval"], f"{where}.interval", INTERVALS))


_PAIRED_FIELDS = ("method", "baseline", "metric", "family", "mean", "std", "low", "high", "level", "interval", "n",
                  "p", "p_adjusted", "mde", "verdict")


def _paired_row(data: Any, where: str) -> PairedRow:
    d = _record(data, where, required=_PAIRED_FIELDS)
    mean, std, low, high = _summary_values(d, where)
    return PairedRow(
        _str(d["method"], f"{where}.method"), _str(d["baseline"], f"{where}.baseline"),
        _str(d["metric"], f"{where}.metric"), _choice(d["family"], f"{where}.family", FAMILIES),
        mean, std, low, high, _level(d["level"], f"{where}.level"),
        _choice(d["interval"], f"{where}.interval", INTERVALS), _count(d["n"], f"{where}.n"),
        _probability(d["p"], f"{where}.p"), _probability(d["p_adjusted"], f"{where}.p_adjusted"),
        _nan_if_none(_number(d["mde"], f"{where}.mde")), _choice(d["verdict"], f"{where}.verdict", VERDICTS))


def _summary_values(d: Mapping[str, Any], where: str) -> tuple[float, float, float, float]:
    values = [_nan_if_none(_number(d[k], f"{where}.{k}")) for k in ("mean", "std", "low", "high")]
    return values[0], values[1], values[2], values[3]


def _self_correction_row(data: Any, where: str) -> SelfCorrectionRow:
    d = _record(data, where, required=("method", "seed", "pruning", "cycles_to_zero_error", "tasks"),
                optional=("bug_recurrence", "bug_kind_recurrence"))
    cycles = d["cycles_to_zero_error"]
    return SelfCorrectionRow(
        method=_str(d["method"], f"{where}.method"), seed=_int(d["seed"], f"{where}.seed"),
        pruning=_bool(d["pruning"], f"{where}.pruning"),
        cycles_to_zero_error=None if cycles is None else _count(cycles, f"{where}.cycles_to_zero_error"),
        tasks=_count(d["tasks"], f"{where}.tasks"),
        bug_recurrence=_number_map(d.get("bug_recurrence", {}), f"{where}.bug_recurrence"),
        bug_kind_recurrence=_kind_rates(d.get("bug_kind_recurrence", {}), f"{where}.bug_kind_recurrence"))


def _kind_rates(data: Any, where: str) -> dict[str, float]:
    rates = _mapping(data, where)
    unknown = sorted(set(rates) - set(KINDS))
    if unknown:
        raise _FieldError(where, f"unknown bug kind {unknown[0]!r}; expected one of: {', '.join(KINDS)}")
    return {k: _rate(v, f"{where}[{k!r}]") for k, v in rates.items()}


# ---- field checks (each raises _FieldError naming the field) -------------------------------------


def _record(data: Any, where: str, required: Sequence[str], optional: Sequence[str] = ()) -> dict[str, Any]:
    d = _mapping(data, where)
    missing = [k for k in required if k not in d]
    if missing:
        raise _FieldError(_join(where, missing[0]), "missing")
    unknown = sorted(set(d) - set(required) - set(optional))
    if unknown:
        raise _FieldError(_join(where, unknown[0]), "unknown field")
    return d


def _join(where: str, key: str) -> str:
    return key if where == "(top level)" else f"{where}.{key}"


def _mapping(data: Any, where: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise _FieldError(where, f"expected an object, got {_kind(data)}")
    return data


def _list(data: Any, where: str) -> list[Any]:
    if not isinstance(data, list):
        raise _FieldError(where, f"expected a list, got {_kind(data)}")
    return data


def _items(data: Any, where: str, read: Callable[[Any, str], T]) -> tuple[T, ...]:
    return tuple(read(item, f"{where}[{i}]") for i, item in enumerate(_list(data, where)))


def _str(data: Any, where: str) -> str:
    if not isinstance(data, str):
        raise _FieldError(where, f"expected a string, got {_kind(data)}")
    return data


def _bool(data: Any, where: str) -> bool:
    if not isinstance(data, bool):
        raise _FieldError(where, f"expected true or false, got {_kind(data)}")
    return data


def _int(data: Any, where: str) -> int:
    if isinstance(data, bool) or not isinstance(data, int):
        raise _FieldError(where, f"expected an integer, got {_kind(data)}")
    return data


def _count(data: Any, where: str) -> int:
    value = _int(data, where)
    if value < 0:
        raise _FieldError(where, f"expected a count (>= 0), got {value}")
    return value


def _number(data: Any, where: str) -> float | None:
    if data is None:
        return None
    if isinstance(data, bool) or not isinstance(data, int | float):
        raise _FieldError(where, f"expected a number or null, got {_kind(data)}")
    return float(data)


def _choice(data: Any, where: str, choices: Sequence[str]) -> str:
    value = _str(data, where)
    if value not in choices:
        raise _FieldError(where, f"unknown value {value!r}; expected one of: {', '.join(choices)}")
    return value


def _probability(data: Any, where: str) -> float:
    """A p-value: a number in [0, 1], or null (NaN: untested)."""
    value = _number(data, where)
    if value is not None and not 0.0 <= value <= 1.0:
        raise _FieldError(where, f"expected a probability in [0, 1] or null, got {value!r}")
    return _nan_if_none(value)


def _rate(data: Any, where: str) -> float:
    value = _required_number(data, where)
    if not 0.0 <= value <= 1.0:
        raise _FieldError(where, f"expected a rate in [0, 1], got {value!r}")
    return value


def _level(data: Any, where: str) -> float:
    value = _required_number(data, where)
    if not 0.0 < value < 1.0:
        raise _FieldError(where, f"expected an interval level in (0, 1), got {value!r}")
    return value


def _required_number(data: Any, where: str) -> float:
    value = _number(data, where)
    if value is None:
        raise _FieldError(where, "expected a number, got null")
    return value


def _nan_if_none(x: float | None) -> float:
    return float("nan") if x is None else x


def _number_map(data: Any, where: str) -> dict[str, float | None]:
    return {k: _number(v, f"{where}[{k!r}]") for k, v in _mapping(data, where).items()}


def _series(data: Any, where: str) -> Series:
    d = _mapping(data, where)
    out = {k: tuple(_number(v, f"{where}[{k!r}][{i}]") for i, v in enumerate(_list(values, f"{where}[{k!r}]")))
           for k, values in d.items()}
    if out and "completions" not in out:
        raise _FieldError(_join(where, "completions"), "missing (the x axis of every other series)")
    lengths = {k: len(v) for k, v in out.items()}
    for key, length in lengths.items():
        if length != lengths.get("completions", length):
            raise _FieldError(f"{where}[{key!r}]", f"has {length} points, 'completions' has {lengths['completions']}")
    return out


def _kind(data: Any) -> str:
    names = {type(None): "null", bool: "a boolean", str: "a string", list: "a list", dict: "an object"}
    if type(data) in names:
        return names[type(data)]
    return f"the number {data!r}" if isinstance(data, int | float) else type(data).__name__


# ---- the file ------------------------------------------------------------------------------------


def save_results(path: Path, results: Results) -> Path:
    """Write `results` as JSON to `path` atomically (a folder gets `results.json`); returns the file."""
    path = _file(Path(path))
    write_text_atomic(path, json.dumps(to_dict(results), indent=1, allow_nan=False) + "\n")
    return path


write_text_atomic = write_atomic  # one atomic writer for the project (cosmocore.checking)


def load_results(path: Path) -> Results:
    """Read and validate `results.json` (or the one in folder `path`); bad files raise `InputError`."""
    path = _file(Path(path))
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file (run `cosmocore reproduce` to make one)") from None
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: cannot read: {err}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"{path}: not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})") from None
    return results_from_dict(data, source=str(path))


def _file(path: Path) -> Path:
    return path / RESULTS_FILE if path.is_dir() else path
