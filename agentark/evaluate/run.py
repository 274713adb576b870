"""Evaluation runs: a model as a single agent (or a debate method) on held-out problems, as an ordinary run.

Design decision: an evaluation is a debate run (``DebateConfig``, run folder, shards, store rows) whose id
starts with ``eval-``, so the run browser, labels, exports and Compare handle it like any other; what
makes it an evaluation is the held-out check done before the run folder is written: the problems must not
be among the training problems of the evaluated model (see ``provenance.training_problem_ids``). An
overlap stops the evaluation with the fix, or, when allowed, is reported as a warning and kept.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from agentark.config import DEFAULT_DATASET, EMBEDDED_MODEL
from agentark.debate import METHODS, DebateConfig
from agentark.errors import ConfigError
from agentark.evaluate.provenance import model_provenance, training_problem_ids
from agentark.tasks import LoadReport, Problem, load_problems


@dataclass
class EvalConfig:
    """What to evaluate on what; shared by ``python -m agentark eval``, the Evaluate panel and the run row.

    ``method`` is ``cot`` (the model as one agent with the solve prompt) or a debate method; ``samples`` is
    the number of agents (k samples per problem for ``self_consistency``). ``temperature`` defaults to 0
    for one agent (greedy) and 0.7 when several samples must differ.
    """

    model: str = EMBEDDED_MODEL
    dataset: str = DEFAULT_DATASET
    split: str = "test"
    limit: int | None = 50
    method: str = "cot"
    samples: int | None = None
    rounds: int | None = None
    engine: str = "transformers"
    temperature: float | None = None
    max_tokens: int = 256
    seed: int = 0
    chunk_size: int = 16
    allow_overlap: bool = False

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ConfigError(f"Unknown method '{self.method}'. Choose one of: {', '.join(sorted(METHODS))}.")
        if not (self.model or "").strip():
            raise ConfigError("Name the model to evaluate: a studio model id, a checkpoint folder or embedded:smollm2-135m.")
        if self.temperature is None:
            self.temperature = 0.0 if self.method == "cot" else 0.7
        self.debate_config(self.model)

    def debate_config(self, model_path: str) -> DebateConfig:
        """The run's config, with the model resolved to what the engine loads."""
        return DebateConfig(
            method=self.method, dataset=self.dataset, limit=self.limit, split=self.split,
            agents=None if self.method == "cot" else self.samples, rounds=self.rounds,
            temperature=float(self.temperature), max_tokens=self.max_tokens, seed=self.seed, engine=self.engine,
            model=model_path, chunk_size=self.chunk_size,
        )

    def to_dict(self) -> dict:
        return asdict(self)


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


def resolve_model(store, model: str) -> str:
    """What the engine loads: a registered studio model's checkpoint path, else the name as given."""
    prov = model_provenance(store, model)
    if prov.model_id is None:
        return model
    from agentark.store import evaluation as q

    return q.model_row(store, model)["path"] or model


def check_held_out(store, model: str, problems: list[Problem], allow_overlap: bool = False) -> Overlap:
    """Refuse problems the model trained on (or, with ``allow_overlap``, report them)."""
    seen = training_problem_ids(store, model)
    overlapping = [p.problem_id for p in problems if p.problem_id in seen]
    overlap = Overlap(model, len(seen), overlapping)
    if overlapping and not allow_overlap:
        raise ConfigError(
            f"{overlap.message}, so this is not a held-out evaluation. Evaluate on problems no training export "
            "used (another --split, e.g. test, or another --dataset), or pass --allow-overlap (Evaluate panel: "
            "'Allow training problems') to evaluate anyway and keep the overlap as a warning."
        )
    return overlap


def load_eval_problems(cfg: EvalConfig) -> LoadReport:
    return load_problems(cfg.dataset, limit=cfg.limit, split=cfg.split, seed=cfg.seed)


def create_eval_run(store, cfg: EvalConfig) -> tuple[str, LoadReport, Overlap]:
    """Check the held-out condition, then write the evaluation's run folder (nothing is written on refusal)."""
    from agentark.jobs import create_debate_run, new_run_id

    report = load_eval_problems(cfg)
    overlap = check_held_out(store, cfg.model, report.problems, cfg.allow_overlap)
    debate_cfg = cfg.debate_config(resolve_model(store, cfg.model))
    run_id, report = create_debate_run(debate_cfg, report.problems, run_id=new_run_id(f"eval-{cfg.method}"))
    return run_id, report, overlap
