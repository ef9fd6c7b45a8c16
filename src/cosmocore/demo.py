"""`cosmocore demo` / `make demo`: the main job, end to end: does affective dream replay help, here?

    1. the sandbox's isolation layers, probed from inside (one line each)
    2. the embedded default model: built on first use (a few minutes on 2 CPU cores), then cached
    3. the quick grid (`cosmocore reproduce --grid quick`): ppo, uniform-replay, cosmocore and
       cosmocore-no-prune x 3 seeds on miniworld-py at the same environment budget, plus the paper's
       Algorithm 1 (self-correction cycles) for ppo and cosmocore
    4. results.json, results.csv, report.md, report.html and the plots under --out; the headline
       table and the Holm-corrected verdict against each baseline, whatever it is, printed at the end

A second run reuses the cached model and the finished runs (delete --out to run the grid again).
"""

from __future__ import annotations

import time
from pathlib import Path

from cosmocore.config import SandboxConfig
from cosmocore.sandbox.doctor import diagnose


def _probe() -> None:
    print("== sandbox isolation (cosmocore doctor)", flush=True)
    for finding in diagnose(SandboxConfig(timeout_s=5.0)):
        print(f"[{'on ' if finding.on else 'OFF'}] {finding.layer}", flush=True)


def _model(cache_dir: str | None) -> str:
    from cosmocore.embedded import default_model_dir

    print("\n== the embedded default model (built on first use, then cached)", flush=True)
    started = time.perf_counter()
    directory = default_model_dir(cache_dir)
    print(f"model: {directory} ({time.perf_counter() - started:.0f} s)", flush=True)
    return str(directory)


def run_demo(out: Path, grid: str = "quick", cache_dir: str | None = None) -> int:
    """The whole main job; 0 when every run finished and the report was written."""
    from cosmocore.experiments.reproduce import reproduce
    from cosmocore.experiments.runner import load_grid, with_choices

    started = time.perf_counter()
    _probe()
    model = _model(cache_dir)
    spec = with_choices(load_grid(grid), None, None, {"policy.model": model})
    print(f"\n== cosmocore reproduce --grid {grid} --out {out}  ({len(spec.methods)} methods x "
          f"{len(spec.seeds)} seeds; progress on stderr)", flush=True)
    print(reproduce(spec, out, command=f"cosmocore demo --out {out}"), flush=True)
    print(f"\ndemo finished in {time.perf_counter() - started:.0f} s; everything is under {out}")
    return 0
