"""A stand-in ``vllm`` module (``SamplingParams``, ``LLM.chat``) that answers with tests/fake_chat_model.py.

It mirrors the parts of vLLM's offline API the vllm engine uses, with vLLM's keyword names, so the
engine's batching, seeds, prefix continuation and finish reasons are tested on machines without a GPU.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

from tests.fake_chat_model import reply


@dataclass
class SamplingParams:
    max_tokens: int = 16
    temperature: float = 1.0
    top_p: float = 1.0
    seed: int | None = None


@dataclass
class LLM:
    model: str
    gpu_memory_utilization: float = 0.9
    tensor_parallel_size: int = 1
    max_model_len: int | None = None
    calls: list[dict] = field(default_factory=list)

    def chat(self, messages, sampling_params=None, use_tqdm=True, add_generation_prompt=True,
             continue_final_message=False):
        self.calls.append({"n": len(messages), "add_generation_prompt": add_generation_prompt,
                           "continue_final_message": continue_final_message})
        outputs = []
        for chat, params in zip(messages, sampling_params):
            text, reason = reply(chat, params.max_tokens, params.temperature, params.seed,
                                 add_generation_prompt, continue_final_message)
            sample = SimpleNamespace(text=text, token_ids=text.split(), finish_reason=reason)
            outputs.append(SimpleNamespace(outputs=[sample], prompt_token_ids=[0] * 5))
        return outputs
