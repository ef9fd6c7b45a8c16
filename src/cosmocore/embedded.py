"""CosmoCore's embedded default model: a small code model it trains itself on a Mini-World.

    world train splits (world seeds 0..N-1) --Problem--> (prompt, reference body), or with probability
    `noise` (prompt, an injected bug's body) --Example--> policy.pretrain.warm_start (BPE tokenizer +
    Llama-architecture model from scratch) --> DIR: an ordinary Hugging Face checkpoint + pretrain.json

The noise makes the starting policy imperfect the way real assistants are (off-by-ones, hallucinated
APIs, syntax slips, ...), so RL has failures of every kind to learn from. Only train splits are used:
test-split compositions never reach the corpus, whatever the world seed. This module is the wiring
(worlds -> corpus -> policy training); `cosmocore.policy` itself knows nothing of worlds.

`default_model_dir(cache_dir)` is the model every command means by "default": built on first use
(a few minutes on 2 CPU cores) into the cache ($COSMOCORE_CACHE, else ~/.cache/cosmocore), then reused.
Limits: a build interrupted midway leaves only a temporary folder named after its process, which
the next build removes once that process is gone (a SIGKILL cannot be caught); two processes
building at once both train, and the first to finish wins.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import os
import random
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from cosmocore.config import PretrainConfig
from cosmocore.errors import InputError
from cosmocore.types import Problem

FORMAT = 1  # bump when a change to the corpus or training makes cached models stale
REPORT_FILE = "pretrain.json"
BUGS_MODULES = {  # world -> its bug injection module (same `MUTATORS` contract)
    "miniworld-py": "cosmocore.worlds.bugs",
    "miniworld-spark": "cosmocore.worlds.spark.bugs",
}


def default_cache_dir() -> Path:
    return Path(os.environ.get("COSMOCORE_CACHE", Path.home() / ".cache" / "cosmocore"))


# ---- the corpus ----------------------------------------------------------------------------------


def _body(problem: Problem, program: str) -> str | None:
    prefix = problem.completion_prefix
    return program[len(prefix):] if program.startswith(prefix) else None


def _bug_body(problem: Problem, mutators: dict[str, Any], rng: random.Random) -> str | None:
    """The body of one injected bug of a random applicable category (None when none applies)."""
    categories = list(mutators)
    rng.shuffle(categories)
    for category in categories:
        bug = mutators[category](problem.reference, problem.entry_point, random.Random(rng.getrandbits(64)))
        if bug is not None:
            return _body(problem, bug.program)
    return None


def noisy_examples(problems: Sequence[Problem], noise: float, mutators: dict[str, Any],
                   rng: random.Random) -> tuple[list[Any], int]:
    """(prompt, body) examples: the reference body, or with probability `noise` an injected bug's.
    Also returns how many bodies are bugs."""
    from cosmocore.policy.pretrain import Example

    examples, bugs = [], 0
    for problem in problems:
        body = _body(problem, problem.reference) or ""
        if rng.random() < noise:
            buggy = _bug_body(problem, mutators, rng)
            if buggy is not None:
                body, bugs = buggy, bugs + 1
        examples.append(Example(problem.prompt, body))
    return examples, bugs


def corpus(config: PretrainConfig) -> tuple[list[list[Any]], dict[str, int]]:
    """One list of examples per world seed (the epochs), and counts for the report."""
    from cosmocore import worlds

    if config.world not in BUGS_MODULES:
        known = [w for w in worlds.world_names() if w in BUGS_MODULES]
        raise InputError(f"cannot pretrain on world {config.world!r}; choose one of: {', '.join(known)}")
    mutators = importlib.import_module(BUGS_MODULES[config.world]).MUTATORS
    rng = random.Random(f"embedded:{config.seed}")
    epochs, counts = [], {"examples": 0, "bug_bodies": 0}
    for world_seed in range(config.world_seeds):
        train = list(worlds.generate(config.world, seed=world_seed, split="train").values())
        examples, bugs = noisy_examples(train, config.noise, mutators, rng)
        epochs.append(examples)
        counts["examples"] += len(examples)
        counts["bug_bodies"] += bugs
    return epochs, counts


# ---- building ------------------------------------------------------------------------------------


def pretrain(config: PretrainConfig, out: Path, progress: Callable[[int], Any] | None = None) -> dict[str, Any]:
    """Build the embedded model into `out` (an HF checkpoint + pretrain.json); returns the report."""
    from cosmocore.policy.pretrain import warm_start

    started = time.monotonic()
    epochs, counts = corpus(config)
    out.mkdir(parents=True, exist_ok=True)
    report = warm_start(epochs, config, out, progress)
    summary = {"format": FORMAT, "config": dataclasses.asdict(config), "corpus": counts,
               "training": dataclasses.asdict(report), "total_seconds": round(time.monotonic() - started, 1)}
    (out / REPORT_FILE).write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def cached_dir(cache_dir: Path, config: PretrainConfig) -> Path:
    """Where the model for `config` is cached: named by world, seed and a digest of every setting."""
    digest = hashlib.sha256(json.dumps(dataclasses.asdict(config), sort_keys=True).encode()).hexdigest()[:10]
    return cache_dir / "models" / f"embedded-{config.world}-seed{config.seed}-f{FORMAT}-{digest}"


def default_model_dir(cache_dir: str | Path | None = None, config: PretrainConfig | None = None,
                      progress: Callable[[int], Any] | None = None) -> Path:
    """The embedded model's checkpoint directory, built (and cached) if it is not there yet."""
    config = config or PretrainConfig()
    target = cached_dir(Path(cache_dir) if cache_dir else default_cache_dir(), config)
    if (target / REPORT_FILE).is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_builds(target.parent)
    building = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.pid{os.getpid()}."))
    try:
        pretrain(config, building, progress or _announced_progress)
        try:
            building.rename(target)
        except OSError:  # another process finished first: keep its model
            shutil.rmtree(building, ignore_errors=True)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    return target


