"""Score reasoning steps with a studio PRM, and aggregate step scores into one trajectory score.

Used three ways: the ``auto:prm`` label source, the PAD reward, and evaluation (best-of-N, prm-eval).
Design decision: a trajectory is scored in ONE forward pass. The question and every step are encoded
exactly as in training (:func:`agentark.train.prm_data.encode`) and the head is read at each step's
separator; the backbone is causal, so each reading equals what a pass over that step's prefix alone would
give, at a fraction of the cost (:meth:`PRMScorer.score_prefixes` is that slow baseline, kept for the
benchmark and the equivalence test). Trajectories are sorted by length and batched with right padding.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from agentark.errors import ConfigError, ModelNotFoundError
from agentark.jobs.slots import hold
from agentark.jobs.machine import devices
from agentark.train.prm import FORMAT, META_FILE
from agentark.train.prm_data import encode, separator_ids

AGGREGATIONS = ("min", "mean", "last", "product", "softmin")


def aggregate(scores: list[float], how: str, temperature: float = 0.1) -> float:
    """One number for a trajectory from its step scores (probabilities that each step is good).

    ``softmin`` is the score-weighted soft minimum sum_i s_i * softmax(-s / T)_i (the reference's choice,
    T = 0.1): it tends to ``min`` as T -> 0 and to ``mean`` as T grows, and stays within [min, max].
    """
    if how not in AGGREGATIONS:
        raise ConfigError(f"Unknown aggregation '{how}'; choose one of: {', '.join(AGGREGATIONS)}.")
    if not scores:
        raise ConfigError("No step scores to aggregate: the trajectory has no steps (segment it first).")
    values = [float(s) for s in scores]
    if how == "min":
        return min(values)
    if how == "mean":
        return sum(values) / len(values)
    if how == "last":
        return values[-1]
    if how == "product":
        return math.prod(values)
    if not temperature > 0:
        raise ConfigError(f"softmin needs a positive temperature (got {temperature}).")
    lowest = min(values)
    weights = [math.exp(-(v - lowest) / temperature) for v in values]
    return sum(w * v for w, v in zip(weights, values)) / sum(weights)


def read_meta(folder: Path) -> dict:
    """The studio PRM file of a model folder; a folder without one is refused, naming the fix."""
    meta_path = folder / META_FILE
    if not meta_path.exists():
        raise ModelNotFoundError(
            f"{folder} is not a studio PRM (no {META_FILE} with its step separator and label mapping). Train one "
            "with `python -m agentark train prm` (or agentark.train.prm.train_prm) and pass its model or "
            "checkpoint folder.")
    meta = json.loads(meta_path.read_text())
    if meta.get("format") != FORMAT:
        raise ModelNotFoundError(f"{meta_path} is not an {FORMAT} file; pass a folder written by the PRM trainer.")
    return meta


def prm_folder(path_or_model_id: str) -> Path:
    """The local folder of a PRM given as a studio model id, a folder, or a model id in the Hugging Face cache."""
    from agentark.checkpoints import locate_model

    if not path_or_model_id or path_or_model_id.startswith("embedded:"):
        # Refused by name: the embedded chat model is never a PRM, and locating it would convert it first.
        raise ModelNotFoundError(f"'{path_or_model_id}' is not a studio PRM; pass the model or checkpoint folder a PRM "
                                 "training job wrote.")
    # Whether the folder is a PRM at all is read_meta's to say, with the fix; here it may hold anything.
    return Path(locate_model(path_or_model_id, field=None, cached=True, config=False)[0])


class PRMScorer:
    """A loaded PRM: probabilities that steps are good, one forward pass per trajectory, batched."""

    def __init__(self, model, tokenizer, meta: dict, device: str, batch_size: int = 16) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.meta = meta
        self.device = device
        self.batch_size = batch_size
        self.max_length = int(meta["max_length"])
        self.positive = int(meta["positive_label"])
        self.sep = separator_ids(tokenizer, meta["separator"])
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id

    def _forward(self, sequences: list[list[int]]):
        """Positive-class probabilities at every position of right-padded sequences (a float tensor on the CPU)."""
        import torch

        width = max(len(s) for s in sequences)
        ids = torch.full((len(sequences), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(sequences), width), dtype=torch.long)
        for row, s in enumerate(sequences):
            ids[row, : len(s)] = torch.tensor(s, dtype=torch.long)
            mask[row, : len(s)] = 1
        with torch.inference_mode():
            logits = self.model(input_ids=ids.to(self.device), attention_mask=mask.to(self.device)).logits
        return torch.softmax(logits.float(), dim=-1)[..., self.positive].cpu()

    def score(self, items: list[tuple[str, list[str]]]) -> list[list[float]]:
        """For each (question, steps), the probability that each step is good; [] for a trajectory without steps.

        Scoring waits for a slot on the PRM's device like any job (the Compare page's and the CLI's in-process
        scoring included), so it never runs on top of a job that uses the device; inside a job it uses the job's.
        """
        with hold(devices(str(self.device)), label="PRM scoring"):
            return self._score(items)

    def _score(self, items: list[tuple[str, list[str]]]) -> list[list[float]]:
        encoded = [encode(self.tokenizer, q, steps, self.sep, self.max_length, keep_all_steps=True) if steps
                   else ([], []) for q, steps in items]
        out: list[list[float]] = [[] for _ in items]
        order = sorted((i for i, (_, steps) in enumerate(items) if steps), key=lambda i: len(encoded[i][0]))
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            probs = self._forward([encoded[i][0] for i in batch])
            for row, i in enumerate(batch):
                out[i] = [float(probs[row, p]) for p in encoded[i][1]]
        return out

    def score_prefixes(self, items: list[tuple[str, list[str]]]) -> list[list[float]]:
        """The slow baseline: one forward pass per step prefix (question + steps 1..k), read at the last token."""
        out = []
        for question, steps in items:
            scores = []
            for k in range(1, len(steps) + 1):
                ids, positions = encode(self.tokenizer, question, steps[:k], self.sep, self.max_length,
                                        keep_all_steps=True)
                scores.append(float(self._forward([ids])[0, positions[-1]]))
            out.append(scores)
        return out


def load_prm(path_or_model_id: str, device: str = "auto", batch_size: int = 16) -> PRMScorer:
    """Load a studio PRM: a studio model id, a trainer's ``model`` folder or any of its ``checkpoint-N`` folders,
    or a model id in the local Hugging Face cache."""
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    from agentark.backends.transformers_engine import pick_device

    folder = prm_folder(path_or_model_id)
    meta = read_meta(folder)
    device = pick_device(device)
    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    if meta.get("adapter") and (folder / "adapter_config.json").exists():
        from peft import PeftModel

        base = AutoModelForTokenClassification.from_pretrained(
            meta["base_folder"], num_labels=2, id2label={v: k for k, v in meta["label2id"].items()},
            label2id=meta["label2id"], dtype=dtype)
        model = PeftModel.from_pretrained(base, str(folder)).merge_and_unload()
    else:
        model = AutoModelForTokenClassification.from_pretrained(folder, dtype=dtype)
    tokenizer = AutoTokenizer.from_pretrained(folder if any(folder.glob("tokenizer*")) else meta["base_folder"])
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.to(device).eval()
    return PRMScorer(model, tokenizer, meta, device, batch_size)
