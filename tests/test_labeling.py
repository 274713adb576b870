"""Automatic labelers on hand-built transcripts, the append-only human label API, the queue and agreement."""
from __future__ import annotations

import threading

import pandas as pd
import pytest

from agentark.labels import agreement as agr
from agentark.labels import auto_labelers as autolab
from agentark.labels import human_labels as lab
from agentark.errors import ConfigError
from agentark.labels.segment import SegmentConfig, segment, segment_runs, step_ids
from agentark.store import label_tables as q
from tests.steps_fixtures import RIGHT, WRONG, debate_store, message


def frames(messages: list[dict], method: str = "paragraphs") -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = []
    for m in messages:
        steps = segment(m["content"], method)
        for sid, s in zip(step_ids(m["message_id"], steps), steps, strict=True):
            rows.append({"step_id": sid, "message_id": m["message_id"], "idx": s.idx, "text": s.text})
    return pd.DataFrame(messages), pd.DataFrame(rows)


def by_text(steps: pd.DataFrame, labels: pd.DataFrame) -> dict:
    merged = labels.merge(steps, on="step_id")
    return {(r.message_id, r.idx): r.value for r in merged.itertuples()}


def test_outcome_positive_for_right_and_first_contradiction_for_wrong():
    msgs, steps = frames([message("w", "agent_1", 1, WRONG, False), message("r", "agent_2", 1, RIGHT, True)])
    got = by_text(steps, autolab.outcome_labels(msgs, steps))
    assert got == {("r", 0): 1.0, ("r", 1): 1.0, ("r", 2): 1.0, ("w", 0): -1.0}
    # Wrong only from the second step on: the first step agrees with the reference, the second does not.
    late = "Ben has 3 * 4 = 12 apples.\n\nHe eats 2, so 12 - 2 = 9.\n\nThe answer is 9."
    msgs, steps = frames([message("w2", "agent_1", 1, late, False)])
    assert by_text(steps, autolab.outcome_labels(msgs, steps)) == {("w2", 1): -1.0}
    # Without intermediate results in the reference, a wrong transcript gets nothing.
    msgs.loc[0, "meta_json"] = "{}"
    assert autolab.outcome_labels(msgs, steps).empty


def test_debate_signal_marks_critiqued_step_and_revised_step():
    critique = "agent_1 made a mistake: 3 * 4 = 14 is wrong, it should be 12.\n\n" + RIGHT
    msgs, steps = frames([
        message("a1", "agent_1", 1, WRONG, False, seq=0),
        message("b1", "agent_2", 1, RIGHT, True, seq=1),
        message("a2", "agent_1", 2, RIGHT, True, seq=2),
        message("b2", "agent_2", 2, critique, True, seq=3),
    ])
    got = autolab.debate_labels(msgs, steps)
    assert by_text(steps, got) == {("a1", 0): -1.0}
    # Critique alone (agent_1 keeps its wrong answer): the pointed step is still marked, with its confidence.
    msgs2, steps2 = frames([
        message("a1", "agent_1", 1, WRONG, False, seq=0),
        message("b1", "agent_2", 1, RIGHT, True, seq=1),
        message("a2", "agent_1", 2, WRONG, False, seq=2),
        message("b2", "agent_2", 2, "Your step 2 is wrong: 14 - 2 = 12 starts from 14.", True, seq=3),
    ])
    got2 = autolab.debate_labels(msgs2, steps2)
    assert by_text(steps2, got2) == {("a1", 1): -1.0}
    assert got2["confidence"].tolist() == [autolab.DEBATE_CRITIQUE_CONFIDENCE]
    # Round 1 alone carries no debate signal.
    assert autolab.debate_labels(msgs2[msgs2["round"] == 1], steps2).empty


def test_auto_labels_are_appended_once_and_never_overwrite(tmp_path):
    with debate_store(tmp_path / "s.duckdb") as store:
        with pytest.raises(ConfigError, match="segment"):
            autolab.run_auto_labelers(store, autolab.AutoLabelConfig())
        segment_runs(store, None, SegmentConfig())
        first = autolab.run_auto_labelers(store, autolab.AutoLabelConfig())
        assert first["auto:outcome"] == 3 + 4 + 3 + 1 and first["auto:debate"] >= 1
        assert autolab.run_auto_labelers(store, autolab.AutoLabelConfig()) == {"auto:arith": 0, "auto:outcome": 0, "auto:debate": 0}
        table = lab.step_table(store)
        wrong_first = table[(table.message_id == "m1") & (table.idx == 0)].iloc[0]
        assert wrong_first["auto:outcome"] == -1 and wrong_first["auto:debate"] == -1
        with pytest.raises(ConfigError, match="auto:outcome"):
            autolab.AutoLabelConfig(sources=["auto:guess"])


