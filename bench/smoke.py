"""What every benchmark's ``--smoke`` shares: a run at a tiny size, seconds long, whose figures mean nothing.

tests/test_bench_smoke.py runs each script with ``--smoke``, so a change to the library (a schema migration, a
renamed function) that breaks a benchmark fails the suite instead of waiting for the next person who measures.
Where a benchmark needs a model, the smoke run uses the tests' tiny random Llama (tests/tinylm.py) instead of
the embedded one.
"""
from __future__ import annotations

import argparse
import atexit
import shutil
import tempfile
from functools import cache
from pathlib import Path
from typing import Any


def sized(description: str, **sizes: tuple[Any, Any]) -> argparse.ArgumentParser:
    """A parser with one flag per ``name=(full, tiny)``: ``--name`` takes values of full's type and defaults to
    it; ``parse`` gives it the tiny value under ``--smoke``."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name, (full, _) in sizes.items():
        parser.add_argument("--" + name.replace("_", "-"), type=type(full), default=full)
    parser.set_defaults(smoke_sizes={name: tiny for name, (_, tiny) in sizes.items()})
    return parser


def parse(parser: argparse.ArgumentParser, **tiny: Any) -> argparse.Namespace:
    """Add ``--smoke`` and parse the command line; with it, each option named in ``tiny`` (or sized by ``sized``)
    takes its tiny value (a callable is called, so a tiny model is built only for a smoke run)."""
    parser.add_argument("--smoke", action="store_true",
                        help="a tiny run for the test suite: seconds, tiny model, figures that mean nothing")
    args = parser.parse_args()
    sizes = {**vars(args).pop("smoke_sizes", {}), **tiny}
    if args.smoke:
        for name, value in sizes.items():
            setattr(args, name, value() if callable(value) else value)
    return args


@cache
def tiny_model() -> str:
    """A random 2-layer Llama with a chat template, built once per process in a folder removed at exit."""
    from tests.tinylm import build_tiny_llama

    folder = Path(tempfile.mkdtemp(prefix="bench-tiny-model-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return str(build_tiny_llama(folder / "tiny"))
