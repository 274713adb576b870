"""Tiny training sets in the studio's export formats, for tests that start a training job on the tiny model."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from agentark.debate import SOLVE_PROMPT


def sft_export(path: Path, n: int = 8) -> str:
    """An R-SFT-style parquet (the studio's solve prompt, a reasoned answer) of ``n`` additions; its path."""
    rows = [{"messages": [{"role": "user", "content": SOLVE_PROMPT.format(question=f"What is {i} + 4?")},
                          {"role": "assistant", "content": f"Add {i} and 4.\n\nThe answer is {i + 4}."}]}
            for i in range(n)]
    pd.DataFrame(rows).to_parquet(path)
    return str(path)


def prm_export(path: Path, n: int = 8) -> str:
    """A stepwise PRM parquet of ``n`` two-step solutions, every other one with a wrong last step; its path."""
    rows = [{"prompt": f"What is {i} + 4?", "completions": [f"Add {i} and 4.", f"The answer is {i + 4 + i % 2}."],
             "labels": [True, i % 2 == 0]} for i in range(n)]
    pd.DataFrame(rows).to_parquet(path)
    return str(path)
