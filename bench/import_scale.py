"""Importers at scale: a file of N MB in each format, imported into a fresh store; seconds and peak memory.

For every format (du2023, maslab, transcripts, prm800k, math-shepherd) the benchmark writes a file of
about ``--mb`` MB (default 50) of debates or labeled solutions, and imports it, and the same content cut
to half its size, each in a fresh child process with its own store, so the child's peak resident memory
is the import's own. It prints, per format: seconds, MB/s, peak memory above an idle child that loaded
the same modules and opened a store, that peak as a multiple of the file size, and side by side the CPU
time of the full file over that of the half file (2.0 means linear; a quadratic importer gives 4.0).
CPU seconds are the child's own, so they hold on a machine shared with other work, where wall seconds
do not. The last line gives du2023 over transcripts CPU seconds for the same volume (the issue measured
84 s against 1 s before the importers streamed).
"""
from __future__ import annotations

import sys
from pathlib import Path

# Runnable as `python bench/NAME.py` from a checkout, without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import json
import os
import random
import resource
import subprocess
import tempfile
import time

from bench import smoke

FORMATS = ("du2023", "maslab", "transcripts", "prm800k", "math-shepherd")
REASONING = ("First we work out the total. {a} plus {b} makes {s}, and we check it again by counting up from {a}. "
             "Each step follows from the one before it, so the result stays the same. ")


def _answer(rng: random.Random, i: int, words: int) -> tuple[str, int]:
    a, b = rng.randint(1, 999), rng.randint(1, 999)
    body = (REASONING.format(a=a, b=b, s=a + b) * max(1, words // 40))
    return f"Problem {i}. {body}The answer is {a + b}.", a + b


def _records(fmt: str, rng: random.Random):
    """Endless records of the format, each a line (or a du2023 member) of roughly 1-3 KB."""
    i = 0
    while True:
        i += 1
        question = f"Problem {i}: what is the total of the numbers in case {i}?"
        texts = [_answer(rng, i, 120) for _ in range(3)]
        reference = texts[0][1]
        if fmt == "du2023":
            contexts = [[{"role": "system", "content": "You are a careful mathematician."},
                         {"role": "user", "content": question}, {"role": "assistant", "content": t},
                         {"role": "user", "content": "Here are the other agents' solutions. Update yours."},
                         {"role": "assistant", "content": t}] for t, _ in texts]
            yield question, [contexts, reference]
        elif fmt == "maslab":
            response = "".join(f"===== Solution {k + 1} =====\n{t}\n" for k, (t, _) in enumerate(texts))
            yield json.dumps({"query": question, "gt": str(reference), "response": response,
                              "token_stats": {"m": {"num_llm_calls": 3, "prompt_tokens": 900, "completion_tokens": 600}}})
        elif fmt == "transcripts":
            for k, (t, _) in enumerate(texts):
                yield json.dumps({
                    "schema": "agentark.transcript/1", "run_id": "bench", "problem_id": f"p{i}", "agent": f"agent_{k + 1}",
                    "round": 1, "role": "solver", "seq": k, "model": "m", "content": t, "answer": None,
                    "problem": {"dataset": "bench", "question": question, "reference_answer": str(reference), "idx": i},
                    "outcome": None, "run": {"kind": "debate", "method": "debate", "model": "m"},
                })
        elif fmt == "prm800k":
            steps = [{"completions": [{"text": s.strip() + ".", "rating": 1}], "chosen_completion": 0}
                     for s in texts[0][0].split(". ")[:-1]]
            yield json.dumps({"labeler": "bench", "question": {"problem": question, "ground_truth_answer": str(reference)},
                              "label": {"steps": steps, "finish_reason": "solution"}})
        else:
            parts = texts[0][0].split(". ")
            steps = [f"Step {k + 1}: {p}." for k, p in enumerate(parts)]
            yield json.dumps({"input": question + " " + " ки\n".join(steps) + " ки",
                              "label": question + " " + " +\n".join(steps) + " +"})


def write_file(fmt: str, path: Path, megabytes: float) -> int:
    """Write about ``megabytes`` MB of ``fmt`` records to ``path``; return the bytes written."""
    target = int(megabytes * 1_000_000)
    rng = random.Random(0)
    written = 0
    with open(path, "w", encoding="utf-8") as fh:
        if fmt == "du2023":
            fh.write("{\n")
            for n, (question, value) in enumerate(_records(fmt, rng)):
                chunk = ("" if n == 0 else ",\n") + json.dumps(question) + ": " + json.dumps(value)
                fh.write(chunk)
                written += len(chunk)
                if written >= target:
                    break
            fh.write("\n}\n")
        else:
            for line in _records(fmt, rng):
                fh.write(line + "\n")
                written += len(line) + 1
                if written >= target:
                    break
    return path.stat().st_size


def child(fmt: str, path: str) -> None:
    """Import one file into the store of this process's AGENTARK_HOME; print seconds and peak memory."""
    from agentark.labels.step_import import import_steps
    from agentark.store import Store
    from agentark.runs.formats import import_file

    with Store() as store:
        before = resource.getrusage(resource.RUSAGE_SELF)
        cpu_before = before.ru_utime + before.ru_stime
        started = time.perf_counter()
        if fmt == "none":
            count = 0
        elif fmt in ("prm800k", "math-shepherd"):
            count = import_steps(store, path, fmt)["solutions"]
        else:
            count = import_file(store, fmt, path).imported
        seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"seconds": seconds, "cpu_s": usage.ru_utime + usage.ru_stime - cpu_before,
                      "peak_mb": usage.ru_maxrss / 1024, "records": count}))


