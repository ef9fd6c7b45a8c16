"""One forward step of a model, with its KV cache, for the two model families a policy can hold.

`DecoderOnly` (GPT-2, Llama, Qwen2, StarCoder2, ...): prompts are left-padded so that every row's
next token sits in the last column; position ids follow the attention mask, so padding never shifts
a row's positions. `EncoderDecoder` (T5, CodeT5): the prompt is encoded once; the decoder starts
from the model's decoder start token and caches its self- and cross-attention.

Both give, per step, the next-token logits (B, V) and the final hidden state (B, H) of the position
that produced them (the input the LM head and the value head read), and can drop finished rows
from the cache (`keep`). Hidden states are `hidden_states[-1]` of the model's output: the last layer
after its final norm, as transformers reports it.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch


def core_model(model: Any) -> Any:
    """The transformers model under a PEFT wrapper (or the model itself)."""
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def accepts(model: Any, argument: str) -> bool:
    return argument in inspect.signature(core_model(model).forward).parameters


def cache_argument(model: Any) -> str:
    """The forward argument that takes the KV cache: `cache` (transformers >= 5.2x) or `past_key_values`."""
    return "cache" if accepts(model, "cache") else "past_key_values"


def returned_cache(out: Any) -> Any:
    cache = out.get("cache") if hasattr(out, "get") else None
    return cache if cache is not None else out.past_key_values


def left_pad(rows: Sequence[Sequence[int]], pad_id: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, P) ids and (B, P) 0/1 mask, each row right-aligned."""
    width = max((len(r) for r in rows), default=0)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        if row:
            ids[i, width - len(row):] = torch.tensor(row, dtype=torch.long)
            mask[i, width - len(row):] = 1
    return ids.to(device), mask.to(device)


def right_pad(rows: Sequence[Sequence[int]], pad_id: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, T) ids and (B, T) 0/1 mask, each row left-aligned."""
    width = max((len(r) for r in rows), default=0)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        if row:
            ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
            mask[i, : len(row)] = 1
    return ids.to(device), mask.to(device)


def positions(mask: torch.Tensor) -> torch.Tensor:
    """(B, L) position ids that count only real tokens (left padding gets 0)."""
    return (mask.cumsum(dim=-1) - 1).clamp(min=0)


def masked_mean(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """(B, H) mean of (B, L, H) over the positions where (B, L) mask is 1 (float32)."""
    weights = mask.to(torch.float32).unsqueeze(-1)
    return (hidden.float() * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)


@dataclass
class Step:
    logits: torch.Tensor  # (B, V) next-token logits
    hidden: torch.Tensor  # (B, H) final hidden state of the position that produced them


class DecoderOnly:
    """A causal LM's prefill and decode steps over left-padded prompts."""

    def __init__(self, model: Any, pad_id: int) -> None:
        self.model, self.pad_id = model, pad_id
        self.keep_arg = accepts(model, "logits_to_keep")
        self.cache_arg = cache_argument(model)
        self.cache: Any = None
        self.mask = torch.empty(0)
        self.next_pos = torch.empty(0)

    def _forward(self, ids: torch.Tensor, pos: torch.Tensor, last_only: bool) -> Any:
        extra = {"logits_to_keep": 1} if last_only and self.keep_arg else {}
        extra[self.cache_arg] = self.cache
        return self.model(input_ids=ids, attention_mask=self.mask, position_ids=pos, use_cache=True,
                          output_hidden_states=True, return_dict=True, **extra)

    def prefill(self, prompts: Sequence[Sequence[int]], device: torch.device) -> tuple[Step, torch.Tensor]:
        """The first step, and the (B, H) pooled prompt embedding (mean final hidden state)."""
        ids, self.mask = left_pad(prompts, self.pad_id, device)
        pos = positions(self.mask)
        out = self._forward(ids, pos, last_only=True)
        self.cache, self.next_pos = returned_cache(out), pos[:, -1] + 1
        hidden = out.hidden_states[-1]
        return Step(out.logits[:, -1], hidden[:, -1]), masked_mean(hidden, self.mask)

    def step(self, tokens: torch.Tensor) -> Step:
        """Feed one token per row; the logits for the next one and the fed token's hidden state."""
        self.mask = torch.cat([self.mask, torch.ones_like(self.mask[:, :1])], dim=1)
        out = self._forward(tokens.unsqueeze(-1), self.next_pos.unsqueeze(-1), last_only=False)
        self.cache, self.next_pos = returned_cache(out), self.next_pos + 1
        return Step(out.logits[:, -1], out.hidden_states[-1][:, -1])

    def keep(self, rows: torch.Tensor) -> None:
        """Keep only these rows (indices into the current batch)."""
        self.cache.reorder_cache(rows)
        self.mask, self.next_pos = self.mask[rows], self.next_pos[rows]


class EncoderDecoder:
    """An encoder-decoder's encode-once and cached decoder steps."""

    def __init__(self, model: Any, pad_id: int) -> None:
        self.model, self.pad_id = model, pad_id
        self.start_id = core_model(model).config.decoder_start_token_id
        if self.start_id is None:
            self.start_id = pad_id
        self.cache_arg = cache_argument(model)
        self.cache: Any = None
        self.encoded: Any = None
        self.mask = torch.empty(0)

    def _decode(self, tokens: torch.Tensor) -> Step:
        out = self.model(encoder_outputs=self.encoded, attention_mask=self.mask, decoder_input_ids=tokens.unsqueeze(-1),
                         use_cache=True, output_hidden_states=True, return_dict=True, **{self.cache_arg: self.cache})
        self.cache = returned_cache(out)
        return Step(out.logits[:, -1], out.decoder_hidden_states[-1][:, -1])

    def prefill(self, prompts: Sequence[Sequence[int]], device: torch.device) -> tuple[Step, torch.Tensor]:
        ids, self.mask = right_pad(prompts, self.pad_id, device)
        self.encoded = core_model(self.model).get_encoder()(input_ids=ids, attention_mask=self.mask, return_dict=True)
        start = torch.full((ids.shape[0],), self.start_id, dtype=torch.long, device=device)
        return self._decode(start), masked_mean(self.encoded.last_hidden_state, self.mask)

    def step(self, tokens: torch.Tensor) -> Step:
        return self._decode(tokens)

    def keep(self, rows: torch.Tensor) -> None:
        self.cache.reorder_cache(rows)
        self.mask = self.mask[rows]
        self.encoded.last_hidden_state = self.encoded.last_hidden_state[rows]


def backend_for(model: Any, pad_id: int, is_encoder_decoder: bool) -> DecoderOnly | EncoderDecoder:
    return EncoderDecoder(model, pad_id) if is_encoder_decoder else DecoderOnly(model, pad_id)
