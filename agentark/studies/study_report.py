"""A study's result on one screen: one row per arm, with intervals, paired tests, volumes and links.

Per arm: accuracy on the held-out problems with a 95% interval; its lift over the base model and its difference
from the matched single-agent arm, each with a paired interval and p-value; tokens per problem; the training rows
and tokens; the teacher's accuracy on the same problems and the student/teacher ratio; across seeds the mean and
the spread (standard deviation, lowest and highest); and the ids of every run, export, job and model behind it.

Design decision: the unit of every interval and test is the problem. A problem's score in an arm is its mean
correctness over the arm's seeds (0 or 1 with one seed), intervals are the percentile bootstrap of the mean over
problems (``agentark.evaluate.stats.bootstrap_ci``), and a paired comparison uses each problem's difference
between the two arms on the problems both finished, decided by ``agentark.evaluate.stats.paired_verdict``: the
exact sign test on the problems that differ (with one seed McNemar's exact test) and the exact interval that
agrees with it, or "too few discordant pairs" and no interval when too few problems differ to decide. Every
figure is read from the evaluation runs in the store, so the page, ``study show`` and its JSON and HTML agree.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from agentark.errors import JobError
from agentark.evaluate import stats
from agentark.evaluate.metrics import run_metrics
from agentark.safe_text import html_text
from agentark.store import Store
from agentark.store import eval_tables as q
from agentark.studies.matched_volume import VOLUME_TOLERANCE, volume_matched
from agentark.studies.arms import BASE, arm_names, arm_title
from agentark.studies.study_config import StudyConfig
from agentark.studies.study_job import StudyFolder


@dataclass
class Paired:
    """An arm against a reference arm on the problems both finished."""

    reference: str
    problems: int
    difference: float
    ci_low: float | None
    ci_high: float | None
    p_value: float
    verdict: str = ""


@dataclass
class ArmResult:
    arm: str
    name: str
    seeds: list[int]
    problems: int
    accuracy: float
    ci_low: float
    ci_high: float
    seed_accuracies: list[float]
    spread_sd: float
    spread_min: float
    spread_max: float
    lift: Paired | None
    vs_single: Paired | None
    tokens_per_problem: float
    train_rows: int
    train_tokens: int
    teacher_accuracy: float
    teacher_ratio: float
    held_out: dict = field(default_factory=dict)
    links: dict = field(default_factory=dict)
    note: str = ""
    ties: int = 0  # problems whose vote had no majority, over the arm's seeds (no final answer by default)


@dataclass
class StudyResult:
    study_id: str
    name: str
    status: str
    stage: str
    config: dict
    teacher: dict
    arms: list[ArmResult]
    held_out: dict
    single_pool: dict
    errors: dict
    steps: list[dict]

    def to_json(self) -> dict:
        return _clean(asdict(self))


def _clean(value):
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def correctness(store: Store, run_ids: list[str]) -> dict[str, pd.Series]:
    """run id -> correctness per finished problem (problem id index)."""
    rows = q.outcome_rows(store, run_ids) if run_ids else pd.DataFrame(columns=["run_id", "problem_id", "is_correct"])
    return {r: rows[rows["run_id"] == r].set_index("problem_id")["is_correct"].astype(float) for r in run_ids}


def per_problem(series: list[pd.Series]) -> pd.Series:
    """Each problem's mean correctness over the seeds' runs, on the problems every run finished."""
    frame = pd.concat(series, axis=1).dropna()
    return frame.mean(axis=1)


def paired(arm: pd.Series, reference: pd.Series, name: str) -> Paired:
    shared = arm.index.intersection(reference.index)
    v = stats.paired_verdict(reference[shared].to_numpy(dtype=float), arm[shared].to_numpy(dtype=float))
    return Paired(name, len(shared), v.difference, v.low, v.high, v.p_value, v.verdict)


def study_result(store: Store, study_id: str) -> StudyResult:
    """The result table of a study from its record and the evaluation runs in the store."""
    folder = StudyFolder(study_id).require()
    store.refresh()
    record, progress, cfg = folder.record(), folder.progress(), folder.meta()["config"]
    arms_rec = record.get("arms", {})
    teacher = dict(record.get("teacher", {}))
    runs = [r["eval_run"] for arm in arms_rec.values() for r in arm.values()]
    runs += [teacher["test_run"]] if teacher.get("test_run") else []
    correct = correctness(store, list(dict.fromkeys(runs)))
    metrics = run_metrics(store, list(correct)) if correct else []
    tokens = {m.run_id: m.tokens_per_problem for m in metrics}
    ties = {m.run_id: m.ties for m in metrics}

    teacher_scores = correct.get(teacher.get("test_run"), pd.Series(dtype=float))
    if len(teacher_scores):
        low, high = stats.bootstrap_ci(teacher_scores.to_numpy())
        teacher.update(accuracy=float(teacher_scores.mean()), ci_low=low, ci_high=high, problems=len(teacher_scores),
                       tokens_per_problem=tokens.get(teacher["test_run"], math.nan))

    scores = {arm: per_problem([correct[r["eval_run"]] for r in seeds.values() if r["eval_run"] in correct])
              for arm, seeds in arms_rec.items() if any(r["eval_run"] in correct for r in seeds.values())}
    results = []
    for arm in [BASE, *arm_names()]:
        if arm not in scores:
            continue
        seeds = arms_rec[arm]
        series = scores[arm]
        eval_runs = list(dict.fromkeys(r["eval_run"] for r in seeds.values()))
        per_seed = [float(correct[r].mean()) for r in eval_runs if r in correct]
        low, high = stats.bootstrap_ci(series.to_numpy())
        shared_teacher = series.index.intersection(teacher_scores.index)
        t_acc = float(teacher_scores[shared_teacher].mean()) if len(shared_teacher) else math.nan
        s_acc = float(series[shared_teacher].mean()) if len(shared_teacher) else math.nan
        first = next(iter(seeds.values()))
        export = first.get("export") or {}
        results.append(ArmResult(
            arm=arm, name=arm_title(arm), seeds=sorted(int(s) for s in seeds), problems=len(series),
            accuracy=float(np.mean(per_seed)) if per_seed else math.nan, ci_low=low, ci_high=high,
            seed_accuracies=per_seed,
            spread_sd=float(np.std(per_seed, ddof=1)) if len(per_seed) > 1 else math.nan,
            spread_min=float(min(per_seed)) if per_seed else math.nan,
            spread_max=float(max(per_seed)) if per_seed else math.nan,
            lift=paired(series, scores["base"], "base") if arm != "base" and "base" in scores else None,
            vs_single=paired(series, scores["single"], "single") if arm not in ("base", "single")
            and "single" in scores else None,
            tokens_per_problem=float(np.mean([tokens[r] for r in eval_runs if r in tokens])) if eval_runs else math.nan,
            train_rows=int(export.get("rows", 0)), train_tokens=int(export.get("tokens", 0)),
            teacher_accuracy=t_acc, teacher_ratio=s_acc / t_acc if t_acc else math.nan,
            held_out=_held_out(seeds, record.get("held_out", {})), links=_links(arm, seeds, record),
            note=_note(arm, first, record), ties=sum(ties.get(r, 0) for r in eval_runs),
        ))
    return StudyResult(study_id, cfg.get("name", ""), folder.status(), progress.get("stage") or "", cfg, teacher,
                       results, record.get("held_out", {}), record.get("single_pool", {}), record.get("errors", {}),
                       record.get("steps", []))


def _held_out(seeds: dict, split: dict) -> dict:
    infos = [r.get("info") or {} for r in seeds.values()]
    return {"checked": all(i.get("held_out_checked") for i in infos),
            "overlapping": sum(int(i.get("overlapping", 0)) for i in infos),
            "same_question_in_train": len(split.get("same_question", []))}


def _links(arm: str, seeds: dict, record: dict) -> dict:
    """Every run, export, job and model behind an arm's row."""
    teacher = record.get("teacher", {})
    links = {"runs": [], "exports": [], "jobs": [], "models": []}
    for r in seeds.values():
        links["runs"].append(r["eval_run"])
        links["jobs"] += [r["eval_run"]] + ([r["train_job"]] if r.get("train_job") else [])
        if r.get("train_job"):
            links["models"].append(r["model"])
        export = r.get("export") or {}
        if export.get("export_id"):
            links["exports"].append(export["export_id"])
        links["runs"] += export.get("sampling_runs", [])
    if arm != "base":
        links["runs"].append(teacher.get("train_run"))
    if arm == "pad" and record.get("prm"):
        links["exports"].append(record["prm"]["export"]["export_id"])
        links["jobs"].append(record["prm"]["job"])
        links["models"].append(record["prm"]["model"])
    return {k: [v for v in dict.fromkeys(vs) if v] for k, vs in links.items()}