def test_human_labels_are_appended_with_who_and_the_latest_is_in_force(tmp_path):
    with debate_store(tmp_path / "s.duckdb") as store:
        segment_runs(store, None, SegmentConfig())
        sid = q.steps_in_context(store).step_id[0]
        with pytest.raises(ConfigError, match="sidebar"):
            lab.HumanLabel(sid, 1, " ")
        with pytest.raises(ConfigError, match=r"\+1"):
            lab.HumanLabel(sid, 2, "ana")
        lab.add_human_labels(store, [lab.HumanLabel(sid, 1, "ana")])
        lab.add_human_labels(store, [lab.HumanLabel(sid, None, "ben", flag=True, note="not sure")])
        lab.add_human_labels(store, [lab.HumanLabel(sid, -1, "ben", note="3*4 is 12")])
        history = lab.label_history(store, sid)
        assert history[["annotator", "value"]].fillna(99).values.tolist() == [["ana", 1.0], ["ben", 99], ["ben", -1.0]]
        assert history["flag"].tolist() == [False, True, False]
        in_force = q.labels_in_force(store, sources=["human"])
        assert in_force.set_index("step_id").loc[sid, "value"] == -1.0


def test_queue_orders(tmp_path):
    with debate_store(tmp_path / "s.duckdb") as store:
        segment_runs(store, None, SegmentConfig())
        autolab.run_auto_labelers(store, autolab.AutoLabelConfig())
        steps = q.steps_in_context(store)
        first = lab.label_queue(store, "unlabeled")
        assert first.step_id.tolist() == steps.step_id.tolist()
        lab.add_human_labels(store, [lab.HumanLabel(steps.step_id[0], 1, "ana")])
        assert lab.label_queue(store, "unlabeled").step_id.tolist()[-1] == steps.step_id[0]
        # Lowest confidence first; steps no automatic source labelled have no confidence at all and come first.
        by_conf = lab.label_queue(store, "confidence")
        scored = by_conf["min_confidence"].dropna()
        assert by_conf["min_confidence"].isna().tolist() == [True] * (len(by_conf) - len(scored)) + [False] * len(scored)
        assert scored.tolist() == sorted(scored.tolist())
        rows = pd.DataFrame({"label_id": ["x1"], "step_id": [steps.step_id[5]], "value": [-1.0], "source": ["auto:mc"],
                             "confidence": [0.9], "created_at": [pd.Timestamp("2026-01-01")]})
        q.append_labels(store, rows)  # m2 is right (outcome +1) but the rollouts say -1: a disagreement
        assert lab.label_queue(store, "disagreement").step_id[0] == steps.step_id[5]
        with pytest.raises(ConfigError, match="unlabeled"):
            lab.label_queue(store, "random")


def test_kappa_and_confusion():
    assert agr.cohen_kappa([1, 1, -1, -1], [1, 1, -1, -1]) == 1.0
    assert agr.cohen_kappa([1, -1, 1, -1], [1, 1, -1, -1]) == pytest.approx(0.0)
    assert agr.cohen_kappa([1, 1, 1, 0], [1, 1, 0, 0]) == pytest.approx(0.5)
    assert agr.cohen_kappa([], []) is None
    table = agr.confusion([1, 1, -1], [1, -1, -1], "a", "b")
    assert table.loc[1, 1] == 1 and table.loc[1, -1] == 1 and table.loc[-1, -1] == 1 and table.values.sum() == 3


def test_agreement_between_annotators_and_sources(tmp_path):
    with debate_store(tmp_path / "s.duckdb") as store:
        segment_runs(store, None, SegmentConfig())
        autolab.run_auto_labelers(store, autolab.AutoLabelConfig(sources=["auto:outcome"]))
        labelled = lab.step_table(store).dropna(subset=["auto:outcome"])
        ids, auto = labelled.step_id.tolist(), labelled["auto:outcome"].tolist()
        lab.add_human_labels(store, [lab.HumanLabel(s, int(v), "ana") for s, v in zip(ids, auto)])
        lab.add_human_labels(store, [lab.HumanLabel(s, 1, "ben") for s in ids])
        result = {(r.rater_a, r.rater_b): r for r in agr.agreement(store)}
        assert result[("auto:outcome", "human")].n == len(ids)
        assert result[("ana", "ben")].n == len(ids)
        # ben's labels are the latest human labels in force, all +1, so the outcome's single -1 disagrees.
        assert result[("auto:outcome", "human")].table.loc[-1, 1] == 1


def test_two_writers_at_the_same_time_lose_no_label(tmp_path):
    with debate_store(tmp_path / "s.duckdb") as store:
        segment_runs(store, None, SegmentConfig())
        ids = q.steps_in_context(store).step_id.tolist()
        errors = []

        def work(name: str) -> None:
            try:
                for i in range(30):
                    lab.add_human_labels(store, [lab.HumanLabel(ids[i % len(ids)], 1 if i % 2 else -1, name)])
            except Exception as exc:  # surfaced below: a lost label must fail the test, not vanish
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(n,)) for n in ("ana", "ben")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        counts = lab.label_counts(store).set_index("annotator")["labels"]
        assert counts["ana"] == 30 and counts["ben"] == 30
