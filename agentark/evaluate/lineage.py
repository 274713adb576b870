"""Which export and job produced a model, and which problems it therefore saw in training.

Design decision: the models registry is the single source. A studio model's row names its job and the
sha256 of the export that job read; the export's row gives its file and filters, and the file gives the
problem ids. A model trained from another studio model (PAD on an SFT student, say) inherits that model's
training problems too, so held-out means held out from the whole chain.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from agentark.errors import ConfigError
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
    sha = row.get("export_sha256") or None
    export = q.export_row(store, sha) if sha else None
    path = export["path"] if export else _trained_file(row, sha)
    return Provenance(
        run_id=run_id, model=model, model_id=row["model_id"], kind=row.get("kind"), base_model=row.get("base_model"),
        job_id=row.get("job_id"), export_sha256=sha, export_path=path,
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
    return str(path) if hashlib.sha256(path.read_bytes()).hexdigest() == sha else None


def provenance(store, metrics) -> Provenance:
    """Provenance of a run's (first) model, from its ``RunMetrics``."""
    model = (metrics.config.get("model") or metrics.model or "").split(", ")[0] or None
    return model_provenance(store, model, metrics.run_id, metrics.config)


def training_problem_ids(store, model: str) -> set[str]:
    """Every problem id a studio model (and the studio models it was trained from) saw in training; empty for
    a model the studio did not train."""
    seen_models: set[str] = set()
    problems: set[str] = set()
    current: str | None = model
    while current and current not in seen_models:
        prov = model_provenance(store, current)
        if prov.model_id is None:
            break
        seen_models.update({current, prov.model_id})
        if prov.export_sha256 and prov.export_path is None:
            raise ConfigError(
                f"Model {prov.model_id} was trained on export {prov.export_sha256[:12]}, which is not in the "
                "store, so its training problems are unknown. Import or re-create that export, or evaluate "
                "with [[allow_overlap]] on."
            )
        if prov.export_path:
            problems |= q.export_problem_ids(store, prov.export_path)
        current = prov.base_model
    return problems
