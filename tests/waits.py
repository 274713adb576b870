"""Waiting for jobs in tests without a wall-clock deadline.

A busy machine makes model work slower, never wrong, so a test that gives a job N seconds fails for load alone.
These waits end on events instead: the job's status becomes final, or its process is gone (which its folder
reports as ``interrupted``), so a hung or crashed worker still ends the wait.
"""
from __future__ import annotations

import time

from agentark.jobs import FINISHED, JobFolder


def until_ended(folder: JobFolder, poll_s: float = 0.2) -> str:
    """The job's final status, once it has one."""
    while (status := folder.status()) not in FINISHED:
        time.sleep(poll_s)
    return status
