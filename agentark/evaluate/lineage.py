"""Which export and job produced a model, and which problems it therefore saw in training.

Design decision: every model's lineage is what its model card records: the problems it saw in its own
training (SFT/DA and PRM: the export's rows; PAD: its practice problems), whatever the kind, and its base
model. A model trained from another studio model (PAD on an SFT student, say) inherits that model's
training problems, so held-out means held out from the whole chain. Cards written before lineage was
recorded are read the old way (the export file the registry names; PAD's practice problems loaded again
from its config); a link whose problems cannot be known stops the check rather than passing it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from agentark.errors import ConfigError
from agentark.ids import file_sha256
from agentark.options import ConfigBase
from agentark.store import eval_tables as q


@dataclass
class Provenance(ConfigBase):
    """What stands behind one run's model: the registry row, its job and export (None when unregistered)."""

    run_id: str
    model: str | None
    model_id: str | None = None
    kind: str | None = None
    base_model: str | None = None
    job_id: str | None = None
    export_sha256: str | None = None
    export_path: str | None = None
    export_kind: str | None = None
    export_filters: dict = field(default_factory=dict)
    run_config: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        """One line for a table: the export (kind, filter, hash) and job behind the model."""
        if self.model_id is None:
            return "not trained by the studio"
        corr = self.export_filters.get("corrections")
        parts = [f"{self.kind or 'model'} {self.model_id}", f"job {self.job_id or '—'}"]
        if self.export_sha256:
            parts.append(f"export {self.export_kind or ''} {self.export_sha256[:12]}"
                         + (f" (corrections: {corr})" if corr else ""))
        return " · ".join(parts)


def model_provenance(store, model: str | None, run_id: str = "", run_config: dict | None = None) -> Provenance:
    row = q.model_row(store, model) if model else None
    if row is None:
        return Provenance(run_id, model, run_config=run_config or {})
    sha = _text(row.get("export_sha256"))
    export = q.export_row(store, sha) if sha else None
    path = export["path"] if export else _trained_file(row, sha)
    return Provenance(
        run_id=run_id, model=model, model_id=row["model_id"], kind=_text(row.get("kind")),
        base_model=_text(row.get("base_model")), job_id=_text(row.get("job_id")), export_sha256=sha, export_path=path,
        export_kind=export["kind"] if export else None, export_filters=export["filters"] if export else {},
        run_config=run_config or {},
    )


def _trained_file(row: dict, sha: str | None) -> str | None:
    """The training file named in the model's job config (a file given by path, never recorded as an export),
    when it still exists with the hash the model card records."""
    try:
        path = Path(json.loads(row.get("config_json") or "{}").get("export") or "")
    except (ValueError, AttributeError):
        return None
    if not sha or not path.is_file():
        return None
    return str(path) if file_sha256(path) == sha else None


def provenance(store, metrics) -> Provenance:
    """Provenance of a run's (first) model, from its ``RunMetrics``."""
    named = [m for m in (metrics.config.get("model"), metrics.model) if isinstance(m, str) and m]  # NaN: none
    model = named[0].split(", ")[0] if named else None
    return model_provenance(store, model, metrics.run_id, metrics.config)


@dataclass
class LineageStep:
    """One model of a lineage chain and the problems it saw in its own training (the chain adds its bases')."""

    model_id: str
    kind: str | None
    source: str
    problems: set[str]


def _text(value) -> str | None:
    """A registry cell as text: pandas hands a missing value over as None, NaN or pd.NA."""
    return value if isinstance(value, str) and value else None


def _card(row: dict | None, model: str) -> dict | None:
    from agentark.checkpoints import read_card, studio_model_path

    folder = Path(row["path"]) if row is not None and _text(row.get("path")) else studio_model_path(model)
    if folder is None:
        candidate = Path(model).expanduser()
        folder = candidate if candidate.is_dir() else None
    return read_card(folder) if folder is not None and folder.is_dir() else None


def _unknown(model_id: str, why: str) -> ConfigError:
    return ConfigError(f"Model {model_id} {why}, so its training problems are unknown and a held-out evaluation "
                       "cannot be checked. Re-train it from a studio export, or evaluate with [[allow_overlap]] on.")


def _own_problems(store, model_id: str, card: dict | None, row: dict | None) -> tuple[set, str]:
    """The problems one model saw in its own training, and where that was read from.

    A card written since lineage was recorded names them (``training_problems``); older cards are read the
    old way: the export the model card names, or the practice problems its config names (PAD) loaded again.
    """
    if card is not None and "training_problems" in card:
        if card["training_problems"] is None:
            raise _unknown(model_id, f"was trained on a file without problem ids ({card.get('training_source')})")
        # Cards record the ids the training file held; a file written before problem ids followed the question
        # holds old ids, which the store maps to today's.
        ids = q.current_problem_ids(store, card["training_problems"]) if card["training_problems"] else set()
        return ids, str(card.get("training_source") or "model card")
    sha = _text((card or {}).get("export_sha256")) or _text((row or {}).get("export_sha256"))
    if sha:
        prov = model_provenance(store, model_id) if row is not None else None
        path = prov.export_path if prov is not None else None
        if path is None:
            raise _unknown(model_id, f"was trained on export {sha[:12]}, which is not in the store")
        return q.export_problem_ids(store, path), f"export rows {sha[:12]}"
    config = (card or {}).get("config") or json.loads(_text((row or {}).get("config_json")) or "{}")
    if config.get("dataset"):  # trained on practice problems its config names (PAD), not on an export
        from agentark.tasks import load_problems

        try:
            report = load_problems(config["dataset"], limit=config.get("limit"), split=config.get("split", "train"),
                                   seed=config.get("problem_seed", 0))
        except Exception as exc:  # the dataset may be gone or offline: the lineage is then unknown, not empty
            raise _unknown(model_id, f"practised on {config.get('dataset')}, which cannot be loaded ({exc})") from exc
        return {p.problem_id for p in report.problems}, f"practice problems {config['dataset']} (reloaded)"
    return set(), "no training problems recorded"


def model_lineage(store, model: str) -> list[LineageStep]:
    """The chain from ``model`` through its base models, each studio model with the problems it trained on;
    empty for a model the studio did not train. Raises ``ConfigError`` when a link's problems are unknown."""
    steps: list[LineageStep] = []
    seen: set[str] = set()
    current: str | None = model
    while current and current not in seen:
        row = q.model_row(store, current)
        card = _card(row, current)
        if row is None and card is None:
            break
        model_id = (row or {}).get("model_id") or (card or {}).get("model_id") or current
        kind = _text((row or {}).get("kind")) or (card or {}).get("kind")
        seen.update({current, model_id})
        problems, source = _own_problems(store, model_id, card, row)
        steps.append(LineageStep(model_id, kind, source, problems))
        current = _text((row or {}).get("base_model")) or _text((card or {}).get("base_model"))
    return steps


def training_problem_ids(store, model: str) -> set[str]:
    """Every problem id a studio model (and the studio models it was trained from) saw in training: SFT/DA
    and PRM export rows, PAD practice problems; empty for a model the studio did not train."""
    problems: set[str] = set()
    for step in model_lineage(store, model):
        problems |= step.problems
    return problems
