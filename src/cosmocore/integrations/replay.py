"""Prompt-level dream replay for outside trainers: which prompts were "cringe", and the draw that re-asks them.

Outside trainers (TRL, verl) keep no trajectory store CosmoCore could replay from, and hold no policy
embeddings for the affective tagger. So this module applies the CosmoCore rules to *prompts*, with the
tagger's own training targets in place of its predictions:

    per judged completion of a prompt's group (the trainer's G completions of one prompt):
      TD  = r - mean(r over the group)                      the GRPO baseline (DESIGN 1)
      v   = scold label of its status                       `cosmocore.affect.scold` (wrong answer -0.6,
                                                            runtime -0.7, name / syntax error -1, pass 0)
      a   = clip(|TD| / (width x running RMS of TD), 0, 1)  `cosmocore.affect.arousal` (AffectConfig decay, width)
      p   = |TD| + lambda |v| a + eps                       `cosmocore.buffer.priority` (BufferConfig lambda, eps)
    a prompt is a *dream prompt* while its latest judged group holds a failing completion inside the
    Dream Queue (|v| > dream_valence and a > dream_arousal); its weight is the largest p**alpha of those.

A sampler asks `choose(rng)` for each prompt slot it fills: while there are dream prompts, a slot is a
replay with probability `replay_fraction`, and a replay draw is a dream prompt by weight (a
`cosmocore.buffer.sumtree.SumTree` over dataset positions) with probability `dream_fraction` (0.8,
the nocturnal phase's mix) and otherwise a uniform draw over the dataset; every other slot is the next
fresh prompt (`None`). `ReplayStats` counts the draws of each kind.

Limits: it replays prompts, not stored trajectories: the policy answers the prompt again, so no
off-policy correction (importance weights, staleness caps) is needed, but the failing trajectory
itself is never replayed exactly and there is no Prune Bin (nothing is stored to prune). A prompt
needs at least two judged completions in a group to show any surprise (one completion has TD 0).
A group whose completions all fail alike has TD 0 and is not a dream prompt (it gives GRPO no signal
anyway). The memory lives in one process and is lost on restart; thread-safe.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from cosmocore.config import AffectConfig, BufferConfig
from cosmocore.errors import InputError
from cosmocore.types import Feedback, Status

__all__ = ["DreamPrompts", "FreshThenReplay", "ReplayStats"]

Source = Literal["fresh", "dream", "uniform"]


@dataclass(frozen=True)
class ReplayStats:
    """What the replay memory holds and what it has handed out."""

    dream_size: int  # prompts in the Dream Queue now
    groups_seen: int  # judged prompt groups observed
    fresh: int  # slots filled with the next fresh prompt
    dream: int  # replay draws from the Dream Queue (by weight)
    uniform: int  # replay draws uniform over the dataset

    def metrics(self) -> dict[str, float]:
        """For a trainer's logger, under the "replay/" namespace."""
        replays = self.dream + self.uniform
        return {"replay/dream_size": float(self.dream_size), "replay/groups_seen": float(self.groups_seen),
                "replay/replay_share": replays / max(1, replays + self.fresh),
                "replay/dream_share_of_replays": self.dream / max(1, replays)}


@dataclass(frozen=True)
class _Salience:
    """One group's per-completion numbers (arrays of the group's length)."""

    td: np.ndarray  # reward units
    valence: np.ndarray  # [-1, 1]
    arousal: np.ndarray  # [0, 1]
    failed: np.ndarray  # bool


