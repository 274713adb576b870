"""A study's result on one screen: one row per arm, with intervals, paired tests, volumes and links.

Per arm: accuracy on the held-out problems with a 95% interval; its lift over the base model and its difference
from the matched single-agent arm, each with a paired interval and p-value; tokens per problem; the training rows
and tokens; the share of its answers cut off at the token limit; the teacher's accuracy on the same problems, from
its logs, alone (round 1) and in debate (the final round's vote), and the student/teacher ratio for each; across
seeds the mean and the spread (standard deviation, lowest and highest); and the ids of every run, export, job and
model behind it. Each comparison ends in a verdict (better, worse, or cannot tell at this size) from the table's
own test (:func:`decide`), and an arm trained on fewer rows than ``min_train_rows`` is flagged.

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
from agentark.store import label_tables
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
    alone_accuracy: float = math.nan
    alone_ratio: float = math.nan
    cut_off: float = math.nan
    held_out: dict = field(default_factory=dict)
    links: dict = field(default_factory=dict)
    note: str = ""
    ties: int = 0  # problems whose vote had no majority, over the arm's seeds (no final answer by default)
    warnings: list[str] = field(default_factory=list)


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
    verdicts: list[str] = field(default_factory=list)
    progress: dict = field(default_factory=dict)

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


def teacher_scores(store: Store, runs: list[str], problems: pd.Index) -> tuple[pd.Series, pd.Series]:
    """The teacher on ``problems``, from its logs: each problem's round-1 correctness (the agents answering alone,
    their mean) and its final-round vote, each averaged over the runs that hold it."""
    if not runs or not len(problems):
        return pd.Series(dtype=float), pd.Series(dtype=float)
    final = q.outcome_rows(store, runs)
    final = final[final["problem_id"].isin(problems)].groupby("problem_id")["is_correct"].mean().astype(float)
    messages = label_tables.curated_messages(store, runs)
    first = messages[(messages["round"] == 1) & messages["problem_id"].isin(problems)]
    alone = first.assign(right=first["is_correct"].fillna(False).astype(float)).groupby("problem_id")["right"].mean()
    return alone.astype(float), final


def cut_off_share(store: Store, runs: list[str]) -> float:
    """The share of the runs' answers cut off at the token limit."""
    messages = label_tables.curated_messages(store, runs) if runs else pd.DataFrame()
    return float(messages["finish_reason"].eq("length").mean()) if len(messages) else math.nan


def decide(comparison: Paired) -> str:
    """A comparison's verdict in the study's words, from the table's own decision (``stats.paired_verdict``, kept
    on the comparison): better, worse, or cannot tell at this size (no difference shown, or too few problems
    differ to decide)."""
    if comparison.verdict in (stats.BETTER, stats.WORSE):
        return comparison.verdict
    return "cannot tell at this size" + (f" ({comparison.verdict})" if comparison.verdict == stats.TOO_FEW else "")