def _note(arm: str, first: dict, record: dict) -> str:
    if arm == "pad":
        return f"trained rows and tokens are its SFT arm's; PAD then practised on {first.get('pad_problems')} problems"
    if arm == "single" and record.get("single_pool"):
        pool = record["single_pool"]
        note = (f"{pool['rows']} of {pool['candidates']} correct samples picked to match {pool['target_rows']} rows / "
                f"{pool['target_tokens']} tokens: {pool['tokens']} tokens ({pool['token_ratio']:.2f}x)")
        if not volume_matched(pool):
            note += (f"; NOT matched within {VOLUME_TOLERANCE:.0%}: the pool of correct samples was too small (raise "
                     "single_max_rounds or single_samples)")
        return note
    return ""


# -- rendering ------------------------------------------------------------------------------------------------
def _pct(v: float) -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * v:.1f}%"


def _pts(v: float) -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * v:+.1f}"


def _interval(low: float | None, high: float | None, fmt=_pct) -> str:
    return "—" if low is None or high is None or math.isnan(low) else f"[{fmt(low)}, {fmt(high)}]"


def _paired_interval(p: Paired | None) -> str:
    """The exact interval, or why there is none ("too few discordant pairs")."""
    if p is None:
        return "—"
    return _interval(p.ci_low, p.ci_high, _pts) if p.ci_low is not None else p.verdict or "—"


