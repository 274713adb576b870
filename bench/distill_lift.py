"""The whole distillation loop on the CPU, and what it buys: student accuracy minus base accuracy.

1. The embedded model debates (``--agents`` x ``--rounds``) on the train split of the one-step built-in
   level (``builtin:arithmetic-onestep``; arithmetic-easy where that level is absent).
2. The studio segments, auto-labels and exports R-SFT data (correct final-round answers), and a PRM set.
3. The student (the same embedded model) is fine-tuned with R-SFT on that export; with ``--pad-steps``, it
   is then trained with PAD (GRPO) using the verifiable reward and, if a PRM folder is given with ``--prm``,
   the PRM reward.
4. Base and student answer the same held-out test problems as single agents (greedy chain of thought, the
   studio's solve prompt); the last lines print both accuracies with 95% bootstrap intervals and the lift
   with a paired bootstrap interval, all measured side by side in this run.

Sizes are flags; the defaults fit a few minutes of two CPU cores. Run it with `nice`.
"""
from __future__ import annotations

import sys
from pathlib import Path

# Runnable as `python bench/NAME.py` from a checkout, without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import os
import tempfile
import time

import numpy as np

from bench import smoke


def pick_dataset(wanted: str | None) -> str:
    from agentark.errors import DatasetError
    from agentark.tasks import load_problems

    for name in ([wanted] if wanted else ["builtin:arithmetic-onestep", "builtin:arithmetic-easy"]):
        try:
            load_problems(name, limit=1, split="train")
            return name
        except DatasetError:
            continue
    raise SystemExit(f"dataset {wanted} is not available")


def run_debate(store, **kw) -> str:
    from agentark.debate import DebateConfig
    from agentark.debate.debate_job import create_debate_run, run_debate_job

    run_id, _ = create_debate_run(DebateConfig(**kw))
    run_debate_job(run_id)
    store.refresh()
    return run_id


def per_problem_correct(store, run_id: str) -> dict[str, bool]:
    frame = store.df("SELECT problem_id, is_correct FROM outcomes WHERE run_id = ? ORDER BY problem_id", [run_id])
    return {r.problem_id: bool(r.is_correct) for r in frame.itertuples()}


