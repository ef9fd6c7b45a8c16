"""Loading a Hugging Face model and tokenizer for a policy: where from, on which device, in which dtype.

Any causal LM (`AutoModelForCausalLM`) or encoder-decoder (`AutoModelForSeq2SeqLM`, e.g. CodeT5) from
a local checkpoint directory or a hub id; the config's `is_encoder_decoder` picks the class. Device
"auto" is CUDA when present, else CPU; dtype "auto" is bfloat16 on a CUDA device that supports it,
else float32. Optional LoRA adapters through PEFT (`PolicyConfig.lora_rank > 0`).

Limits: a hub id needs network access (none here); checkpoints that need their own Python code
(`trust_remote_code`) are refused. A failure to find or read the model is an `InputError` (one line).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from cosmocore.config import PolicyConfig
from cosmocore.errors import InputError
from cosmocore.policy.sources import check_source

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


@dataclass(frozen=True)
class Loaded:
    """What `load` hands the policy."""

    model: Any  # a transformers PreTrainedModel (or a PEFT wrapper of one)
    tokenizer: Any  # a transformers tokenizer
    device: torch.device
    is_encoder_decoder: bool


def quiet_transformers() -> None:
    """No transformers progress bars ("Loading weights", "Writing model shards" at every checkpoint) or
    advisory warnings in this process: the CLI and its worker processes print their own progress."""
    from transformers.utils import logging

    logging.disable_progress_bar()
    logging.set_verbosity_error()


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(name)
    except RuntimeError:
        raise InputError(f"invalid policy setting device={name!r} (auto, cpu, cuda, cuda:N)") from None


def resolve_dtype(name: str, device: torch.device) -> torch.dtype:
    if name == "auto":
        cuda_bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()
        return torch.bfloat16 if cuda_bf16 else torch.float32
    return DTYPES[name]


def _from_pretrained(factory: Any, name: str, **kwargs: Any) -> Any:
    try:
        return factory.from_pretrained(name, **kwargs)
    except (OSError, ValueError) as err:  # not found, no network, unknown architecture
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise InputError(f"cannot load model {name!r}: {first}") from None


def _with_lora(model: Any, config: PolicyConfig) -> Any:
    from peft import LoraConfig, TaskType, get_peft_model

    task = TaskType.SEQ_2_SEQ_LM if model.config.is_encoder_decoder else TaskType.CAUSAL_LM
    lora = LoraConfig(task_type=task, r=config.lora_rank, lora_alpha=config.lora_alpha,  # type: ignore[arg-type]
                      lora_dropout=0.0,
                      target_modules=list(config.lora_targets) or None)
    try:
        return get_peft_model(model, lora)
    except ValueError as err:  # no default target modules for this architecture
        raise InputError(f"cannot add LoRA adapters: {str(err).splitlines()[0]} (set lora_targets)") from None


def load(name: str, config: PolicyConfig) -> Loaded:
    """The model and tokenizer named by `name` (a directory or hub id), ready to sample on its device."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer

    name = str(name)
    check_source(name)
    source = str(Path(name).expanduser()) if Path(name).expanduser().is_dir() else name
    model_config = _from_pretrained(AutoConfig, source)
    device = resolve_device(config.device)
    factory = AutoModelForSeq2SeqLM if model_config.is_encoder_decoder else AutoModelForCausalLM
    model = _from_pretrained(factory, source, dtype=resolve_dtype(config.dtype, device))
    tokenizer = _from_pretrained(AutoTokenizer, source)
    model.to(device).eval()  # dropout off: log-probs must be those of the policy that samples
    if config.lora_rank > 0:
        model = _with_lora(model, config)
    return Loaded(model, tokenizer, device, bool(model_config.is_encoder_decoder))
