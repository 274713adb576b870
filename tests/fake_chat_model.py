"""A deterministic stand-in for a served chat model, with vLLM's rules for continuing an assistant turn.

``reply(messages, ...)`` answers like a model behind vLLM's chat endpoint: the rendered context is the
messages, closed turn by turn, unless ``continue_final_message`` leaves the final assistant message open,
in which case its words count as already generated and the reply goes on from there. A reply is
``REPLY_WORDS`` words long in all, each word a function of the context, its position and (when sampling)
the seed; ``max_tokens`` words at most, with finish reason "length" when it cut the reply.
"""
from __future__ import annotations

import hashlib
import json

REPLY_WORDS = 8


def reply(messages: list[dict], max_tokens: int, temperature: float = 0.0, seed: int | None = None,
          add_generation_prompt: bool = True, continue_final_message: bool = False) -> tuple[str, str]:
    """(continuation text, finish reason) for one chat request."""
    if continue_final_message and add_generation_prompt:
        raise ValueError("continue_final_message and add_generation_prompt cannot both be true")
    if continue_final_message:
        if not messages or messages[-1]["role"] != "assistant":
            raise ValueError("continue_final_message needs a final assistant message")
        context, written = messages[:-1], len(messages[-1]["content"].split())
    else:
        context, written = messages, 0
    sample = seed if temperature > 0 else None
    key = json.dumps([context, sample], sort_keys=True)
    words = [f"w{int(hashlib.sha1(f'{key}|{i}'.encode()).hexdigest(), 16) % 1000}" for i in range(REPLY_WORDS)]
    rest = words[written:]
    return " ".join(rest[:max_tokens]), "length" if len(rest) > max_tokens else "stop"


def server_script(body: dict, attempt: int):
    """``OpenAIServer`` script answering with :func:`reply`; a malformed continuation is an HTTP 400."""
    from tests.openai_server import Reply

    try:
        text, reason = reply(body["messages"], body["max_tokens"], body.get("temperature", 1.0), body.get("seed"),
                             body.get("add_generation_prompt", True), body.get("continue_final_message", False))
    except ValueError as exc:
        return Reply(status=400, raw=json.dumps({"error": str(exc)}))
    return Reply(text=text, finish_reason=reason, completion_tokens=len(text.split()))


def responder(request) -> str:
    """A scripted-engine responder that answers like :func:`reply` (scripted requests carry the prefix)."""
    messages = list(request.messages)
    continuing = bool(request.assistant_prefix)
    if continuing:
        messages.append({"role": "assistant", "content": request.assistant_prefix})
    text, _ = reply(messages, REPLY_WORDS, request.temperature, request.seed, not continuing, continuing)
    return text
