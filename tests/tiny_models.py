"""A tiny random Llama with a byte-level BPE tokenizer trained in-process, for fast trainer tests.

No hub access: the tokenizer is trained by ``tokenizers`` on a few hundred characters of arithmetic text
and the model is a 2-layer Llama with random weights; building and saving both takes well under a second.
The folder looks like any saved checkpoint (config, safetensors, tokenizer, chat template), so code under
test loads it through the same ``from_pretrained`` path it uses for real models.
"""
from __future__ import annotations

from pathlib import Path

CORPUS = [
    "Tom has 3 apples and buys 4 more, so he has 3 + 4 = 7 apples.",
    "Each box holds 6 eggs; 5 boxes hold 5 * 6 = 30 eggs. The answer is 30.",
    "She spends 12 - 5 = 7 dollars, then 7 / 7 = 1 per day. #### 1",
    "Step 1: add the numbers. Step 2: multiply. The final answer is \\boxed{42}.",
    "Solve the problem step by step and put the final answer after ####.",
    "user assistant system question answer wrong right good bad BUG ok",
    "0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 100 1000",
]
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}<|end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


def build_tokenizer(vocab_size: int = 400):
    """A byte-level BPE fast tokenizer (any text encodes; no unknown tokens) with pad/eos/bos set."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<pad>", "<s>", "</s>", "<|end|>", "<|user|>", "<|assistant|>", "<|system|>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(CORPUS * 4, trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", bos_token="<s>", eos_token="</s>",
                                   additional_special_tokens=specials[3:])
    fast.chat_template = CHAT_TEMPLATE
    return fast


def tiny_llama(folder: Path | str, hidden: int = 32, layers: int = 2, seed: int = 0) -> Path:
    """Save a random tiny Llama causal LM and its tokenizer into ``folder``; return the folder."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    folder = Path(folder)
    tokenizer = build_tokenizer()
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=2 * hidden,
                         num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=512, pad_token_id=tokenizer.pad_token_id,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         tie_word_embeddings=False)
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
