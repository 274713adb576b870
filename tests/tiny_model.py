"""A tiny random Llama with a word-level tokenizer and a chat template, saved as a checkpoint folder.

Built in-process in about a second, so engine tests exercise the real transformers code path (chat
template, left padding, sampling, end-of-turn detection) without the embedded model. Words round-trip
exactly through the tokenizer (split on spaces, decoded with spaces), which lets a test cut a greedy reply
at a word boundary and ask the engine to continue it.
"""
from __future__ import annotations

from pathlib import Path

WORDS = [f"w{i}" for i in range(40)] + [str(i) for i in range(10)] + [
    "the", "answer", "is", "step", "problem", "what", "add", "and", "solve", "reason",
]
SPECIALS = ["<unk>", "<pad>", "<s>", "<|end|>", "<|user|>", "<|assistant|>", "<|system|>"]
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} <|end|> {% endfor %}"
    "{% if add_generation_prompt %}<|assistant|> {% endif %}"
)


def build_tiny_model(folder: Path, seed: int = 0) -> Path:
    """Save a random 2-layer Llama (head size 64) and its tokenizer under ``folder``; return the folder."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, decoders
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    vocab = {tok: i for i, tok in enumerate(SPECIALS + WORDS)}
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    core.decoder = decoders.WordPiece(prefix="##")  # joins words with single spaces
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core, unk_token="<unk>", pad_token="<pad>", bos_token="<s>", eos_token="<|end|>",
        additional_special_tokens=["<|user|>", "<|assistant|>", "<|system|>"],
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(vocab), hidden_size=128, intermediate_size=256, num_hidden_layers=2, num_attention_heads=2,
        num_key_value_heads=1, max_position_embeddings=256, bos_token_id=vocab["<s>"],
        eos_token_id=vocab["<|end|>"], pad_token_id=vocab["<pad>"], tie_word_embeddings=False,
    )
    model = LlamaForCausalLM(config)
    # Padding and role markers never come out of a real chat model's reply; a random one would emit them,
    # and decoding drops them, which would break the word-for-word round trip.
    model.generation_config.suppress_tokens = [vocab[t] for t in SPECIALS if t != "<|end|>"]
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
