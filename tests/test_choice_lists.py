"""Each choice list is defined once: the PRM aggregations (``agentark.train.prm_scoring``), the segmenters
(``agentark.runs.steps``) and the device choices (``agentark.jobs.machine``); every config that offers one
imports it, so adding a choice is one edit."""
from __future__ import annotations

import ast
from dataclasses import fields

from agentark.jobs.machine import DEVICE_CHOICES
from agentark.runs.steps import SEGMENTERS
from agentark.train.prm_scoring import AGGREGATIONS
from tests.conftest import ROOT

HOMES = {
    "PRM aggregations": (AGGREGATIONS, ROOT / "agentark" / "train" / "prm_scoring.py"),
    "segmenters": (SEGMENTERS, ROOT / "agentark" / "runs" / "steps.py"),
    "device choices": (DEVICE_CHOICES, ROOT / "agentark" / "jobs" / "machine.py"),
}


def copies(source: str, choices: tuple[str, ...]) -> list[int]:
    """Lines of a tuple, list or set literal that spells every one of ``choices``: a copy of the list."""
    wanted = set(choices)
    return sorted({node.lineno for node in ast.walk(ast.parse(source))
                   if isinstance(node, (ast.Tuple, ast.List, ast.Set))
                   and wanted <= {e.value for e in node.elts if isinstance(e, ast.Constant)}})


def test_no_choice_list_is_copied() -> None:
    paths = [*(ROOT / "agentark").rglob("*.py"), *(ROOT / "pages").glob("*.py"), ROOT / "app.py"]
    found = [f"{what}: {p.relative_to(ROOT)}:{line}" for what, (choices, home) in HOMES.items() for p in paths
             if p != home for line in copies(p.read_text(), choices)]
    assert not found, "a copied choice list (import the one definition):\n" + "\n".join(found)


def test_the_copy_check_catches_the_old_copies() -> None:
    old = '''
AGGREGATIONS = ("min", "mean", "last", "product", "softmin")
SEGMENTERS = ("auto", "paragraphs", "lines", "markers", "sentences")
device = field(default="auto", metadata={"choices": ("auto", "cpu", "cuda")})
if self.device not in ("auto", "cpu", "cuda"):
    pass
'''
    assert copies(old, AGGREGATIONS) == [2]
    assert copies(old, SEGMENTERS) == [3]
    assert copies(old, DEVICE_CHOICES) == [4, 5]


def test_configs_offer_the_one_definition() -> None:
    from agentark.evaluate.eval_config import BonConfig
    from agentark.labels.prm_labeler import PRMLabelConfig
    from agentark.train.pad import PADJobConfig
    from agentark.train.train_config import TrainConfig

    def choices(cls, name):
        return next(f for f in fields(cls) if f.name == name).metadata["choices"]

    assert choices(PADJobConfig, "aggregation") is AGGREGATIONS is choices(BonConfig, "aggregations")
    assert choices(PADJobConfig, "segmenter") is SEGMENTERS is choices(BonConfig, "segmenter")
    assert choices(TrainConfig, "device") is DEVICE_CHOICES is choices(PRMLabelConfig, "device")