def bootstrap(base: np.ndarray, student: np.ndarray, samples: int, seed: int) -> dict:
    """95% percentile intervals of both accuracies and of their paired difference."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(base), size=(samples, len(base)))
    b, s = base[idx].mean(axis=1), student[idx].mean(axis=1)
    ci = lambda x: (float(np.percentile(x, 2.5)), float(np.percentile(x, 97.5)))  # noqa: E731
    return {"base": (float(base.mean()), *ci(b)), "student": (float(student.mean()), *ci(s)),
            "lift": (float(student.mean() - base.mean()), *ci(s - b))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default=None, help="default: builtin:arithmetic-onestep (else arithmetic-easy)")
    parser.add_argument("--train-problems", type=int, default=48, help="problems the teacher debates on")
    parser.add_argument("--eval-problems", type=int, default=60, help="held-out test problems for base and student")
    parser.add_argument("--agents", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=160, help="tokens per debate message and per answer")
    parser.add_argument("--export-kind", choices=("rsft", "da"), default="rsft",
                        help="rsft: one correct final-round answer per problem; da: up to 4 distinct correct ones")
    parser.add_argument("--epochs", type=float, default=2.0, help="SFT passes over the export")
    parser.add_argument("--learning-rate", type=float, default=2e-5)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--pad-steps", type=int, default=0, help="PAD (GRPO) steps after R-SFT; 0 skips PAD")
    parser.add_argument("--prm", default="", help="a studio PRM for the PAD reward (else the verifiable reward only)")
    parser.add_argument("--bootstrap", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--home", default=None, help="AGENTARK_HOME for this run (default: a new temp folder)")
    parser.add_argument("--base", default="embedded:smollm2-135m", help="the model the student starts from")
    parser.add_argument("--teacher-engine", default=None, help="the teacher's engine (default: the base model's)")
    parser.add_argument("--teacher-model", default=None, help="the teacher's model (default: the base model)")
    # The smoke run's teacher is scripted (right in its last round on the additions), so its export has rows.
    args = smoke.parse(parser, train_problems=6, eval_problems=2, agents=2, max_tokens=48, epochs=1.0, batch_size=2,
                       bootstrap=50, base=smoke.tiny_model, teacher_engine="scripted",
                       teacher_model="tests.study_script:teacher")

    os.environ["AGENTARK_HOME"] = args.home or tempfile.mkdtemp(prefix="distill-lift-")
    from agentark.config import home
    from agentark.errors import ConfigError
    from agentark.training_sets import ExportConfig, export
    from agentark.labels.auto_labelers import AutoLabelConfig, run_auto_labelers
    from agentark.labels.segment import SegmentConfig, segment_runs
    from agentark.store import Store
    from agentark.train.pad import PADJobConfig, train_pad
    from agentark.train.sft import SFTJobConfig, train_sft

    dataset = pick_dataset(args.dataset)
    timings: dict[str, float] = {}
    print(f"home {home()}  dataset {dataset}", flush=True)
    with Store() as store:
        started = time.perf_counter()
        teacher = run_debate(store, method="debate", engine=args.teacher_engine,
                             model=args.teacher_model or args.base, dataset=dataset, split="train", limit=args.train_problems,
                             agents=args.agents, rounds=args.rounds, max_tokens=args.max_tokens, temperature=0.7,
                             seed=args.seed)
        timings["teacher debate"] = time.perf_counter() - started
        teacher_acc = np.mean(list(per_problem_correct(store, teacher).values()))
        print(f"teacher debate {teacher}: {args.train_problems} problems, final accuracy {teacher_acc:.1%}", flush=True)

        started = time.perf_counter()
        steps = segment_runs(store, [teacher], SegmentConfig())
        labels = run_auto_labelers(store, AutoLabelConfig([teacher]))
        try:
            rsft = export(store, ExportConfig(kind=args.export_kind, run_ids=[teacher]))
        except ConfigError as exc:
            raise SystemExit(f"no training rows: {exc} The teacher needs answers it finishes and gets right: raise "
                             "--max-tokens (the embedded model needs about 128) or --train-problems.") from exc
        timings["label + export"] = time.perf_counter() - started
        print(f"{steps} steps, labels {labels}; {args.export_kind} export {rsft.sha256[:12]}: {rsft.n_rows} rows",
              flush=True)

        started = time.perf_counter()
        sft = train_sft(SFTJobConfig(export=str(rsft.path), base_model=args.base, epochs=args.epochs,
                                     learning_rate=args.learning_rate, per_device_batch_size=args.batch_size,
                                     save_steps=10_000, seed=args.seed, max_length=512),
                        home() / "train" / "sft",
                        on_metrics=lambda step, m: print(f"  sft step {step}: loss {m.get('loss', float('nan')):.3f}",
                                                         flush=True))
        timings["SFT"] = time.perf_counter() - started
        student = str(sft.model_dir)
        if args.pad_steps:
            started = time.perf_counter()
            pad = train_pad(PADJobConfig(dataset=dataset, split="train", limit=args.train_problems, base_model=student,
                                         prm=args.prm, prm_weight=1.0 if args.prm else 0.0, max_steps=args.pad_steps,
                                         max_completion_length=args.max_tokens, num_generations=4,
                                         per_device_batch_size=4, learning_rate=1e-6, save_steps=10_000,
                                         seed=args.seed),
                            home() / "train" / "pad",
                            on_metrics=lambda step, m: print(f"  pad step {step}: reward {m.get('reward', 0):.3f}",
                                                             flush=True))
            timings["PAD"] = time.perf_counter() - started
            student = str(pad.model_dir)

        started = time.perf_counter()
        common = dict(method="cot", dataset=dataset, split="test", limit=args.eval_problems,
                      max_tokens=args.max_tokens, temperature=0.0, seed=args.seed)
        base_run = run_debate(store, model=args.base, **common)
        student_run = run_debate(store, model=student, **common)
        timings["evaluation"] = time.perf_counter() - started
        base, stud = per_problem_correct(store, base_run), per_problem_correct(store, student_run)
    shared = sorted(set(base) & set(stud))
    result = bootstrap(np.array([base[p] for p in shared], float), np.array([stud[p] for p in shared], float),
                       args.bootstrap, args.seed)
    print("timings: " + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()))
    print(f"held-out problems: {len(shared)} ({dataset}, test split, greedy single agent)")
    for name in ("base", "student"):
        acc, lo, hi = result[name]
        print(f"{name:8s} accuracy {acc:6.1%}  95% CI [{lo:.1%}, {hi:.1%}]")
    lift, lo, hi = result["lift"]
    print(f"lift (student - base) {lift:+.1%}  paired 95% CI [{lo:+.1%}, {hi:+.1%}]")


if __name__ == "__main__":
    main()
