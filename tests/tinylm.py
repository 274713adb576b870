"""The tiny random Llama the tests train and generate with: no hub, about a second to build.

Two vocabularies. The default, a byte-level BPE tokenizer trained in-process on arithmetic words, with a
ChatML-style chat template (unless asked not to) and a pad token distinct from its end-of-turn token, is
what trainer and evaluation tests run a few steps on. ``words=True`` gives a word-level tokenizer over a
small fixed vocabulary instead, so that words round-trip exactly through it (split on spaces, decoded with
spaces): engine tests cut a greedy reply at a word boundary and ask the engine to continue it.
"""
from __future__ import annotations

from pathlib import Path

import pytest

CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
WORD_CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} <|end|> {% endfor %}"
    "{% if add_generation_prompt %}<|assistant|> {% endif %}"
)
_CORPUS = [
    "Solve the following math problem. Reason step by step, then give the final answer on its own line",
    "as 'The answer is N.' Problem: What is 3 + 4? Add 3 and 4 to get 7. The answer is 7.",
    "Tom has 12 apples and gives away 5. 12 - 5 = 7 apples left. Multiply 6 * 8 = 48. Divide 9 / 3 = 3.",
    "user assistant system Step 1: Step 2: first then so therefore total each 0 1 2 3 4 5 6 7 8 9 10 100",
]
WORDS = [f"w{i}" for i in range(40)] + [str(i) for i in range(10)] + [
    "the", "answer", "is", "step", "problem", "what", "add", "and", "solve", "reason",
]
WORD_SPECIALS = ["<unk>", "<pad>", "<s>", "<|end|>", "<|user|>", "<|assistant|>", "<|system|>"]


def _bpe_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<unk>", "<pad>", "<|im_start|>", "<|im_end|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(_CORPUS * 4, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", eos_token="<|im_end|>")


def _word_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {tok: i for i, tok in enumerate(WORD_SPECIALS + WORDS)}
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    core.decoder = decoders.WordPiece(prefix="##")  # joins words with single spaces
    return PreTrainedTokenizerFast(
        tokenizer_object=core, unk_token="<unk>", pad_token="<pad>", bos_token="<s>", eos_token="<|end|>",
        additional_special_tokens=["<|user|>", "<|assistant|>", "<|system|>"],
    )


def build_tiny_llama(folder: Path, chat_template: bool = True, seed: int = 0, words: bool = False) -> Path:
    """Save a random 2-layer Llama and its tokenizer (BPE, or word-level with ``words``) under ``folder``."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = _word_tokenizer() if words else _bpe_tokenizer()
    if chat_template:
        tokenizer.chat_template = WORD_CHAT_TEMPLATE if words else CHAT_TEMPLATE
    # The word model also runs on real vLLM (the engine conformance test, on a GPU), which serves only common
    # head sizes: 64 there; the BPE model stays as small as trainer tests allow.
    size = (dict(hidden_size=128, intermediate_size=256, num_attention_heads=2, num_key_value_heads=1,
                 max_position_embeddings=256) if words else
            dict(hidden_size=32, intermediate_size=64, num_attention_heads=4, num_key_value_heads=2,
                 max_position_embeddings=1024))
    config = LlamaConfig(vocab_size=len(tokenizer), num_hidden_layers=2, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
                         tie_word_embeddings=False, **size)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    if words:
        # Padding and role markers never come out of a real chat model's reply; a random one would emit them,
        # and decoding drops them, which would break the word-for-word round trip.
        model.generation_config.suppress_tokens = [tokenizer.convert_tokens_to_ids(t) for t in WORD_SPECIALS
                                                   if t != "<|end|>"]
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory) -> Path:
    """A tiny random Llama folder shared by a test session (tests must not write into it)."""
    return build_tiny_llama(tmp_path_factory.mktemp("tiny-llama"))
