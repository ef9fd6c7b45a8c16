"""Tiny randomly initialised Hugging Face models of several architectures, for policy tests.

Never downloaded: a byte-level BPE tokenizer is trained on a few lines of code and each model is
built from a config with random weights, then saved as an ordinary checkpoint directory.
"""

from __future__ import annotations

from pathlib import Path

ARCHITECTURES = ("gpt2", "llama", "qwen2", "t5")
CAUSAL = ("gpt2", "llama", "qwen2")
TEXTS = [
    "def add(a, b):\n    \"\"\"Sum of a and b.\"\"\"\n    return a + b\n",
    "def double(x: int) -> int:\n    return 2 * x\n",
    "```python\ndef f(xs):\n    return [x for x in xs if x > 0]\n```\n",
]


def tokenizer():  # type: ignore[no-untyped-def]
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(TEXTS * 10, trainers.BpeTrainer(
        vocab_size=320, special_tokens=["<|endoftext|>", "<pad>"], show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    return PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|endoftext|>", pad_token="<pad>")


def _model(kind: str, vocab: int):  # type: ignore[no-untyped-def]
    import transformers as tf

    ids = {"eos_token_id": 0, "pad_token_id": 1}
    small = {"vocab_size": vocab, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
             "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 256, "bos_token_id": 0}
    if kind == "gpt2":
        return tf.GPT2LMHeadModel(tf.GPT2Config(vocab_size=vocab, n_positions=256, n_embd=32, n_layer=2, n_head=2,
                                                bos_token_id=0, **ids))
    if kind == "llama":
        return tf.LlamaForCausalLM(tf.LlamaConfig(**small, **ids))
    if kind == "qwen2":
        return tf.Qwen2ForCausalLM(tf.Qwen2Config(**small, **ids))
    if kind == "t5":
        return tf.T5ForConditionalGeneration(tf.T5Config(vocab_size=vocab, d_model=32, d_kv=8, d_ff=64, num_layers=2,
                                                         num_heads=4, decoder_start_token_id=1, **ids))
    raise ValueError(kind)


def build(kind: str, directory: Path, seed: int = 0) -> Path:
    """Save a tiny random `kind` model and its tokenizer into `directory`; returns it."""
    import torch
    from transformers.utils import logging

    logging.disable_progress_bar()
    tok = tokenizer()
    torch.manual_seed(seed)
    model = _model(kind, len(tok))
    model.save_pretrained(directory)
    tok.save_pretrained(directory)
    return directory