def verdict_line(arm: str, comparison: Paired) -> str:
    """One comparison in words: the arm, its reference, the difference, the test and the verdict."""
    return (f"{arm_title(arm)} vs {arm_title(comparison.reference)}: {decide(comparison)} "
            f"({_pts(comparison.difference)} pts on {comparison.problems} problems, 95% CI "
            f"{_paired_interval(comparison)}, p = {_p(comparison.p_value)})")


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

    scores = {arm: per_problem([correct[r["eval_run"]] for r in seeds.values() if r["eval_run"] in correct])
              for arm, seeds in arms_rec.items() if any(r["eval_run"] in correct for r in seeds.values())}
    # The teacher on exactly the evaluation's problems (the base model's), from its logs.
    test_runs = teacher.get("test_runs") or ([teacher["test_run"]] if teacher.get("test_run") else [])
    evaluated = scores[BASE].index if BASE in scores else pd.Index([])
    alone_scores, teacher_final = teacher_scores(store, test_runs, evaluated)
    if len(teacher_final):
        low, high = stats.bootstrap_ci(teacher_final.to_numpy())
        teacher.update(accuracy=float(teacher_final.mean()), ci_low=low, ci_high=high, problems=len(teacher_final),
                       tokens_per_problem=tokens.get(teacher.get("test_run"), math.nan))
    if len(alone_scores):
        low, high = stats.bootstrap_ci(alone_scores.to_numpy())
        teacher.update(alone_accuracy=float(alone_scores.mean()), alone_ci_low=low, alone_ci_high=high)
    minimum = int(cfg.get("min_train_rows") or StudyConfig.min_train_rows)
    results = []
    for arm in [BASE, *arm_names()]:
        if arm not in scores:
            continue
        seeds = arms_rec[arm]
        series = scores[arm]
        eval_runs = list(dict.fromkeys(r["eval_run"] for r in seeds.values()))
        per_seed = [float(correct[r].mean()) for r in eval_runs if r in correct]
        low, high = stats.bootstrap_ci(series.to_numpy())
        shared_teacher = series.index.intersection(teacher_final.index)
        t_acc = float(teacher_final[shared_teacher].mean()) if len(shared_teacher) else math.nan
        s_acc = float(series[shared_teacher].mean()) if len(shared_teacher) else math.nan
        shared_alone = series.index.intersection(alone_scores.index)
        a_acc = float(alone_scores[shared_alone].mean()) if len(shared_alone) else math.nan
        a_student = float(series[shared_alone].mean()) if len(shared_alone) else math.nan
        first = next(iter(seeds.values()))
        export = first.get("export") or {}
        rows_trained = int(export.get("rows", 0))
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
            alone_accuracy=a_acc, alone_ratio=a_student / a_acc if a_acc else math.nan,
            cut_off=cut_off_share(store, eval_runs),
            held_out=_held_out(seeds, record.get("held_out", {})), links=_links(arm, seeds, record),
            note=_note(arm, first, record), ties=sum(ties.get(r, 0) for r in eval_runs),
            warnings=[f"trained on {rows_trained} rows, fewer than the study's minimum of {minimum} "
                      "(min_train_rows): its result cannot say much"] if arm != BASE and rows_trained < minimum
            else [],
        ))
    verdicts = [verdict_line(a.arm, c) for a in results for c in (a.lift, a.vs_single) if c is not None]
    return StudyResult(study_id, cfg.get("name", ""), folder.status(), progress.get("stage") or "", cfg, teacher,
                       results, record.get("held_out", {}), record.get("single_pool", {}), record.get("errors", {}),
                       record.get("steps", []), verdicts,
                       {"done": progress.get("done", 0), "total": progress.get("total", 0),
                        "step_job": progress.get("step_job")})


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
        links["runs"] += teacher.get("runs") or [teacher.get("train_run")]
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
        return note + ("" if volume_matched(pool) else f"; {mismatch_cause(pool)}")
    if arm == "teacher_alone" and record.get("alone_pool"):
        pool = record["alone_pool"]
        note = (f"{pool['rows']} of the teacher's {pool['candidates']} correct round-1 answers by "
                f"{pool['speaker']} ({', '.join(pool['agents'])}) picked to match {pool['target_rows']} rows / "
                f"{pool['target_tokens']} tokens: {pool['tokens']} tokens ({pool['token_ratio']:.2f}x)")
        if len(pool.get("speakers", {})) > 1:
            note += "; other speakers left out: " + ", ".join(
                f"{k} ({v})" for k, v in pool["speakers"].items() if k != pool["speaker"])
        if not volume_matched(pool):
            note += (f"; NOT matched within {VOLUME_TOLERANCE:.0%}: the teacher has too few correct round-1 answers "
                     "on the train problems from one speaker")
        return note
    return ""


