"""The value head: one linear layer on the policy's final hidden state, and its file beside the checkpoint.

V(s_t) = w . h_t + b, in reward units, computed in float32 whatever the model's dtype. A new head
starts at zero (V = 0 everywhere) so it cannot bias the first advantages. On disk, next to an
ordinary Hugging Face checkpoint: `value_head.safetensors` (weight (1, H), bias (1,)) and
`cosmocore_policy.json` (the policy version and the head's width). A checkpoint without them is any
Hugging Face model: it gets a fresh head and version 0.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from cosmocore.errors import InputError

HEAD_FILE = "value_head.safetensors"
META_FILE = "cosmocore_policy.json"


class ValueHead(nn.Module):
    """(..., H) hidden states -> (...) values, float32."""

    def __init__(self, hidden_size: int) -> None:
        super().__init__()
        self.linear = nn.Linear(hidden_size, 1, dtype=torch.float32)
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.linear(hidden.float()).squeeze(-1)


def save_head(head: ValueHead, directory: Path, version: int) -> None:
    """Write the head and the policy's metadata into `directory` (beside the HF checkpoint)."""
    from safetensors.torch import save_file

    weight, bias = head.linear.weight.detach().cpu().contiguous(), head.linear.bias.detach().cpu().contiguous()
    save_file({"weight": weight, "bias": bias}, str(directory / HEAD_FILE))
    meta = {"format": 1, "policy_version": version, "value_head": HEAD_FILE, "hidden_size": int(weight.shape[1])}
    (directory / META_FILE).write_text(json.dumps(meta, indent=2) + "\n")


def load_head(directory: Path | None, hidden_size: int) -> tuple[ValueHead, int]:
    """The head and policy version stored in `directory`; a fresh head and version 0 where none is."""
    head = ValueHead(hidden_size)
    if directory is None or not (directory / META_FILE).is_file():
        return head, 0
    from safetensors.torch import load_file

    meta = json.loads((directory / META_FILE).read_text())
    tensors = load_file(str(directory / meta.get("value_head", HEAD_FILE)))
    if tuple(tensors["weight"].shape) != (1, hidden_size):
        raise InputError(f"{directory / HEAD_FILE}: value head width {tensors['weight'].shape[1]} "
                         f"does not match the model's hidden size {hidden_size}")
    head.linear.load_state_dict(tensors)
    return head, int(meta.get("policy_version", 0))
