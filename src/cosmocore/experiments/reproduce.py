"""`cosmocore reproduce` and `cosmocore report`: a grid run end to end, and its report re-rendered.

    GridSpec --run_grid--> OUT/runs/METHOD/seed-S/ --aggregate--> Results --> OUT/results.json,
    results.csv, report.md, report.html, PNG plots --> the headline table (returned for printing)

Everything is written atomically; a grid interrupted at any point continues where it stopped.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from cosmocore.errors import InputError
from cosmocore.experiments.aggregate import aggregate
from cosmocore.experiments.report import headline, render_report
from cosmocore.experiments.results import RESULTS_FILE, Results, SelfCorrectionRow, load_results, save_results
from cosmocore.experiments.selfcorrect import ROW_FILE
from cosmocore.experiments.runner import GridSpec, run_grid, run_self_correction


class GridProgress:
    """One overall progress line per wake step on stderr: run, step, completed runs, elapsed time."""

    def __init__(self, spec: GridSpec) -> None:
        self.runs = (len(spec.methods) + len(spec.self_correction)) * len(spec.seeds)
        self.started = time.perf_counter()
        self.seen: list[str] = []

    def __call__(self, label: str, step: int, steps: int) -> None:
        if label not in self.seen:
            self.seen.append(label)
        elapsed = time.perf_counter() - self.started
        print(f"[run {len(self.seen)}/{self.runs}] {label}: step {step}/{steps} ({elapsed:.0f} s)",
              file=sys.stderr, flush=True)


def write_outputs(results: Results, out: Path, command: str | None) -> str:
    save_results(out, results)
    files = render_report(results, out, command)
    where = f"report: {files.markdown}, {files.html}; table: {files.csv}; {len(files.plots)} plots in {out}"
    return f"{headline(results)}\n\n{where}"


def reproduce(spec: GridSpec, out: Path, config_file: Path | None = None, command: str | None = None,
              jobs: int = 1) -> str:
    """Run the grid (resumably, `jobs` runs at a time), aggregate it, write results and report; the
    headline to print."""
    progress = GridProgress(spec)
    directories = run_grid(spec, out, config_file, progress=progress, jobs=jobs)
    corrections = run_self_correction(spec, out, config_file, progress=progress, jobs=jobs)
    return write_outputs(aggregate(spec.name, directories, corrections), out, command)


def rerender(directory: Path) -> str:
    """Render the report again from a grid directory (its results.json, else its runs) or one run directory."""
    if (directory / RESULTS_FILE).exists():
        results = load_results(directory)
    elif (directory / "runs").is_dir():
        saved = sorted(directory.glob(f"selfcorrect/*/*/{ROW_FILE}"))
        rows = [SelfCorrectionRow(**json.loads(p.read_text())) for p in saved]
        results = aggregate(directory.name, sorted((directory / "runs").glob("*/seed-*")), rows)
    elif (directory / "config.yaml").exists():
        results = aggregate(directory.name, [directory])
    else:
        raise InputError(f"{directory} holds no results.json, runs/ or run to report on")
    if not results.runs:
        raise InputError(f"{directory} holds no finished run yet")
    return write_outputs(results, directory, None)