def mismatch_cause(pool: dict) -> str:
    """Why the single-agent arm is not matched, from what its sampling gave: answers cut off at its token limit,
    or too few correct ones."""
    head = f"NOT matched within {VOLUME_TOLERANCE:.0%}"
    samples, cut = pool.get("samples"), pool.get("cut_off")
    if samples and cut is not None and cut >= 0.5 * samples:
        return (f"{head}: {cut} of {samples} samples were cut off at {pool.get('max_tokens')} tokens; raise "
                "single_max_tokens")
    if samples:
        return (f"{head}: only {pool.get('correct')} of {samples} samples were correct ({cut} cut off); the base "
                "model rarely solves these problems alone (more single_max_rounds or single_samples give more tries)")
    return f"{head}: the pool of correct samples was too small"


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
            "cut off": _pct(a.cut_off),
            "student/teacher (debate)": "—" if math.isnan(a.teacher_ratio) else f"{a.teacher_ratio:.2f}",
            "student/teacher (alone)": "—" if math.isnan(a.alone_ratio) else f"{a.alone_ratio:.2f}",
            "held out": "yes" if a.held_out.get("checked") and not a.held_out.get("overlapping") else "NO",
            "problems": a.problems,
        })
    return rows


def teacher_line(result: StudyResult) -> str:
    t = result.teacher
    if "accuracy" not in t:
        return "teacher: not evaluated on the test problems yet"
    cfg = StudyConfig.from_dict(result.config)  # stored by this version or an older one (flat keys)
    teacher = cfg.teacher
    who = (f"teacher (runs {', '.join(t.get('runs', []))}, from their logs)" if cfg.teacher_runs else
           f"teacher ({teacher.method}, {teacher.agents} agents x {teacher.rounds} rounds)")
    alone = (f"alone (round 1) {_pct(t['alone_accuracy'])} {_interval(t['alone_ci_low'], t['alone_ci_high'])}; "
             if "alone_accuracy" in t else "")
    tokens = t.get("tokens_per_problem")
    spent = f", {tokens:.0f} tokens/problem" if tokens is not None and not math.isnan(tokens) else ""
    runs = t.get("test_run") or ", ".join(t.get("test_runs", []))
    return (f"{who} on the same {t['problems']} test problems: {alone}in debate (final-round vote) "
            f"{_pct(t['accuracy'])} {_interval(t['ci_low'], t['ci_high'])}{spent} (run {runs})")


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
    lines += [f"verdict: {v}" for v in result.verdicts]
    lines += [f"warning: {a.arm} {w}" for a in result.arms for w in a.warnings]
    for a in result.arms:
        links = "; ".join(f"{k}: {', '.join(v)}" for k, v in a.links.items() if v)
        lines.append(f"  {a.arm}: {links}" + (f" ({a.note})" if a.note else ""))
    return lines


METHOD = ("Accuracy: mean over seeds; intervals: 95% percentile bootstrap over problems; lift and 'vs single': "
          "paired differences on the problems both arms finished, decided by one rule: the exact sign test (McNemar "
          "with one seed) and the exact interval that agrees with it, or 'too few discordant pairs' when too few "
          "problems differ to decide; a verdict says better or worse only where that rule does, otherwise 'cannot "
          "tell at this size'. Every evaluation went through the held-out check of its model's training problems.")
DOES_NOT_SHOW = ("It does not show how the arms compare on other datasets, other student or teacher models, other "
                 "sizes or training settings; a 'cannot tell' verdict is not evidence that two arms are equal; with "
                 "one seed, the spread over training runs is unknown; the teacher's figures come from its own logs "
                 "and are not a student's.")


def arm_heading(a: ArmResult) -> str:
    """An arm's title, saying when a matched-volume arm is not matched after all."""
    return a.name.replace("matched volume", "volume NOT matched") if "NOT matched" in a.note else a.name


