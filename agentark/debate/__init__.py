"""Multi-agent debate: ``from agentark.debate import DebateConfig, run_chunk, SOLVE_PROMPT, ...``.

The package is split along its seams: ``prompts`` (every prompt, and the shared ``SOLVE_PROMPT`` with
``solve_messages``), ``methods`` (one generator of turns per method, its record registered in ``METHODS`` by
``register_method``), ``config`` (``DebateConfig``, the one dataclass CLI, page and stored run share) and
``scheduler`` (``run_chunk``, which batches a round of every problem into one engine call). This module only
re-exports public names.
"""
from agentark.debate.debate_config import AgentSpec, DebateConfig, build_engines, first_run_config
from agentark.debate.methods import (
    METHODS,
    ChainOfThought,
    CritiqueOptions,
    CritiqueRevise,
    Decision,
    LLMDebate,
    MADOptions,
    Method,
    MultiAgentDebate,
    NoOptions,
    Play,
    SelfConsistency,
    Turn,
    accepted,
    agent_name,
    all_agree,
    method_named,
    method_of,
    register_method,
)
from agentark.debate.prompts import SOLVE_PROMPT, format_others, solve_messages
from agentark.debate.scheduler import (
    ChunkResult,
    answer_changes,
    decide,
    grade_message,
    message_record,
    outcome_record,
    run_chunk,
)

__all__ = [
    "METHODS",
    "SOLVE_PROMPT",
    "AgentSpec",
    "ChainOfThought",
    "ChunkResult",
    "CritiqueOptions",
    "CritiqueRevise",
    "DebateConfig",
    "Decision",
    "LLMDebate",
    "MADOptions",
    "Method",
    "MultiAgentDebate",
    "NoOptions",
    "Play",
    "SelfConsistency",
    "Turn",
    "accepted",
    "agent_name",
    "all_agree",
    "answer_changes",
    "decide",
    "grade_message",
    "build_engines",
    "first_run_config",
    "format_others",
    "message_record",
    "method_named",
    "method_of",
    "outcome_record",
    "register_method",
    "run_chunk",
    "solve_messages",
]
