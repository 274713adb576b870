"""In-process vLLM generation (GPU only), for when starting a separate ``vllm serve`` is not wanted.

vLLM is imported only when this engine is built: it is not in requirements.txt (it pulls CUDA builds),
so choosing the engine without it fails with the install step and the served alternative. One
``LLM.chat`` call takes the whole batch; vLLM schedules it with continuous batching.
"""
from __future__ import annotations

import time

from agentark.backends.base import ChatRequest, Completion
from agentark.errors import EngineError

INSTALL_HINT = (
    "The vllm engine needs vLLM and a CUDA GPU: `pip install vllm` on a GPU machine. Or start a server "
    "(`vllm serve MODEL`) and use --engine openai --base-url http://HOST:8000/v1 --model MODEL instead."
)


def import_vllm():
    try:
        import vllm
    except ImportError as exc:
        raise EngineError(f"vLLM is not installed. {INSTALL_HINT}") from exc
    return vllm


class VLLMEngine:
    """Batched chat generation with a vLLM ``LLM`` living in this process."""

    name = "vllm"

    def __init__(self, model: str, gpu_memory_utilization: float = 0.85, max_model_len: int | None = None,
                 tensor_parallel_size: int = 1) -> None:
        vllm = import_vllm()
        self._vllm = vllm
        self.model_id = model
        kwargs = {"gpu_memory_utilization": gpu_memory_utilization, "tensor_parallel_size": tensor_parallel_size}
        if max_model_len:
            kwargs["max_model_len"] = max_model_len
        try:
            self.llm = vllm.LLM(model=model, **kwargs)
        except Exception as exc:  # CUDA missing, model not found, out of memory: all need the user's fix
            raise EngineError(f"vLLM could not load '{model}': {exc}. {INSTALL_HINT}") from exc

    def generate(self, requests: list[ChatRequest]) -> list[Completion]:
        if not requests:
            return []
        params = [
            self._vllm.SamplingParams(max_tokens=r.max_tokens, temperature=r.temperature, top_p=r.top_p, seed=r.seed)
            for r in requests
        ]
        started = time.perf_counter()
        outputs = self.llm.chat([r.messages for r in requests], sampling_params=params, use_tqdm=False)
        latency = (time.perf_counter() - started) * 1000
        return [
            Completion(
                text=out.outputs[0].text.strip(),
                prompt_tokens=len(out.prompt_token_ids or []),
                completion_tokens=len(out.outputs[0].token_ids),
                latency_ms=latency,
                model=self.model_id,
                finish_reason="length" if out.outputs[0].finish_reason == "length" else "stop",
            )
            for out in outputs
        ]

    def describe(self) -> dict:
        return {"engine": self.name, "model": self.model_id, "revision": None}
