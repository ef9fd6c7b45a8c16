"""Supervised warm start of a small code model from scratch: a BPE tokenizer and a Llama-architecture
causal LM trained on (prompt, body) examples. Used to build CosmoCore's embedded default model
(`cosmocore.embedded` assembles the corpus; nothing here knows about worlds).

    examples --train_tokenizer (HF tokenizers, byte-level BPE)--> tokenizer
             --encode(prompt) + encode(body) + EOS (as the policy will see them)--> token rows
             --AdamW, warm-up then cosine, steps x batch_size rows--> LlamaForCausalLM --> checkpoint dir

The prompt and the body are tokenized separately, exactly as `Policy.generate` encodes a prompt and
samples a body, so no token ever spans the boundary. The loss weighs body tokens 1 and prompt tokens
`prompt_loss_weight`. Rows of similar length share a batch (little padding). Deterministic for a
seed on a given machine and thread count (CPU float32).

Limits: the whole corpus is tokenized in memory; built for small models (a few million parameters)
that train in minutes on a CPU.
"""

from __future__ import annotations

import math
import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from cosmocore.config import PretrainConfig

EOS = "<|endoftext|>"
Row = tuple[list[int], list[int]]  # (prompt ids, body ids + EOS)


@dataclass(frozen=True)
class Example:
    """One supervised example: the prompt the model sees and the body it should write."""

    prompt: str
    body: str


@dataclass(frozen=True)
class WarmStartReport:
    """What a warm start did."""

    parameters: int  # model parameters (tied embeddings counted once)
    vocab_size: int  # tokenizer size, special tokens included
    steps: int  # optimizer steps
    epochs: float  # passes over one epoch's examples
    tokens: int  # tokens processed (prompt and body, padding excluded)
    seconds: float  # wall time of the training loop
    final_body_loss: float  # mean body-token loss over the last 50 steps, nats/token


