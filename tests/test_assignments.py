"""Assignments: two annotators' queues share no step beyond the run's chosen overlap, which both label; the
Label page's team view shows each person's progress and their kappa on that overlap."""
from __future__ import annotations

import pytest

from agentark.errors import ConfigError
from agentark.labels import human_labels as lab
from agentark.labels.assignments import AssignmentConfig, overlaps, set_overlap, team_progress
from agentark.labels.segment import SegmentConfig, segment_runs
from agentark.store import label_tables as q
from tests.steps_fixtures import RIGHT, WRONG, build_store, message


def _store(path):
    msgs = [message(f"m{i}", f"agent_{i % 3 + 1}", 1 + i // 3, (RIGHT if i % 2 else WRONG), bool(i % 2), seq=i)
            for i in range(12)]
    store = build_store(path, msgs)
    segment_runs(store, None, SegmentConfig())
    return store


def _drain(queue: lab.LabelQueue) -> list[str]:
    for pos in range(len(queue) + 1):
        queue.ensure(pos)
    return list(queue.step_ids)


def _in_overlap(store, step_ids: list[str], share: float) -> set[str]:
    """The steps whose hash bucket falls under the share: what the store counts as overlap."""
    ids = list(step_ids)
    rows = store.df(f"SELECT step_id FROM steps WHERE list_contains($ids, step_id) "
                    f"AND (hash(step_id) % 1000000) < $share * 1000000", {"ids": ids, "share": share})
    return set(rows["step_id"])


@pytest.mark.parametrize("share", [0.0, 0.3])
def test_two_annotators_queues_overlap_only_on_the_chosen_share(tmp_path, share):
    store = _store(tmp_path / "s.duckdb")
    run = store.df("SELECT run_id FROM runs")["run_id"][0]
    every = set(lab.label_queue(store)["step_id"])
    assert len(every) > 20
    set_overlap(store, AssignmentConfig([run], share), by="admin@example.org")
    assert overlaps(store) == {run: share}
    alice = set(_drain(lab.LabelQueue.open(store, page_size=4, who="alice")))
    bob = set(_drain(lab.LabelQueue.open(store, page_size=4, who="bob")))
    shared = _in_overlap(store, list(every), share)
    assert alice | bob == every  # nothing is left out
    assert alice & bob == shared  # the second queue takes only the overlap of what the first holds
    if share == 0.0:
        assert not alice & bob
    else:
        assert shared  # the share picked some steps at this size
    # A third person finds no step left: every step is held by one, and overlap steps by two.
    assert not _drain(lab.LabelQueue.open(store, page_size=4, who="carol"))
    # A queue opened without a person (the CLI's, the tests') still holds every step.
    assert set(_drain(lab.LabelQueue.open(store, page_size=4))) == every


def test_a_persons_own_steps_stay_in_their_queue_and_labels_count_as_held(tmp_path):
    store = _store(tmp_path / "s.duckdb")
    every = lab.label_queue(store)["step_id"].tolist()
    # Labels given before assignments existed hold their steps too.
    lab.add_human_labels(store, [lab.HumanLabel(every[0], 1, "dave")])
    alice = _drain(lab.LabelQueue.open(store, page_size=5, who="alice"))
    assert every[0] not in alice and len(alice) == len(every) - 1
    assert _drain(lab.LabelQueue.open(store, page_size=5, who="alice")) == alice  # reopened: the same steps


def test_team_progress_and_kappa_on_the_overlap(tmp_path):
    store = _store(tmp_path / "s.duckdb")
    run = store.df("SELECT run_id FROM runs")["run_id"][0]
    set_overlap(store, AssignmentConfig([run], 1.0), by=None)
    alice = _drain(lab.LabelQueue.open(store, who="alice"))
    bob = _drain(lab.LabelQueue.open(store, who="bob"))
    assert alice == bob  # a share of 1: every step twice
    lab.add_human_labels(store, [lab.HumanLabel(s, 1, "alice") for s in alice[:6]])
    lab.add_human_labels(store, [lab.HumanLabel(s, 1 if i < 3 else -1, "bob") for i, s in enumerate(bob[:6])])
    team = team_progress(store)
    people = team.people.set_index("annotator")
    assert people.loc["alice", "labelled"] == 6 and people.loc["alice", "held"] == len(alice)
    assert people.loc["bob", "overlap_held"] == len(bob)
    pair = team.pairs.iloc[0]
    assert (pair["annotator A"], pair["annotator B"], pair["steps both labelled"]) == ("alice", "bob", 6)


def test_overlap_is_a_share():
    with pytest.raises(ConfigError, match="overlap is a share"):
        AssignmentConfig(["r"], 1.5)


def test_cli_sets_the_overlap_and_prints_the_team(tmp_path, capsys, monkeypatch):
    from agentark.cli import main
    from agentark.store import Store

    store_path = str(tmp_path / "s.duckdb")
    run = _store(store_path).df("SELECT run_id FROM runs")["run_id"][0]
    monkeypatch.setenv("AGENTARK_STORE", store_path)
    assert main(["labels", "overlap", "--run", run, "--overlap", "0.25"]) == 0
    _drain(lab.LabelQueue.open(Store(store_path), page_size=50, who="alice"))
    assert main(["labels", "team"]) == 0
    assert overlaps(Store(store_path)) == {run: 0.25}
    assert "alice" in capsys.readouterr().out


@pytest.mark.slow
def test_team_tab_shows_progress_kappa_and_sets_the_overlap():
    from agentark.store import Store
    from tests.test_label_pages import labeling_page, open_tab

    with Store() as store:
        store_ = _store(store.path)
        run = store_.df("SELECT run_id FROM runs")["run_id"][0]
        set_overlap(store_, AssignmentConfig([run], 1.0), by=None)
        steps = {who: _drain(lab.LabelQueue.open(store_, who=who)) for who in ("alice", "bob")}
        for who in steps:  # both queues hold every step (a share of 1): both label the same first four
            lab.add_human_labels(store_, [lab.HumanLabel(s, 1, who) for s in steps["alice"][:4]])
    at = labeling_page("carol")
    open_tab(at, "Team")
    people = next(d.value for d in at.dataframe if "overlap_held" in d.value.columns)
    assert {"alice", "bob"} <= set(people["annotator"])
    pairs = next(d.value for d in at.dataframe if "kappa" in d.value.columns)
    assert list(pairs.iloc[0][["annotator A", "annotator B", "steps both labelled"]]) == ["alice", "bob", 4]
    at.slider(key="lab_assign_overlap").set_value(0.3)
    at.button(key="FormSubmitter:lab_assign-Set overlap").click()
    at.run()
    assert not at.exception and at.success
    assert overlaps(Store()) == {run: 0.3}
