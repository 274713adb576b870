"""Datasets a debate runs on: ``from agentark.tasks import Problem, load_problems, ...``.

The package is split along its seams: ``problems`` (the shared records and the id rule), ``arithmetic``
(the built-in generator), ``loaders`` (dataset specs, files and Hugging Face datasets) and ``answers``
(reading a reference answer out of an answer cell). This module only re-exports their public names, so
callers never depend on which file a name lives in.
"""
from agentark.tasks.answers import extract_reference
from agentark.tasks.arithmetic import BUILTIN_COUNT, generate_arithmetic
from agentark.tasks.loaders import FILE_SUFFIXES, load_problems
from agentark.tasks.problems import ColumnMap, LoadReport, Problem, dataset_choices, problem_id

__all__ = [
    "BUILTIN_COUNT",
    "FILE_SUFFIXES",
    "ColumnMap",
    "LoadReport",
    "Problem",
    "dataset_choices",
    "extract_reference",
    "generate_arithmetic",
    "load_problems",
    "problem_id",
]
