"""Evaluation runs: a model as a single agent (or a debate method) on held-out problems, as an ordinary run.

Design decision: an evaluation is a debate run (``DebateConfig``, run folder, shards, store rows) whose id
starts with ``eval-``, so the run browser, labels, exports and Compare handle it like any other; what
makes it an evaluation is the held-out check done before the run folder is written: the problems must not
be among the training problems of the evaluated model (see ``provenance.training_problem_ids``). An
overlap stops the evaluation with the fix, or, when allowed, is reported as a warning and kept. The
``eval`` job kind is that check in front of the debate kind's preflight: ``jobs.start("eval", cfg,
store=store)`` starts the debate run (listed as one), and its ``info`` is the load report and the overlap.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from agentark.errors import ConfigError
from agentark.evaluate.eval_config import EvalConfig
from agentark.evaluate.lineage import training_problem_ids
from agentark.debate.debate_job import RunFolder, ingest_run, plan_debate, run_debate
from agentark.jobs.registry import JobKind, Plan, register_kind
from agentark.jobs.runner import create
from agentark.tasks import ColumnMap, LoadReport, Problem, load_problems


@dataclass
class Overlap:
    """Problems of an evaluation that the evaluated model saw in training."""

    model: str
    training_problems: int
    overlapping: list[str]

    @property
    def message(self) -> str:
        return (f"{len(self.overlapping)} of the problems evaluated were among the {self.training_problems} "
                f"training problems of model {self.model}")


def check_held_out(store, model: str, problems: list[Problem], allow_overlap: bool = False) -> Overlap:
    """Refuse problems the model trained on (or, with ``allow_overlap``, report them)."""
    seen = training_problem_ids(store, model)
    overlapping = [p.problem_id for p in problems if p.problem_id in seen]
    overlap = Overlap(model, len(seen), overlapping)
    if overlapping and not allow_overlap:
        raise ConfigError(
            f"{overlap.message}, so this is not a held-out evaluation. Evaluate on problems no training export "
            "used (another [[split]], e.g. test, or another [[dataset]]), or set [[allow_overlap]] to evaluate "
            "anyway and keep the overlap as a warning."
        )
    return overlap


def load_eval_problems(cfg: EvalConfig) -> LoadReport:
    if cfg.like:
        debate = cfg.debate_config()
        return load_problems(debate.dataset, limit=debate.limit, split=debate.split, seed=debate.problem_seed,
                             columns=ColumnMap(**debate.columns) if debate.columns else None)
    return load_problems(cfg.dataset, limit=cfg.limit, split=cfg.split, seed=cfg.problem_seed)


# What ``like_eval_config`` carries over from a run's config besides the fields an ``EvalConfig`` has.
LIKE_KEYS = ("agent_specs", "method_options", "aggregator", "early_stop", "problem_seed", "columns", "solve_prompt")


def like_eval_config(store, run_id: str, **overrides) -> EvalConfig:
    """An evaluation of run ``run_id``'s method and whole config (engine, model, speakers, rounds, sampling,
    method options) on the test split of its dataset, so a teacher that debated the train split answers the
    same held-out problems as the base and the students; ``overrides`` (EvalConfig fields) change any of it."""
    from agentark.debate.methods import METHODS
    from agentark.store import eval_tables as q

    source = q.run_rows(store, [run_id])[run_id]["config"]
    if source.get("method") not in METHODS or not source.get("engine"):
        raise ConfigError(
            f"Run {run_id} was not run by the studio (method {source.get('method') or 'unknown'}), so its method "
            "cannot be run again. Evaluate its model with a studio method: `python -m agentark eval --model MODEL "
            "--method debate ...`."
        )
    method = source["method"]
    values = {
        "model": source.get("model"), "engine": source["engine"], "engine_options": source.get("engine_options") or {},
        "temperature": source.get("temperature"), "max_tokens": source.get("max_tokens", 256),
        "seed": source.get("seed", 0), "problem_seed": source.get("problem_seed", 0),
        "dataset": source.get("dataset"), "split": "test", "limit": source.get("limit"), "method": method,
        "samples": source.get("agents") if METHODS[method].team else None,
        "rounds": source.get("rounds"), "chunk_size": source.get("chunk_size", 16),
        "like": {k: source[k] for k in LIKE_KEYS if k in source},
    }
    return EvalConfig(**{**values, **overrides})


def plan_eval(cfg: EvalConfig, store) -> Plan:
    """The ``eval`` kind's preflight: load the problems, refuse (or report) those any of its models trained on,
    then the debate kind's preflight on them."""
    report = load_eval_problems(cfg)
    overlap = None
    for model in cfg.models():
        found = check_held_out(store, model, report.problems, cfg.allow_overlap)
        if overlap is None or (found.overlapping and not overlap.overlapping):
            overlap = found
    plan = plan_debate(cfg.debate_config(), report.problems)
    return replace(plan, id_prefix=f"eval-{cfg.method}", info=(plan.info, overlap))


def create_eval_run(store, cfg: EvalConfig) -> tuple[str, LoadReport, Overlap]:
    """``jobs.create`` for an evaluation: its run id, load report and overlap (nothing is written on refusal)."""
    created = create(EVAL.name, cfg, store=store)
    return (created.job_id, *created.info)


EVAL = register_kind(JobKind("eval", RunFolder, run_debate, ingest_run, title="Evaluation", config=EvalConfig,
                             preflight=plan_eval, reads=("problems", "model"), registers="run", runs_as="debate",
                             resources={"cpus": 2, "time_limit": "12:00:00"}, chunked=True))