def setup_lines(result: StudyResult) -> list[str]:
    """What the study ran on, in words: the report's first lines, so it reads without the study file."""
    cfg = StudyConfig.from_dict(result.config)
    split = result.held_out or {}
    teacher = (f"existing runs {', '.join(cfg.teacher_runs)} (nothing re-run; their problems split by question "
               f"with problem seed {cfg.problem_seed})" if cfg.teacher_runs else
               f"{cfg.teacher.method} with {cfg.teacher.agents} agents x {cfg.teacher.rounds} rounds of "
               f"{cfg.teacher.model or 'the default model'}")
    return [
        f"Dataset: {cfg.dataset if not cfg.teacher_runs else 'the teacher runs’ problems'}; train split "
        f"'{cfg.train_split}' ({split.get('train_problems', cfg.train_problems)} problems), test split "
        f"'{cfg.test_split}' ({split.get('test_problems', cfg.test_problems)} problems); problem seed "
        f"{cfg.problem_seed}.",
        f"Teacher: {teacher}.",
        f"Student: {cfg.student_model} ({cfg.student_engine}); training seeds {', '.join(map(str, cfg.seeds))} "
        f"({len(cfg.seeds)} seed(s)); SFT {cfg.sft.epochs:g} epoch(s) at learning rate {cfg.sft.learning_rate:g}.",
        f"Token limits: teacher {cfg.teacher.max_tokens}, single-agent samples {cfg.single.max_tokens}, "
        f"evaluation {cfg.evaluation.max_tokens} (an answer cut off there is wrong; the 'cut off' column counts them).",
        f"Held out: no test problem is a train problem by id; "
        f"{len(split.get('same_question', []))} share a question text with one; every arm's evaluation checked "
        "its model's training problems.",
    ]


def html_report(result: StudyResult) -> str:
    """A self-contained HTML page of the study: its setup, method, table, verdicts, caveats and links."""
    rows = table_rows(result)
    esc = html_text
    head = "".join(f"<th>{esc(c)}</th>" for c in (rows[0] if rows else {}))
    body = "".join("<tr>" + "".join(f"<td>{esc(str(v))}</td>" for v in r.values()) + "</tr>" for r in rows)
    details = "".join(
        f"<h3>{esc(a.arm)}: {esc(arm_heading(a))}</h3>" + (f"<p>{esc(a.note)}</p>" if a.note else "") + "<ul>"
        + "".join(f"<li>{esc(k)}: {esc(', '.join(v))}</li>" for k, v in a.links.items() if v)
        + "</ul>" for a in result.arms)
    errors = "".join(f"<p><b>{esc(k)}</b>: {esc(v)}</p>" for k, v in sorted(result.errors.items()))
    items = lambda lines: "<ul>" + "".join(f"<li>{esc(x)}</li>" for x in lines) + "</ul>"  # noqa: E731
    caveats = [f"{a.arm}: {w}" for a in result.arms for w in a.warnings] + [
        f"{a.arm}: {a.note}" for a in result.arms if "NOT matched" in a.note] + [
        f"{a.arm}: {_pct(a.cut_off)} of its answers were cut off at the token limit" for a in result.arms
        if not math.isnan(a.cut_off) and a.cut_off >= 0.25]
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>Study {esc(result.study_id)}</title>"
            "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}</style></head><body>"
            f"<h1>Study {esc(result.name)}</h1><p>{esc(result.study_id)}: {esc(result.status)} — "
            f"{esc(result.stage)}</p><h2>Setup</h2>{items(setup_lines(result))}"
            f"<p>{esc(teacher_line(result))}</p><h2>Result</h2>"
            f"<table><tr>{head}</tr>{body}</table><p>{esc(METHOD)}</p>{errors}"
            f"<h2>Verdicts</h2>{items(result.verdicts or ['no comparison yet'])}"
            f"<h2>Caveats</h2>{items(caveats or ['none flagged'])}"
            f"<h2>What this does not show</h2><p>{esc(DOES_NOT_SHOW)}</p>"
            f"<h2>Behind each row</h2>{details}</body></html>")


def require_study(study_id: str) -> StudyFolder:
    folder = StudyFolder(study_id)
    if not folder.exists():
        raise JobError(f"No study '{study_id}'; list studies with `python -m agentark study list`.")
    return folder
