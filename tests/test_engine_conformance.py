"""One contract, every engine: the assistant prefix is continued, a batch's requests get distinct seeds,
finish reasons are kept, and completions come back in request order.

Each engine runs against a model whose behaviour the test can predict: the scripted engine and the
openai engine (against tests/openai_server.py) against tests/fake_chat_model.py, which follows vLLM's
rules for continuing an assistant turn; the vllm engine against a stand-in ``vllm`` module with the same
model, and against real vLLM when it is installed on a GPU machine; the transformers engine against a
tiny random Llama whose greedy replies are reproducible word for word.
"""
from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass

import pytest

from agentark.backends.base import ChatRequest, Engine

QUESTION = [{"role": "user", "content": "solve the problem 3 add 4"}]
LONG = 16  # max_tokens that no natural reply of these models reaches


@dataclass
class Harness:
    engine: Engine
    knows_stop: bool = True  # whether the model is known to end a greedy reply before LONG tokens


def _real_vllm_available() -> bool:
    if importlib.util.find_spec("vllm") is None:
        return False
    import torch

    return torch.cuda.is_available()


def _end_turn_early(engine) -> None:
    """Make a word of the tiny model's greedy reply an end-of-turn token, so that reply ends after 5+ words.

    A random model never predicts its own end token; without this no transformers reply would "stop".
    """
    (fresh,) = engine.generate([ChatRequest(QUESTION, max_tokens=LONG)])
    words = fresh.text.split()
    word = next((w for i, w in enumerate(words) if i >= 4 and w not in words[:i]), None)
    assert word, f"pick another seed for the tiny model: its greedy reply {words} repeats itself"
    config = engine.model.generation_config
    config.eos_token_id = [engine.tokenizer.eos_token_id, engine.tokenizer.convert_tokens_to_ids(word)]


@pytest.fixture(scope="module")
def tiny_model_path(tmp_path_factory):
    from tests.tinylm import build_tiny_llama

    return build_tiny_llama(tmp_path_factory.mktemp("tiny-llama"), seed=3, words=True)


@pytest.fixture(params=["scripted", "transformers", "openai", "vllm-standin", "vllm"])
def harness(request, tiny_model_path, monkeypatch):
    kind = request.param
    if kind == "scripted":
        from agentark.backends.scripted import ScriptedEngine

        yield Harness(ScriptedEngine("tests.fake_chat_model:responder"))
    elif kind == "transformers":
        from agentark.backends.transformers_engine import TransformersEngine

        engine = TransformersEngine(str(tiny_model_path), device="cpu")
        _end_turn_early(engine)
        yield Harness(engine)
    elif kind == "openai":
        from agentark.backends.openai_engine import OpenAIEngine
        from tests.fake_chat_model import server_script
        from tests.openai_server import OpenAIServer

        with OpenAIServer(server_script) as server:
            yield Harness(OpenAIEngine("fake", base_urls=server.base_url, concurrency=4, max_retries=0))
    elif kind == "vllm-standin":
        from tests import fake_vllm

        monkeypatch.setitem(sys.modules, "vllm", fake_vllm)
        from agentark.backends.vllm_engine import VLLMEngine

        yield Harness(VLLMEngine("fake"))
    else:
        if not _real_vllm_available():
            pytest.skip("vLLM is not installed or no CUDA GPU is visible; the stand-in module covers the engine")
        from agentark.backends.vllm_engine import VLLMEngine

        yield Harness(VLLMEngine(str(tiny_model_path), gpu_memory_utilization=0.2), knows_stop=False)


def test_the_assistant_prefix_is_continued(harness):
    engine = harness.engine
    (fresh,) = engine.generate([ChatRequest(QUESTION, max_tokens=LONG)])
    words = fresh.text.split()
    assert len(words) >= 4
    prefix = " ".join(words[:2])
    (continued,) = engine.generate([ChatRequest(QUESTION, max_tokens=LONG, assistant_prefix=prefix)])
    # Greedy decoding from the reply's own first two words yields the rest of that reply, and only the rest.
    assert continued.ok and continued.text.split() == words[2:]
    (other,) = engine.generate([ChatRequest(QUESTION, max_tokens=LONG, assistant_prefix=words[3])])
    assert other.text.split() != words[2:] and other.text.split() != words


def test_requests_of_a_batch_get_distinct_seeds(harness):
    engine = harness.engine
    batch = [ChatRequest(QUESTION, max_tokens=6, temperature=1.0, seed=7) for _ in range(4)]
    texts = [c.text for c in engine.generate(batch)]
    assert len(set(texts)) == 4, texts
    # Distinct, yet still reproducible from the batch's seed.
    assert [c.text for c in engine.generate(batch)] == texts
    # Monte-Carlo rollouts: k samples from one step prefix must differ too.
    rollouts = [ChatRequest(QUESTION, max_tokens=6, temperature=1.0, seed=7, assistant_prefix="the answer")
                for _ in range(4)]
    assert len({c.text for c in engine.generate(rollouts)}) == 4


def test_finish_reasons_are_kept_in_request_order(harness):
    engine = harness.engine
    cut, whole = engine.generate([ChatRequest(QUESTION, max_tokens=2), ChatRequest(QUESTION, max_tokens=LONG)])
    assert cut.finish_reason == "length" and len(cut.text.split()) <= 2
    assert whole.text.split()[:len(cut.text.split())] == cut.text.split()
    if harness.knows_stop:
        assert whole.finish_reason == "stop" and len(whole.text.split()) < LONG
    else:
        assert whole.finish_reason in ("stop", "length")
