"""The pieces two packages shared live in the lower one: cutting text into steps in ``agentark.runs.steps``
(labels store the steps, the PAD reward and evaluation cut completions the same way), the agents' column
order in the store (which lists a run's agents in it)."""
from __future__ import annotations

from agentark.labels import segment as labels_segment
from agentark.runs import steps
from agentark.store.trace_tables import agent_order
from agentark.train.pad import PRMReward
from tests.test_architecture import TYPED_GRAPH, package_of


def _reaches(source: str, target: str) -> list[str]:
    return sorted(f"{m} -> {d}" for m in TYPED_GRAPH if package_of(m) == source
                  for d in TYPED_GRAPH[m] if package_of(d) == target)


def test_training_and_the_store_reach_down_only():
    assert _reaches("agentark.train", "agentark.labels") == []
    assert _reaches("agentark.store", "agentark.runs") == []


def test_labels_and_the_pad_reward_cut_text_with_one_segmenter():
    assert labels_segment.segment is steps.segment and labels_segment.SEGMENTERS is steps.SEGMENTERS
    text = "Step 1: 3 + 4 = 7\nStep 2: so the answer is 7."
    reward = PRMReward(scorer=None, aggregation="min", temperature=0.1, segmenter="auto")
    assert reward.steps(text) == [s.text for s in labels_segment.segment(text)] == ["Step 1: 3 + 4 = 7",
                                                                                   "Step 2: so the answer is 7."]


def test_the_store_orders_agents_numerically_with_deciders_last():
    assert agent_order(["aggregator", "agent_10", "agent_2", "agent_2"]) == ["agent_2", "agent_10", "aggregator"]
