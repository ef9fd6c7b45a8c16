"""`Policy`: a Hugging Face model plus a value head, that samples completions and re-scores them.

    prompts --encode (chat template optional; left-truncated to the context)--> sample_batch (KV cache,
        temperature/top-p, stops) --> Completion records (ids, behaviour log-probs, entropies, values,
        pooled embeddings, policy version, extracted code)
    stored (prompt ids, completion ids) --score--> Scores (differentiable logp, entropy, values, mask;
        detached pooled embeddings)
    stored (prompt ids, completion ids) + rewards --fit_value_head--> a ridge-fitted value head
    save_pretrained(dir) --> an ordinary HF checkpoint (LoRA merged in) + value_head.safetensors

The model stays in eval mode (dropout off), so that what `score` computes at the sampling weights
is exactly what sampling used. `version` counts the policy updates made so far: the learner
increments it after each optimizer step, and every completion records the version that sampled it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from cosmocore.config import PolicyConfig
from cosmocore.errors import InputError
from cosmocore.policy.backends import backend_for, core_model
from cosmocore.policy.loading import Loaded, load
from cosmocore.policy.sampling import Sampled, sample_batch
from cosmocore.policy.scoring import Scores, forward_pass, score_batch
from cosmocore.policy.text import extract_code
from cosmocore.policy.value_head import (
    DEFAULT_L2,
    Moments,
    ValueHead,
    explained_variance,
    load_head,
    ridge_solve,
    sample_moments,
    save_head,
)
from cosmocore.types import Completion


def _frozen(values: Sequence[float] | np.ndarray) -> np.ndarray:
    array = np.asarray(values, dtype=np.float32)
    array.flags.writeable = False
    return array


def _token_ids(encoded: Any) -> list[int]:
    """Token ids from what a tokenizer call returned (a list, or a mapping with input_ids)."""
    ids = encoded["input_ids"] if hasattr(encoded, "keys") else encoded
    if ids and isinstance(ids[0], list):
        ids = ids[0]
    return [int(i) for i in ids]


class Policy:
    """A language model that writes code, with a value head (see the module docstring)."""

    def __init__(self, loaded: Loaded, head: ValueHead, config: PolicyConfig, version: int = 0) -> None:
        self.model, self.tokenizer = loaded.model, loaded.tokenizer
        self.device, self.is_encoder_decoder = loaded.device, loaded.is_encoder_decoder
        self.value_head = head.to(self.device)
        self.config = config
        self.version = version  # policy updates so far; the learner increments it
        self.eos_ids = self._eos_ids()
        self.pad_id = self._pad_id()

    @classmethod
    def from_pretrained(cls, name: str | Path, config: PolicyConfig | None = None, seed: int = 0) -> Policy:
        """Load a checkpoint directory or hub id (the value head beside it, if any); `seed` seeds new
        parameters (LoRA adapters)."""
        config = dataclasses.replace(config or PolicyConfig(), model=str(name))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            loaded = load(str(name), config)
        directory = Path(name).expanduser()
        hidden_size = core_model(loaded.model).config.hidden_size
        head, version = load_head(directory if directory.is_dir() else None, hidden_size)
        return cls(loaded, head, config, version)

    # ---- facts -------------------------------------------------------------------------------------

    @property
    def hidden_size(self) -> int:
        """Width of the hidden state the value head reads (and of the pooled embeddings)."""
        return int(self.value_head.linear.in_features)

    @property
    def vocab_size(self) -> int:
        """Width of the distribution tokens are sampled from: the output embedding's rows (the logits'
        last dimension), which can exceed the tokenizer's vocabulary (padded embedding matrices)."""
        return int(core_model(self.model).get_output_embeddings().weight.shape[0])

    @property
    def max_entropy(self) -> float:
        """ln(vocab_size), nats: the entropy of the uniform distribution, the most a token's can be."""
        return math.log(self.vocab_size)

    def trainable_parameters(self) -> list[torch.nn.Parameter]:
        """What the optimizer updates: the model's trainable weights (only adapters under LoRA) and the value head."""
        return [p for p in self._all_parameters() if p.requires_grad]

    def _all_parameters(self) -> Iterator[torch.nn.Parameter]:
        yield from self.model.parameters()
        yield from self.value_head.parameters()

    def _eos_ids(self) -> frozenset[int]:
        ids: set[int] = set()
        generation = getattr(core_model(self.model), "generation_config", None)
        for source in (getattr(generation, "eos_token_id", None), self.tokenizer.eos_token_id):
            if source is not None:
                ids.update([source] if isinstance(source, int) else source)
        return frozenset(ids)

    def _pad_id(self) -> int:
        for candidate in (self.tokenizer.pad_token_id, self.tokenizer.eos_token_id):
            if candidate is not None:
                return int(candidate)
        return 0

    def _context_limit(self) -> int | None:
        config = core_model(self.model).config
        for name in ("max_position_embeddings", "n_positions"):
            if not config.is_encoder_decoder and getattr(config, name, None):
                return int(getattr(config, name))
        return None

    # ---- prompts -----------------------------------------------------------------------------------

    def encode_prompt(self, prompt: str, max_new_tokens: int | None = None) -> list[int]:
        """The token ids the model sees for `prompt` (chat template if configured; left-truncated so
        that `max_new_tokens` still fit in the model's context; never empty)."""
        if self.config.chat_template:
            if not getattr(self.tokenizer, "chat_template", None):
                raise InputError(f"model {self.config.model!r} has no chat template (set chat_template false)")
            ids = _token_ids(self.tokenizer.apply_chat_template([{"role": "user", "content": prompt}],
                                                                add_generation_prompt=True, tokenize=True))
        else:
            ids = _token_ids(self.tokenizer(prompt))
        if not ids:  # an empty prompt: start from the beginning-of-text (or end-of-text) token
            ids = [next(i for i in (self.tokenizer.bos_token_id, self.tokenizer.eos_token_id, self.pad_id)
                        if i is not None)]
        limit = self._context_limit()
        room = None if limit is None else max(1, limit - (max_new_tokens or self.config.max_new_tokens))
        return ids if room is None or len(ids) <= room else ids[-room:]

    def decode(self, ids: Sequence[int]) -> str:
        return str(self.tokenizer.decode(list(ids), skip_special_tokens=True))

    # ---- sampling ----------------------------------------------------------------------------------

    def generate(self, prompts: Sequence[str], config: PolicyConfig | None = None, *, seed: int = 0,
                 entry_points: Sequence[str] | None = None) -> list[Completion]:
        """One completion per prompt, in order (repeat a prompt for several). `config` gives the
        sampling settings (default: the policy's own); the same seed, prompts and weights give the
        same completions. `entry_points` (one per prompt) guide code extraction."""
        config = config or self.config
        if entry_points is not None and len(entry_points) != len(prompts):
            raise ValueError(f"{len(prompts)} prompts but {len(entry_points)} entry points")
        encoded = [self.encode_prompt(p, config.max_new_tokens) for p in prompts]
        order = sorted(range(len(prompts)), key=lambda i: len(encoded[i]))  # similar lengths share a batch
        generator = torch.Generator(device=self.device).manual_seed(seed)
        sampled: dict[int, Sampled] = {}
        with torch.no_grad():
            for start in range(0, len(order), config.batch_size):
                chunk = order[start: start + config.batch_size]
                backend = backend_for(self.model, self.pad_id, self.is_encoder_decoder)
                rows = sample_batch(backend, self.value_head, [encoded[i] for i in chunk], config, self.eos_ids,
                                    self.decode, generator, self.device)
                sampled.update(zip(chunk, rows, strict=True))
        entries = list(entry_points) if entry_points is not None else [""] * len(prompts)
        return [self._completion(prompts[i], encoded[i], sampled[i], entries[i]) for i in range(len(prompts))]

    def _completion(self, prompt: str, prompt_ids: list[int], s: Sampled, entry_point: str) -> Completion:
        row = s.row
        return Completion(
            prompt=prompt, text=row.text, code=extract_code(row.text, entry_point), prompt_ids=tuple(prompt_ids),
            completion_ids=tuple(row.tokens), logprobs=_frozen(row.logprobs), entropy=_frozen(row.entropy),
            values=_frozen(row.values), prompt_value=float(row.values[0]) if row.values else 0.0,
            prompt_embedding=_frozen(s.prompt_embedding), code_embedding=_frozen(s.code_embedding),
            policy_version=self.version, finish_reason=row.finish_reason,  # type: ignore[arg-type]
        )

    # ---- scoring -----------------------------------------------------------------------------------

    def score(self, prompt_ids: Sequence[Sequence[int]], completion_ids: Sequence[Sequence[int]], *,
              temperature: float | None = None, top_p: float | None = None) -> Scores:
        """Differentiable (B, T) log-probs, entropies and values of stored completions under the current
        weights, with the sampling transform of `temperature`/`top_p` (default: the policy's own)."""
        return score_batch(self.model, self.value_head, prompt_ids, completion_ids,
                           is_encoder_decoder=self.is_encoder_decoder, pad_id=self.pad_id, device=self.device,
                           temperature=self.config.temperature if temperature is None else temperature,
                           top_p=self.config.top_p if top_p is None else top_p)

    # ---- value head fitting -----------------------------------------------------------------------

    def fit_value_head(self, prompt_ids: Sequence[Sequence[int]], completion_ids: Sequence[Sequence[int]],
                       targets: Sequence[float] | np.ndarray, *, l2: float = DEFAULT_L2) -> float:
        """Set the value head to the ridge regression (`value_head.ridge_solve`, relative strength `l2`)
        of each sample's scalar target (its terminal reward: with gamma = lambda = 1 every state's
        return) on the hidden states `score` reads values from, every completion token weighted
        1 / T_b so each sample counts once. No gradients; forward passes of `config.batch_size`
        samples. Returns the in-sample weighted explained variance (NaN for constant targets)."""
        if not len(prompt_ids) == len(completion_ids) == len(targets):
            raise ValueError(f"{len(prompt_ids)} prompts, {len(completion_ids)} completions, {len(targets)} targets")
        stats = self._value_moments(prompt_ids, completion_ids, torch.as_tensor(np.asarray(targets, np.float64)))
        weight, bias = ridge_solve(stats, l2)
        with torch.no_grad():
            self.value_head.linear.weight.copy_(weight.reshape(1, -1))
            self.value_head.linear.bias.fill_(bias)
        return explained_variance(stats, weight)

    def _value_moments(self, prompt_ids: Sequence[Sequence[int]], completion_ids: Sequence[Sequence[int]],
                       targets: torch.Tensor) -> Moments:
        """Pooled `sample_moments` of every batch (similar lengths share a batch, to pad less)."""
        order = sorted(range(len(prompt_ids)), key=lambda i: len(prompt_ids[i]) + len(completion_ids[i]))
        total: Moments | None = None
        with torch.no_grad():
            for start in range(0, len(order), self.config.batch_size):
                chunk = order[start: start + self.config.batch_size]
                passed = forward_pass(self.model, [prompt_ids[i] for i in chunk], [completion_ids[i] for i in chunk],
                                      is_encoder_decoder=self.is_encoder_decoder, pad_id=self.pad_id,
                                      device=self.device)
                part = sample_moments(passed.hidden, passed.mask, targets[chunk])
                total = part if total is None else total + part
        if total is None:
            raise ValueError("fit_value_head needs at least one sample")
        return total

    # ---- saving ------------------------------------------------------------------------------------

    def save_pretrained(self, directory: str | Path) -> None:
        """Write an ordinary Hugging Face checkpoint (LoRA adapters merged in), its tokenizer, and the
        value head and policy version beside it."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        if hasattr(self.model, "get_base_model"):
            base = self.model.get_base_model()
            base.save_pretrained(directory, state_dict=merged_lora_state(base))
        else:
            self.model.save_pretrained(directory)
        self.tokenizer.save_pretrained(directory)
        save_head(self.value_head, directory, self.version)


def merged_lora_state(base: Any) -> dict[str, torch.Tensor]:
    """The base model's state dict with every LoRA update added to the weight it adapts, under the
    weight's plain name (no `base_layer`, no adapter tensors); the live model is not changed."""
    from peft.tuners.lora import LoraLayer

    deltas: dict[str, torch.Tensor] = {}
    for name, module in base.named_modules():
        if isinstance(module, LoraLayer):
            for adapter in module.active_adapters:
                if adapter in module.lora_A:
                    delta = module.get_delta_weight(adapter).detach()  # type: ignore[attr-defined]
                    deltas[f"{name}.weight"] = deltas[f"{name}.weight"] + delta if f"{name}.weight" in deltas else delta
    state = {}
    for key, tensor in base.state_dict().items():
        if "lora_" in key:
            continue
        plain = key.replace(".base_layer.", ".")
        state[plain] = (tensor + deltas[plain].to(tensor.dtype)) if plain in deltas else tensor
    return state