def run_child(fmt: str, path: Path | str, home: Path) -> dict:
    env = {**os.environ, "AGENTARK_HOME": str(home)}
    env.pop("AGENTARK_STORE", None)
    out = subprocess.run([sys.executable, __file__, "--child", fmt, str(path)], env=env, check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=50.0, help="file size per format in MB (default 50)")
    parser.add_argument("--formats", nargs="+", default=list(FORMATS), choices=FORMATS)
    parser.add_argument("--child", nargs=2, metavar=("FORMAT", "PATH"), help=argparse.SUPPRESS)
    args = smoke.parse(parser, mb=0.05, formats=["du2023", "transcripts"])
    if args.child:
        child(*args.child)
        return
    with tempfile.TemporaryDirectory(prefix="agentark-import-bench-") as tmp:
        tmp_path = Path(tmp)
        idle = run_child("none", "-", tmp_path / "idle")["peak_mb"]
        print(f"idle child (modules loaded, store open): {idle:.0f} MB resident")
        print(f"{'format':14} {'MB':>6} {'records':>8} {'seconds':>8} {'CPU s':>6} {'MB/s':>6} {'peak MB':>8} "
              f"{'peak/file':>9} {'cpu(full)/cpu(half)':>19}")
        seconds: dict[str, float] = {}
        for fmt in args.formats:
            results = {}
            for label, share in (("half", 0.5), ("full", 1.0)):
                path = tmp_path / f"{fmt}-{label}.{'json' if fmt == 'du2023' else 'jsonl'}"
                size = write_file(fmt, path, args.mb * share)
                results[label] = (size, run_child(fmt, path, tmp_path / f"{fmt}-{label}"))
                path.unlink()
            size, full = results["full"]
            half = results["half"][1]
            mb = size / 1e6
            above = max(full["peak_mb"] - idle, 0.0)
            seconds[fmt] = full["cpu_s"]
            print(f"{fmt:14} {mb:6.1f} {full['records']:8d} {full['seconds']:8.2f} {full['cpu_s']:6.1f} "
                  f"{mb / full['seconds']:6.1f} {above:8.0f} {above / mb:9.2f} {full['cpu_s'] / half['cpu_s']:19.2f}")
        if "du2023" in seconds and "transcripts" in seconds:
            print(f"du2023 / transcripts CPU seconds for the same volume: {seconds['du2023'] / seconds['transcripts']:.2f}x "
                  "(84 s / 1 s = 84x before streaming)")


if __name__ == "__main__":
    main()