def remove_stale_builds(models_dir: Path) -> list[Path]:
    """Delete the temporary folders of builds whose process is gone (killed midway); returns them."""
    stale = [p for p in models_dir.glob(".embedded-*.pid*.*") if p.is_dir() and not _alive(_builder_pid(p))]
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
    return stale


def _builder_pid(path: Path) -> int:
    """The pid in a build folder's name `.NAME.pid<PID>.<random>` (0 when it has none)."""
    digits = path.name.rpartition(".pid")[2].partition(".")[0]
    return int(digits) if digits.isdigit() else 0


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


class LineProgress:
    """Progress as plain lines on stderr, one every `every` (share) of the steps: for logs and pipes,
    where a tqdm bar would print nothing (or a line per redraw)."""

    def __init__(self, total: int, every: float = 0.1) -> None:
        self.total, self.done, self.started = total, 0, time.monotonic()
        self.step = max(1, int(total * every))
        self.postfix: dict[str, str] = {}

    def update(self, n: int = 1) -> None:
        self.done += n
        if self.done % self.step == 0 or self.done == self.total:
            import sys

            extra = "".join(f", {k} {v}" for k, v in self.postfix.items())
            print(f"pretrain: step {self.done}/{self.total} ({self.done / self.total:.0%}), "
                  f"{time.monotonic() - self.started:.0f} s{extra}", file=sys.stderr, flush=True)

    def set_postfix(self, refresh: bool = False, **values: str) -> None:
        self.postfix = values

    def close(self) -> None:
        """Nothing to release (the tqdm interface)."""


def progress_bar(total: int) -> Any:
    """A tqdm bar over the training steps on a terminal; plain lines every 10% otherwise."""
    import sys

    if not sys.stderr.isatty():
        return LineProgress(total)
    from tqdm import tqdm

    return tqdm(total=total, desc="pretrain", unit="step", file=sys.stderr)


def _announced_progress(total: int) -> Any:
    import sys

    print("building CosmoCore's embedded default model (first use; cached afterwards)", file=sys.stderr)
    return progress_bar(total)


def format_report(summary: dict[str, Any]) -> str:
    """The lines `cosmocore pretrain` prints."""
    config, training, corpus_counts = summary["config"], summary["training"], summary["corpus"]
    return "\n".join([
        f"world {config['world']} (train splits of world seeds 0..{config['world_seeds'] - 1}), seed {config['seed']}",
        f"corpus: {corpus_counts['examples']} examples, {corpus_counts['bug_bodies']} with an injected bug "
        f"({corpus_counts['bug_bodies'] / max(1, corpus_counts['examples']):.1%})",
        f"model: {training['parameters']:,} parameters, vocabulary {training['vocab_size']}",
        f"training: {training['steps']} steps, {training['epochs']} epochs, {training['tokens']:,} tokens, "
        f"{training['seconds']} s; final body loss {training['final_body_loss']} nats/token",
        f"total: {summary['total_seconds']} s",
    ])