def _p(v: float) -> str:
    return "—" if v is None or math.isnan(v) else (f"{v:.3f}" if v >= 0.001 else f"{v:.1e}")


def table_rows(result: StudyResult) -> list[dict]:
    """One plain row per arm: what the CLI prints and the page shows."""
    rows = []
    for a in result.arms:
        rows.append({
            "arm": a.arm,
            "accuracy": _pct(a.accuracy),
            "95% CI": _interval(a.ci_low, a.ci_high),
            "seeds": len(a.seeds),
            "spread (sd, min–max)": "—" if len(a.seeds) < 2 else
            f"{_pct(a.spread_sd)}, {_pct(a.spread_min)}–{_pct(a.spread_max)}",
            "lift vs base (pts)": _pts(a.lift.difference) if a.lift else "—",
            "lift 95% CI": _paired_interval(a.lift),
            "lift p": _p(a.lift.p_value) if a.lift else "—",
            "vs single (pts)": _pts(a.vs_single.difference) if a.vs_single else "—",
            "vs single 95% CI": _paired_interval(a.vs_single),
            "vs single p": _p(a.vs_single.p_value) if a.vs_single else "—",
            "vote ties": a.ties,
            "tokens/problem": "—" if math.isnan(a.tokens_per_problem) else f"{a.tokens_per_problem:.0f}",
            "train rows": a.train_rows,
            "train tokens": a.train_tokens,
            "student/teacher": "—" if math.isnan(a.teacher_ratio) else f"{a.teacher_ratio:.2f}",
            "held out": "yes" if a.held_out.get("checked") and not a.held_out.get("overlapping") else "NO",
            "problems": a.problems,
        })
    return rows


def teacher_line(result: StudyResult) -> str:
    t = result.teacher
    if "accuracy" not in t:
        return "teacher: not evaluated on the test problems yet"
    teacher = StudyConfig.from_dict(result.config).teacher  # stored by this version or an older one (flat keys)
    return (f"teacher ({teacher.method}, {teacher.agents} agents x {teacher.rounds} rounds) on the same "
            f"{t['problems']} test problems: "
            f"{_pct(t['accuracy'])} {_interval(t['ci_low'], t['ci_high'])}, "
            f"{t['tokens_per_problem']:.0f} tokens/problem (run {t['test_run']})")


def text_report(result: StudyResult) -> list[str]:
    """The result as lines of text (the CLI's ``study show``)."""
    lines = [f"study {result.study_id} ({result.name}): {result.status} — {result.stage}", teacher_line(result)]
    split = result.held_out
    if split:
        lines.append(f"held out: {split.get('test_problems')} test problems, none among the "
                     f"{split.get('train_problems')} train problems by id; "
                     f"{len(split.get('same_question', []))} share a question text with one")
    for arm, error in sorted(result.errors.items()):
        lines.append(f"arm {arm} has no result: {error}")
    for a in result.arms:
        links = "; ".join(f"{k}: {', '.join(v)}" for k, v in a.links.items() if v)
        lines.append(f"  {a.arm}: {links}" + (f" ({a.note})" if a.note else ""))
    return lines


def html_report(result: StudyResult) -> str:
    """A self-contained HTML page of the study's table and links."""
    rows = table_rows(result)
    esc = html_text
    head = "".join(f"<th>{esc(c)}</th>" for c in (rows[0] if rows else {}))
    body = "".join("<tr>" + "".join(f"<td>{esc(str(v))}</td>" for v in r.values()) + "</tr>" for r in rows)
    details = "".join(
        f"<h3>{esc(a.arm)}: {esc(a.name)}</h3><ul>"
        + "".join(f"<li>{esc(k)}: {esc(', '.join(v))}</li>" for k, v in a.links.items() if v)
        + (f"<li>{esc(a.note)}</li>" if a.note else "") + "</ul>" for a in result.arms)
    errors = "".join(f"<p><b>{esc(k)}</b>: {esc(v)}</p>" for k, v in sorted(result.errors.items()))
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>Study {esc(result.study_id)}</title>"
            "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}</style></head><body>"
            f"<h1>Study {esc(result.name)}</h1><p>{esc(result.study_id)}: {esc(result.status)} — "
            f"{esc(result.stage)}</p><p>{esc(teacher_line(result))}</p>"
            f"<table><tr>{head}</tr>{body}</table>{errors}<h2>Behind each row</h2>{details}</body></html>")


def require_study(study_id: str) -> StudyFolder:
    folder = StudyFolder(study_id)
    if not folder.exists():
        raise JobError(f"No study '{study_id}'; list studies with `python -m agentark study list`.")
    return folder
