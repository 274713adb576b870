"""``label-prm``: label stored steps with a trained studio PRM (the ``auto:prm`` source) as a resumable job.

Design decision: like ``label-mc``, the command freezes the steps in a ``prm_label`` job folder and runs it
in this process (or in the background with ``--background``); the store is held only to create the job and
to ingest its shards at the end, so the app stays usable while the PRM scores.
"""
from __future__ import annotations

import argparse

from agentark.cli.common import add_labeling_job, refreshed_store, run_labeling_job


def register(sub: argparse._SubParsersAction) -> None:
    """Add the PRM labeling command: the ``PRMLabelConfig`` options, and resuming or backgrounding the job."""
    from agentark.labels.prm_labeler import PRMLabelConfig

    add_labeling_job(sub, "label-prm", "label steps with a trained PRM (source auto:prm, with confidence) as a job",
                     PRMLabelConfig, cmd_label_prm)


def cmd_label_prm(args: argparse.Namespace) -> int:
    from agentark.labels.prm_labeler import KIND, SOURCE, PRMLabelConfig, PRMLabelFolder
    from agentark.store import label_tables as q

    _, final = run_labeling_job(args, KIND, PRMLabelConfig, PRMLabelFolder, "PRM labeling")
    if final is None:
        return 0
    with refreshed_store() as store:
        labels = q.count_labels(store, SOURCE)
    print(f"{final.get('status')}: {labels} auto:prm labels stored")
    return 0
