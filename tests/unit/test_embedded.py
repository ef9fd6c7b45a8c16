"""The embedded default model's wiring: the noisy corpus, the world check, the cache."""

from __future__ import annotations

import dataclasses
import os
import random

import pytest

from cosmocore import embedded, worlds
from cosmocore.config import PretrainConfig
from cosmocore.errors import InputError
from cosmocore.worlds.bugs import MUTATORS

TINY = PretrainConfig(world_seeds=1, vocab_size=400, hidden_size=32, layers=1, heads=2, steps=3, batch_size=8)


@pytest.fixture(scope="module")
def train_problems():
    return list(worlds.generate("miniworld-py", seed=0, split="train", n=200).values())


def test_noisy_examples_replace_about_the_noise_share_of_bodies_with_injected_bugs(train_problems):
    examples, bugs = embedded.noisy_examples(train_problems, 0.3, MUTATORS, random.Random(0))
    references = [p.reference[len(p.completion_prefix):] for p in train_problems]
    changed = sum(e.body != r for e, r in zip(examples, references, strict=True))
    assert changed == bugs and 40 <= bugs <= 80
    assert [e.prompt for e in examples] == [p.prompt for p in train_problems]
    clean, none = embedded.noisy_examples(train_problems, 0.0, MUTATORS, random.Random(0))
    assert none == 0 and [e.body for e in clean] == references


def test_the_corpus_holds_only_train_split_tasks(monkeypatch):
    seen: list[tuple[int, str]] = []
    real = worlds.generate

    def spy(world, seed=0, split="all", n=None):  # type: ignore[no-untyped-def]
        seen.append((seed, split))
        return real(world, seed=seed, split=split, n=20)

    monkeypatch.setattr(worlds, "generate", spy)
    epochs, counts = embedded.corpus(dataclasses.replace(TINY, world_seeds=2, noise=0.5))
    assert seen == [(0, "train"), (1, "train")]
    assert len(epochs) == 2 and counts["examples"] == 40 and counts["bug_bodies"] > 0


def test_an_unknown_world_is_an_input_error_naming_the_choices():
    with pytest.raises(InputError, match="miniworld-py"):
        embedded.corpus(dataclasses.replace(TINY, world="nope"))


def test_the_default_model_is_built_on_first_use_then_read_from_the_cache(tmp_path, monkeypatch):
    from transformers import AutoModelForCausalLM

    directory = embedded.default_model_dir(tmp_path, TINY, progress=lambda total: None)
    assert directory == embedded.cached_dir(tmp_path, TINY) and (directory / "pretrain.json").is_file()
    AutoModelForCausalLM.from_pretrained(directory)  # a tiny pretrain run, loadable as a plain HF model
    monkeypatch.setattr(embedded, "pretrain", lambda *a, **k: pytest.fail("rebuilt a cached model"))
    assert embedded.default_model_dir(tmp_path, TINY) == directory
    assert [p.name for p in directory.parent.iterdir()] == [directory.name]  # no temporary folder left


def test_cache_dir_defaults_to_the_environment_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("COSMOCORE_CACHE", str(tmp_path))
    assert embedded.default_cache_dir() == tmp_path


def test_a_killed_builds_folder_is_removed_by_the_next_build_and_a_live_ones_is_kept(tmp_path):
    import subprocess

    from cosmocore.embedded import remove_stale_builds

    gone = subprocess.Popen(["true"])
    gone.wait()  # a pid whose process has exited
    dead = tmp_path / f".embedded-miniworld-py-seed0-f1-abc.pid{gone.pid}.x1"
    live = tmp_path / f".embedded-miniworld-py-seed0-f1-abc.pid{os.getpid()}.x2"
    for folder in (dead, live):
        (folder / "part").mkdir(parents=True)
    assert remove_stale_builds(tmp_path) == [dead]
    assert not dead.exists() and live.exists()


def test_progress_off_a_terminal_is_a_line_every_tenth_of_the_steps(capsys):
    from cosmocore.embedded import LineProgress

    progress = LineProgress(20)
    for _ in range(20):
        progress.update(1)
        progress.set_postfix(body_loss="1.234", refresh=False)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 10 and lines[-1].startswith("pretrain: step 20/20 (100%)")
    assert lines[-1].endswith("body_loss 1.234")