def train_tokenizer(texts: Sequence[str], vocab_size: int) -> Any:
    """A byte-level BPE tokenizer (merges may cross spaces: short sequences) as a transformers tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[EOS], show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), max_token_length=16)
    bpe.train_from_iterator(texts, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token=EOS, pad_token=EOS)


def new_model(vocab_size: int, eos_id: int, config: PretrainConfig) -> Any:
    """A freshly initialised Llama-architecture causal LM (no dropout; tied input/output embeddings)."""
    from transformers import LlamaConfig, LlamaForCausalLM

    intermediate = int(config.hidden_size * 8 / 3) // 16 * 16
    model_config = LlamaConfig(
        vocab_size=vocab_size, hidden_size=config.hidden_size, intermediate_size=intermediate,
        num_hidden_layers=config.layers, num_attention_heads=config.heads, num_key_value_heads=config.heads,
        max_position_embeddings=config.max_positions, tie_word_embeddings=True,
        bos_token_id=eos_id, eos_token_id=eos_id, pad_token_id=eos_id,
    )
    return LlamaForCausalLM(model_config)


def encode(tokenizer: Any, examples: Sequence[Example]) -> list[Row]:
    prompts = tokenizer(list(dict.fromkeys(e.prompt for e in examples)))["input_ids"]
    by_prompt = dict(zip(dict.fromkeys(e.prompt for e in examples), prompts, strict=True))
    bodies = tokenizer([e.body for e in examples])["input_ids"]
    return [(list(by_prompt[e.prompt]), [*body, tokenizer.eos_token_id]) for e, body in zip(examples, bodies,
                                                                                              strict=True)]


def batches(rows: Sequence[Row], batch_size: int, rng: random.Random) -> list[list[Row]]:
    """Rows shuffled, cut into batches of similar total length, batches in random order."""
    shuffled = list(rows)
    rng.shuffle(shuffled)
    ordered = sorted(shuffled, key=lambda r: len(r[0]) + len(r[1]))
    cut = [ordered[i: i + batch_size] for i in range(0, len(ordered), batch_size)]
    rng.shuffle(cut)
    return cut


def batch_tensors(batch: Sequence[Row], pad_id: int, prompt_weight: float) -> tuple[torch.Tensor, ...]:
    """(B, L) ids, (B, L) mask, (B, L-1) loss weights (prompt tokens `prompt_weight`, body tokens 1)."""
    width = max(len(p) + len(b) for p, b in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    weights = torch.zeros((len(batch), width - 1))
    for i, (prompt, body) in enumerate(batch):
        n = len(prompt) + len(body)
        ids[i, :n] = torch.tensor(prompt + body)
        mask[i, :n] = 1
        weights[i, : len(prompt) - 1] = prompt_weight
        weights[i, len(prompt) - 1: n - 1] = 1.0
    return ids, mask, weights


def batch_loss(model: Any, ids: torch.Tensor, mask: torch.Tensor, weights: torch.Tensor) -> tuple[torch.Tensor, float]:
    """The weighted loss to minimise, and the mean body-token loss (nats/token)."""
    logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1]
    nll = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), ids[:, 1:].reshape(-1),
                                            reduction="none").view_as(weights)
    body = weights == 1.0
    return (nll * weights).sum() / weights.sum(), float((nll.detach() * body).sum() / body.sum().clamp(min=1))


def learning_rate(step: int, config: PretrainConfig) -> float:
    """Linear warm-up to `lr`, then cosine decay to 10% of it at the last step."""
    warm = min(1.0, (step + 1) / max(1, config.warmup_steps))
    cosine = 0.5 * (1.0 + math.cos(math.pi * step / max(1, config.steps)))
    return config.lr * warm * (0.1 + 0.9 * cosine)


def _batch_stream(epochs: Sequence[Sequence[Row]], config: PretrainConfig) -> Any:
    """Batches forever: epoch e uses the rows of `epochs[e % len(epochs)]`, freshly shuffled."""
    epoch = 0
    while True:
        rng = random.Random(f"{config.seed}:{epoch}")
        yield from ((epoch, b) for b in batches(epochs[epoch % len(epochs)], config.batch_size, rng))
        epoch += 1


@dataclass(frozen=True)
class _Trained:
    tokens: int  # tokens processed, padding excluded
    seconds: float  # wall time of the loop
    final_body_loss: float  # mean body loss over the last 50 steps, nats/token


def _train(model: Any, rows: Sequence[Sequence[Row]], config: PretrainConfig, pad_id: int,
           progress: Callable[[int], Any] | None) -> _Trained:
    """The optimisation loop: `config.steps` AdamW steps over batches drawn from `rows`."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay,
                                  betas=(0.9, 0.95))
    bar = progress(config.steps) if progress else None
    started, tokens, stream = time.monotonic(), 0, _batch_stream(rows, config)
    recent: list[float] = []  # body losses of the last 50 steps
    model.train()
    for step in range(config.steps):
        ids, mask, weights = batch_tensors(next(stream)[1], pad_id, config.prompt_loss_weight)
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, config)
        loss, body_loss = batch_loss(model, ids, mask, weights)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        tokens, recent = tokens + int(mask.sum()), [*recent, body_loss][-50:]
        if bar is not None:
            bar.update(1)
            bar.set_postfix(body_loss=f"{body_loss:.3f}", refresh=False)
    if bar is not None and hasattr(bar, "close"):
        bar.close()
    return _Trained(tokens, time.monotonic() - started, sum(recent) / max(1, len(recent)))


def _cores() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def warm_start(epochs: Sequence[Sequence[Example]], config: PretrainConfig, out: Path,
               progress: Callable[[int], Any] | None = None) -> WarmStartReport:
    """Train a tokenizer and a model from scratch on `epochs` (one list of examples per epoch, cycled)
    and save both to `out` as an ordinary Hugging Face checkpoint. `progress(total)` returns a
    tqdm-like bar (update, set_postfix) or None. Runs on `config.threads` torch threads (0: one per
    core), whatever the caller set, and restores the caller's setting."""
    previous = torch.get_num_threads()
    torch.set_num_threads(config.threads or _cores())
    try:
        torch.manual_seed(config.seed)
        tokenizer = train_tokenizer([t for e in epochs[0] for t in (e.prompt, e.body)], config.vocab_size)
        rows = [encode(tokenizer, examples) for examples in epochs]
        model = new_model(len(tokenizer), tokenizer.eos_token_id, config)
        trained = _train(model, rows, config, tokenizer.eos_token_id, progress)
        _save(model, tokenizer, out)
    finally:
        torch.set_num_threads(previous)
    epochs_done = config.steps * config.batch_size / max(1, len(rows[0]))
    return WarmStartReport(parameters=sum(p.numel() for p in model.parameters()), vocab_size=len(tokenizer),
                           steps=config.steps, epochs=round(epochs_done, 2), tokens=trained.tokens,
                           seconds=round(trained.seconds, 1), final_body_loss=round(trained.final_body_loss, 4))


def _save(model: Any, tokenizer: Any, out: Path) -> None:
    model.eval()
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.eos_token_id
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
