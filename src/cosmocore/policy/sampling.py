"""Batched sampling with the model's own KV cache, one token at a time, recording what RL needs.

Per step and row: the sampling distribution (temperature, then top-p; `distribution`), one token
drawn from it with a seeded generator, that token's log-prob and the distribution's entropy (nats),
and the value of the state the token was drawn in. A row ends at an end-of-sequence token, when its
decoded text contains a stop sequence (the text is cut before it; the tokens stay), or at
`max_new_tokens`. Each sampled token is fed back once more, so its final hidden state is known: the
code embedding is the mean of those over the completion's tokens. Finished rows leave the cache.

Limits: one prompt batch is held in memory at a time (its KV cache included); a prompt longer than
the model's context minus `max_new_tokens` keeps only its last tokens (recorded in `prompt_ids`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from cosmocore.config import PolicyConfig
from cosmocore.policy import distribution
from cosmocore.policy.backends import DecoderOnly, EncoderDecoder
from cosmocore.policy.text import find_stop
from cosmocore.policy.value_head import ValueHead


@dataclass
class Row:
    """One completion while it is being sampled (mutable; becomes a `Completion` at the end)."""

    tokens: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)
    entropy: list[float] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    text: str = ""
    finish_reason: str = ""
    checked: int = 0  # characters of `text` already searched for stop sequences


@dataclass(frozen=True)
class Sampled:
    """A finished row with its pooled embeddings (numpy float32)."""

    row: Row
    prompt_embedding: np.ndarray
    code_embedding: np.ndarray


Decode = Callable[[list[int]], str]


def _finish(row: Row, token: int, eos_ids: frozenset[int], decode: Decode, sampling: PolicyConfig) -> None:
    """Set `row.finish_reason` (and cut its text) if the token just appended ends it."""
    if token in eos_ids:
        row.text, row.finish_reason = decode(row.tokens[:-1]), "eos"
        return
    row.text = decode(row.tokens)
    longest = max((len(s) for s in sampling.stop), default=0)
    at = find_stop(row.text, sampling.stop, max(0, row.checked - longest))
    row.checked = len(row.text)
    if at >= 0:
        row.text, row.finish_reason = row.text[:at], "stop"
    elif len(row.tokens) >= sampling.max_new_tokens:
        row.finish_reason = "length"


def _record(rows: list[Row], active: list[int], tokens: torch.Tensor, stats: torch.Tensor) -> None:
    """Append each active row's token, log-prob, entropy and value ((3, B) stats)."""
    for i, token, (logp, ent, value) in zip(active, tokens.tolist(), stats.T.tolist(), strict=True):
        rows[i].tokens.append(token)
        rows[i].logprobs.append(logp)
        rows[i].entropy.append(ent)
        rows[i].values.append(value)


def sample_batch(backend: DecoderOnly | EncoderDecoder, head: ValueHead, prompts: Sequence[Sequence[int]],
                 sampling: PolicyConfig, eos_ids: frozenset[int], decode: Decode,
                 generator: torch.Generator, device: torch.device) -> list[Sampled]:
    """Sample one completion per prompt (token id lists); results in the prompts' order."""
    step, prompt_emb = backend.prefill(prompts, device)
    rows = [Row() for _ in prompts]
    active = list(range(len(prompts)))
    code_sum = torch.zeros((len(prompts), prompt_emb.shape[-1]), dtype=torch.float32, device=device)
    while active:
        logprobs = distribution.sampling_logprobs(step.logits, sampling.temperature, sampling.top_p)
        tokens = distribution.sample(logprobs, generator)
        stats = torch.stack([distribution.token_logprob(logprobs, tokens), distribution.entropy(logprobs),
                             head(step.hidden)])
        _record(rows, active, tokens, stats.float().cpu())
        for i, token in zip(active, tokens.tolist(), strict=True):
            _finish(rows[i], token, eos_ids, decode, sampling)
        step = backend.step(tokens)  # feeds the new tokens: their hidden states pool into the code embedding
        code_sum.index_add_(0, torch.tensor(active, device=device), step.hidden.float())
        still = [k for k, i in enumerate(active) if not rows[i].finish_reason]
        if len(still) < len(active) and still:
            backend.keep(torch.tensor(still, device=device))
            step = type(step)(step.logits[still], step.hidden[still])
        active = [active[k] for k in still]
    counts = torch.tensor([max(1, len(r.tokens)) for r in rows], dtype=torch.float32, device=device)
    code_emb = (code_sum / counts.unsqueeze(-1)).cpu().numpy()
    prompt_np = prompt_emb.float().cpu().numpy()
    return [Sampled(row, prompt_np[i], code_emb[i]) for i, row in enumerate(rows)]