class DreamPrompts:
    """The replay memory over a dataset of `size` prompts, keyed by dataset position (0 .. size-1)."""

    def __init__(self, size: int, *, replay_fraction: float = 0.25, dream_fraction: float = 0.8,
                 buffer: BufferConfig | None = None, affect: AffectConfig | None = None) -> None:
        checks = {"size": size >= 1, "replay_fraction": 0.0 <= replay_fraction <= 1.0,
                  "dream_fraction": 0.0 <= dream_fraction <= 1.0}
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            value = {"size": size, "replay_fraction": replay_fraction, "dream_fraction": dream_fraction}[bad[0]]
            raise InputError(f"invalid replay setting {bad[0]}={value!r}")
        from cosmocore.affect.arousal import ArousalScale
        from cosmocore.buffer.sumtree import SumTree

        self.size, self.replay_fraction, self.dream_fraction = size, replay_fraction, dream_fraction
        self.buffer, self.affect = buffer or BufferConfig(), affect or AffectConfig()
        self._tree = SumTree(size)  # leaf i = p**alpha of dataset position i while it is a dream prompt, else 0
        self._members: set[int] = set()
        self._scale = ArousalScale()
        self._counts = {"fresh": 0, "dream": 0, "uniform": 0, "groups": 0}
        self._lock = threading.Lock()

    # ---- writing: judged groups ---------------------------------------------------------------------

    def observe(self, keys: Sequence[int], rewards: Sequence[float], statuses: Sequence[Status]) -> None:
        """Record judged completions: `keys[i]` is the dataset position of completion i's prompt.

        Completions with the same key form one group (its baseline is their mean reward); keys outside
        0 .. size-1 raise InputError."""
        if not len(keys) == len(rewards) == len(statuses):
            raise InputError(f"observe: {len(keys)} keys, {len(rewards)} rewards, {len(statuses)} statuses")
        groups: dict[int, list[int]] = defaultdict(list)
        for i, key in enumerate(keys):
            if not 0 <= int(key) < self.size:
                raise InputError(f"replay key {key} is outside the dataset (0..{self.size - 1})")
            groups[int(key)].append(i)
        if not groups:
            return
        with self._lock:
            saliences = self._saliences(groups, np.asarray(rewards, np.float64), list(statuses))
            for key, salience in saliences.items():
                self._place(key, salience)
            self._counts["groups"] += len(groups)

    def _saliences(self, groups: dict[int, list[int]], rewards: np.ndarray,
                   statuses: list[Status]) -> dict[int, _Salience]:
        import torch

        from cosmocore.affect.arousal import arousal_targets
        from cosmocore.affect.scold import status_scold

        td = np.zeros(len(rewards))
        for members in groups.values():
            td[members] = rewards[members] - rewards[members].mean()
        arousal, self._scale = arousal_targets(torch.from_numpy(td), self._scale, self.affect.arousal_decay,
                                               self.affect.arousal_width)
        valence = np.array([status_scold(Feedback(float(r), s, 0.0, 0.0), self.affect.success_valence)
                            for r, s in zip(rewards, statuses, strict=True)])
        failed = np.array([s != "passed" for s in statuses])
        a = arousal.numpy().astype(np.float64)
        return {key: _Salience(td[m], valence[m], a[m], failed[m]) for key, m in groups.items()}

    def _place(self, key: int, s: _Salience) -> None:
        from cosmocore.buffer import priority as rules

        cfg = self.buffer
        dream = rules.in_dream_queue(s.valence, s.arousal, cfg.dream_valence, cfg.dream_arousal) & s.failed
        if dream.any():
            p = rules.priority(s.td[dream], s.valence[dream], s.arousal[dream], cfg.affect_weight, cfg.priority_eps)
            self._tree.set(np.array([key]), float(rules.sampling_weight(p, cfg.alpha).max()))
            self._members.add(key)
        elif key in self._members:
            self._tree.set(np.array([key]), 0.0)
            self._members.discard(key)

    # ---- reading: draws -----------------------------------------------------------------------------

    def choose(self, rng: np.random.Generator) -> int | None:
        """A replayed dataset position for the next prompt slot, or None: take the next fresh prompt."""
        with self._lock:
            position, source = self._draw(rng)
            self._counts[source] += 1
            return position

    def _draw(self, rng: np.random.Generator) -> tuple[int | None, Source]:
        if not self._members or rng.random() >= self.replay_fraction:
            return None, "fresh"
        if rng.random() < self.dream_fraction:
            return int(self._tree.sample(1, rng)[0]), "dream"
        return int(rng.integers(self.size)), "uniform"

    def dream_prompts(self) -> dict[int, float]:
        """The dream prompts now: dataset position -> sampling weight (p**alpha)."""
        with self._lock:
            return {key: float(self._tree.leaves[key]) for key in sorted(self._members)}

    def stats(self) -> ReplayStats:
        with self._lock:
            c = self._counts
            return ReplayStats(len(self._members), c["groups"], c["fresh"], c["dream"], c["uniform"])


class FreshThenReplay:
    """The prompt positions a sampler hands out: each slot a replay from `memory`, or the next fresh one.

    Fresh prompts come from an endless run of shuffled passes over the dataset (`shuffle=False`: in
    order), so a replayed slot defers fresh prompts to later instead of dropping them.
    """

    def __init__(self, memory: DreamPrompts, shuffle: bool = True, seed: int = 0) -> None:
        self.memory, self.shuffle = memory, shuffle
        self.rng = np.random.default_rng(seed)
        self._fresh = self._passes()

    def _passes(self) -> Iterator[int]:
        while True:
            order = self.rng.permutation(self.memory.size) if self.shuffle else np.arange(self.memory.size)
            yield from (int(i) for i in order)

    def next(self) -> int:
        replay = self.memory.choose(self.rng)
        return next(self._fresh) if replay is None else replay
