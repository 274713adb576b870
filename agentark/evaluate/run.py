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
from agentark.tasks import LoadReport, Problem, load_problems


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
    return load_problems(cfg.dataset, limit=cfg.limit, split=cfg.split, seed=cfg.seed)


def plan_eval(cfg: EvalConfig, store) -> Plan:
    """The ``eval`` kind's preflight: load the problems, refuse (or report) those the model trained on, then
    the debate kind's preflight on them."""
    report = load_eval_problems(cfg)
    overlap = check_held_out(store, cfg.model, report.problems, cfg.allow_overlap)
    plan = plan_debate(cfg.debate_config(), report.problems)
    return replace(plan, id_prefix=f"eval-{cfg.method}", info=(plan.info, overlap))


def create_eval_run(store, cfg: EvalConfig) -> tuple[str, LoadReport, Overlap]:
    """``jobs.create`` for an evaluation: its run id, load report and overlap (nothing is written on refusal)."""
    created = create(EVAL.name, cfg, store=store)
    return (created.job_id, *created.info)


EVAL = register_kind(JobKind("eval", RunFolder, run_debate, ingest_run, title="Evaluation", config=EvalConfig,
                             preflight=plan_eval, reads=("problems", "model"), registers="run", runs_as="debate"))
