"""In-process vLLM generation (GPU only), for when starting a separate ``vllm serve`` is not wanted.

vLLM is imported only when this engine is built: it is not in requirements.txt (it pulls CUDA builds),
so choosing the engine without it fails with the install step and the served alternative. One
``LLM.chat`` call takes the whole batch (two when some requests continue an assistant prefix and some do
not, since ``continue_final_message`` is set per call); vLLM schedules it with continuous batching.
Requests of a batch get distinct seeds (``spread_seeds``), or k seeded samples of a prompt would be equal.
"""
from __future__ import annotations

import time

from agentark.backends.base import ChatRequest, Completion, continued_messages, spread_seeds
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
        results: list[Completion | None] = [None] * len(requests)
        seeded = spread_seeds(requests)
        fresh = [i for i, r in enumerate(seeded) if not r.assistant_prefix]
        continued = [i for i, r in enumerate(seeded) if r.assistant_prefix]
        for members, continue_final in ((fresh, False), (continued, True)):
            if members:
                self._chat([seeded[i] for i in members], continue_final, members, results)
        return results  # type: ignore[return-value]

    def _chat(self, batch: list[ChatRequest], continue_final: bool, where: list[int],
              results: list[Completion | None]) -> None:
        params = [
            self._vllm.SamplingParams(max_tokens=r.max_tokens, temperature=r.temperature, top_p=r.top_p, seed=r.seed)
            for r in batch
        ]
        started = time.perf_counter()
        outputs = self.llm.chat([continued_messages(r) for r in batch], sampling_params=params, use_tqdm=False,
                                add_generation_prompt=not continue_final, continue_final_message=continue_final)
        latency = (time.perf_counter() - started) * 1000
        for i, out in zip(where, outputs):
            sample = out.outputs[0]
            reason = getattr(sample, "finish_reason", None)
            results[i] = Completion(
                text="" if reason == "abort" else sample.text.strip(),
                prompt_tokens=len(out.prompt_token_ids or []),
                completion_tokens=len(sample.token_ids),
                latency_ms=latency,
                model=self.model_id,
                # vLLM says "abort" for a request it dropped: a failure, never an answer.
                error="vLLM aborted the request" if reason == "abort" else None,
                finish_reason="length" if reason == "length" else "stop",
            )

    def describe(self) -> dict:
        return {"engine": self.name, "model": self.model_id, "revision": None}
