"""Running a study: the ``study`` job kind, whose run drives a graph of the studio's ordinary jobs.

A study's folder is ``$AGENTARK_HOME/studies/STUDY_ID/`` (the job framework's layout, ``study.json`` its
manifest) plus ``record.json``: every step's job, run, export and model ids, and each arm's training figures,
rewritten after every step. The steps are jobs of the existing kinds, each created with ``jobs.create`` (so it
has its own folder, log and row in the Jobs table) and run in the study's process with ``jobs.run_job``: the
teacher's debate on the train split and on the test problems, single-agent sampling rounds of the base model,
PRM, SFT and PAD training, and evaluations through the ``eval`` kind (its held-out check included). Exports,
segmentation and automatic labels are store operations done between steps.

Each step's config is the study's part for it (``cfg.teacher``, ``cfg.sft``, ``cfg.evaluation``, ...) with the
fields the study decides set on it (dataset, split, problems and problem seed, export, base model, seed, device),
so what a step stores is what it ran.

A teacher may also be runs that exist already (``teacher_runs``: run ids, or transcript files the study imports
once): nothing of it is re-run. Their problems, one per question whatever file holds it (a problem's id is its
question's), are shuffled by the problem seed and split into the study's test and train problems, written as two
problem files under ``$AGENTARK_HOME/study-problems/`` (named by their content) that the evaluation, the
single-agent samples and PAD read; the teacher's exports keep only rows of the train problems.

Design decision: a step is keyed by its kind, its config and the hashes of its inputs (an export's sha256, the
ids of the models and runs it reads, the problems it is given); ``$AGENTARK_HOME/study-steps/KEY.json`` names
the job made for that key. A step whose key has a finished job is reused, an unfinished one (stopped, failed,
killed) is resumed in place, and only a new key makes a new job. So a rerun after editing one arm reruns only
the steps whose inputs changed, and a killed study resumes where it stopped. The driver holds the store only for
the short operations between steps (refresh, exports, the evaluation's preflight), as the CLI does; the steps
themselves never open it. A stop request for the study is relayed to the step in flight.

On Slurm (the study's executor is ``slurm``) the study's process never waits for a step: each pass submits every
step whose inputs exist and that is not done (so the arms and seeds run side by side as Slurm jobs), then submits
the study itself again with ``--dependency=afterok:`` on those steps and ends. The next pass, started by Slurm
when they all succeeded, reuses the finished steps by their keys and submits the next ones; the last pass finds
every step done and writes the record, so the result is the one a local run gives.
"""
from __future__ import annotations

import hashlib
import json
import random
import threading
import time
from dataclasses import replace
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from agentark import config
from agentark.clock import now
from agentark.debate import DebateConfig
from agentark.errors import ConfigError, JobError
from agentark.ids import file_sha256
from agentark.evaluate.eval_config import EvalConfig
from agentark.evaluate.run import load_eval_problems
from agentark.training_sets import ExportConfig, ExportSummary, list_exports, prepare, write_export
from agentark.jobs.folder import JobFolder, JobStopped, atomic_write_bytes, pid_alive
from agentark.jobs.registry import JobKind, Plan, Progress, find, folders, register_kind
from agentark.jobs.runner import create, is_slurm, run_job, submit
from agentark.jobs.slurm import ExecutorConfig
from agentark.labels.auto_labelers import AutoLabelConfig, run_auto_labelers
from agentark.labels.segment import SegmentConfig, segment_runs
from agentark.runs.formats import FORMATS, import_file
from agentark.store import Store
from agentark.store import import_tables, label_tables, run_tables
from agentark.studies.matched_volume import enough, match_volume
from agentark.studies.arms import ARM_RECORDS, sft_arms
from agentark.studies.study_config import StudyConfig
from agentark.train.pad import PADJobConfig
from agentark.train.prm import PRMConfig
from agentark.train.sft import SFTJobConfig
from agentark.tasks import load_problems

STEPS_DIR = "study-steps"
PROBLEMS_DIR = "study-problems"
NOT_PICKED = "not picked: the matched-volume arm keeps as many rows as the debate arm"
NOT_TRAIN = "not a problem of the study's train split"
OTHER_SPEAKER = "another speaker's (the teacher-alone arm draws from one model and persona)"
# What a transcript file in ``teacher_runs`` is read as when it names no format.
FORMAT_BY_SUFFIX = {".json": "du2023", ".jsonl": "transcripts"}


class StudyFolder(JobFolder):
    """A study's folder: the manifest, ``record.json`` (what every step made), progress and log."""

    root = "studies"
    manifest = "study.json"
    noun = "study"
    listed_by = "python -m agentark study list"

    @property
    def record_path(self) -> Path:
        return self.path / "record.json"

    def record(self) -> dict:
        try:
            return json.loads(self.record_path.read_text())
        except (OSError, ValueError):
            return {}

    def write_record(self, record: dict) -> None:
        atomic_write_bytes(self.record_path, json.dumps(record, indent=2, sort_keys=True, default=str).encode())

    def config(self) -> StudyConfig:
        return StudyConfig.from_dict(self.meta()["config"])


def list_studies() -> list[StudyFolder]:
    """Every study folder, in id order."""
    return folders(STUDY)


def step_key(kind: str, cfg: Any, inputs: dict) -> str:
    """What makes a step the same step: its kind, its config and the hashes of what it reads."""
    text = json.dumps({"kind": kind, "config": cfg.to_dict(), "inputs": inputs}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def steps_dir() -> Path:
    return config.home() / STEPS_DIR


def dataset_hash(spec: str) -> str | None:
    """The sha256 of a dataset given as a file (its content is an input); None for built-in and hub datasets."""
    path = Path(spec.removeprefix("file:")).expanduser()
    if not path.is_file():
        return None
    return file_sha256(path)


def completion_tokens(rows: list[dict], tokenizer) -> list[int]:
    """Tokens of what each row teaches, in the student's tokenizer: an SFT row's last (assistant) turn, a PRM
    row's steps."""
    texts = [str(row["messages"][-1]["content"]) if "messages" in row else "\n".join(row["completions"])
             for row in rows]
    return [len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]] if texts else []


class StepPending(Exception):
    """A step submitted to Slurm (or still running there): what needs it waits for the study's next pass."""


class StudyRunner:
    """Drives one study's steps in order, reusing or resuming each step's job, and keeps ``record.json``."""

    # Until a teacher made of runs is split: the study's own dataset for every split, and no row filter.
    problem_files: Mapping[str, str] = MappingProxyType({})
    train_ids: set[str] | None = None

    def __init__(self, folder: StudyFolder, on_progress: Progress | None = None) -> None:
        self.folder = folder
        self.cfg = folder.config()
        self.store = Store()
        self.on_progress = on_progress
        self.record = folder.record() or {}
        self.record.update(steps=[], arms={}, errors={})
        self.done = 0
        self.total = planned_steps(self.cfg)
        self._tokenizer = None
        # On Slurm: the steps' executor (the study's partition, account, QOS and extra lines; each kind's own
        # CPUs, memory and time), and the Slurm ids of the steps this pass waits for.
        self.slurm = is_slurm(folder.job_id)
        study = ExecutorConfig.from_dict(folder.meta().get("executor"))
        self.step_executor = ExecutorConfig(executor="slurm", partition=study.partition, account=study.account,
                                            qos=study.qos, sbatch=list(study.sbatch)) if self.slurm else None
        self.pending: list[str] = []
        self.record.setdefault("submitted", [])
        # The train problems' ids when the teacher is runs: the teacher's exports keep only those rows.
        self.train_ids: set[str] | None = None
        self.problem_files: dict[str, str] = {}

    # -- steps --------------------------------------------------------------------------------------------
    def job_step(self, label: str, kind: str, cfg: Any, inputs: dict, **create_inputs: Any) -> dict:
        """Reuse, resume or create and run the job of this step; return its final progress (with its id)."""
        key = step_key(kind, cfg, inputs)
        path = steps_dir() / f"{key}.json"
        job_id, reused, info = None, False, {}
        if path.exists():
            saved = json.loads(path.read_text())
            try:
                _, job = find(saved["job_id"])
                job_id, info = job.job_id, saved.get("info") or {}
            except JobError:
                job_id = None  # its folder was removed: make the step again
        self.stage(label)
        if job_id is None:
            created = create(kind, cfg, executor=self.step_executor, **create_inputs)
            job_id = created.job_id
            info = self.created_info(created.info)
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(path, json.dumps({"key": key, "kind": kind, "job_id": job_id, "label": label,
                                                 "created_at": now().isoformat(), "info": info}).encode())
        self.folder.write_progress(step_job=job_id)
        _, job = find(job_id)
        status = job.status()
        if status == "done":
            reused = job_id not in self.record["submitted"]
            progress = job.progress()
        elif self.slurm:
            self.submit_step(job, status)
            raise StepPending(label)
        elif status in ("running", "queued") and pid_alive(job.pid()):
            progress = self.wait_for(job)
        else:
            progress = self.run_here(job)
        if progress.get("status") != "done":
            raise JobError(f"Study step '{label}' ({kind} job {job_id}) ended {progress.get('status')}: "
                           f"{progress.get('error') or progress.get('stage')}. Resume the study to retry it.")
        self.store.refresh()
        self.record["steps"].append({"label": label, "kind": kind, "job_id": job_id, "key": key, "reused": reused,
                                     **({"info": info} if info else {})})
        self.done += 1
        self.total = max(self.total, self.done)
        self.folder.write_progress(done=self.done, total=self.total, step_job=None)
        self.save()
        return {**progress, "job_id": job_id, "info": info}

    def submit_step(self, job: JobFolder, status: str) -> None:
        """Submit a step that is not done to Slurm, unless it is there already; this pass then waits for it."""
        slurm_id = job.progress().get("slurm_job_id")
        if status not in ("running", "queued") or not slurm_id:
            slurm_id = submit(job.job_id, executor=self.step_executor)
        if job.job_id not in self.record["submitted"]:
            self.record["submitted"].append(job.job_id)
        self.pending.append(slurm_id)

    def waiting(self, work):
        """A step (or a part built on steps) that may be pending on Slurm: None while it is."""
        try:
            return work()
        except StepPending:
            return None

    def next_pass(self) -> dict:
        """Submit the study again, to start when every step of this pass succeeded; this pass ends here."""
        dependency = "afterok:" + ":".join(dict.fromkeys(self.pending))
        slurm_id = submit(self.folder.job_id, dependency=dependency)
        self.record.setdefault("slurm_passes", []).append({"study_job": slurm_id, "dependency": dependency,
                                                           "at": now().isoformat()})
        self.save()
        return {"status": "queued", "ended_at": None, "done": self.done, "slurm_job_id": slurm_id,
                "stage": f"waiting in Slurm for {len(set(self.pending))} step(s) (Slurm job {slurm_id}, {dependency})"}

    @staticmethod
    def created_info(info: Any) -> dict:
        """What a step's creation reported that the study shows: an evaluation's held-out check."""
        overlap = info[1] if isinstance(info, tuple) and len(info) == 2 else None
        if overlap is None or not hasattr(overlap, "overlapping"):
            return {}
        return {"held_out_checked": True, "training_problems": overlap.training_problems,
                "overlapping": len(overlap.overlapping)}

    def run_here(self, job: JobFolder) -> dict:
        """Run (or resume) a step's job in this process; a stop asked of the study is passed on to it."""
        finished = threading.Event()

        def relay() -> None:
            while not finished.wait(0.5):
                if self.folder.cancel_requested():
                    job.request_cancel()
                    return

        watcher = threading.Thread(target=relay, daemon=True)
        watcher.start()
        try:
            progress = run_job(job.job_id)
        finally:
            finished.set()
            watcher.join()
        if progress.get("status") == "stopped":
            raise JobStopped(f"study {self.folder.job_id} stopped during {job.job_id}")
        return progress

    def wait_for(self, job: JobFolder) -> dict:
        """A step another process runs or waits to run (another study sharing it): wait on its status, stopping
        when asked."""
        while job.status() in ("running", "queued") and pid_alive(job.pid()):
            self.folder.check_cancel()
            time.sleep(1.0)
        return self.run_here(job) if job.status() != "done" else job.progress()

    def stage(self, text: str) -> None:
        """The phase the study is in, with its steps done of the steps it plans (the single-agent arm's rounds
        counted at most, so the total may drop when the study finishes early)."""
        self.folder.check_cancel()
        self.folder.write_progress(stage=text, done=self.done, total=self.total, step_job=None)
        if self.on_progress:
            self.on_progress(self.done, self.total)

    def save(self) -> None:
        self.folder.write_record(self.record)

    def tokenizer(self):
        if self._tokenizer is None:
            from agentark.train.runtime import load_tokenizer

            self._tokenizer = load_tokenizer(self.cfg.student_model)
        return self._tokenizer

    # -- configs: each part's config with what the study decides set on it -----------------------------------
    def dataset(self, split: str) -> str:
        """Where a split's problems come from: the study's dataset, or the problem file of a teacher made of runs."""
        return self.problem_files.get(split, self.cfg.dataset)

    def teacher_config(self, split: str, limit: int) -> DebateConfig:
        c = self.cfg
        return replace(c.teacher, dataset=c.dataset, split=split, limit=limit, problem_seed=c.problem_seed)

    def eval_config(self, model: str) -> EvalConfig:
        c = self.cfg
        return replace(c.evaluation, model=model, engine=c.student_engine, dataset=self.dataset(c.test_split),
                       split=c.test_split, limit=c.test_problems, problem_seed=c.problem_seed)

    def sampler_config(self, round_: int) -> DebateConfig:
        """One round of the single-agent arm: the base model's independent samples on the training problems, with
        its own tokens per reply (``single.max_tokens``) and a seed of its own per round."""
        c = self.cfg
        options = {"base_urls": list(c.single.base_urls)} if c.single.base_urls else {}
        return DebateConfig(method="self_consistency", agents=c.single.samples, engine=c.sampler_engine,
                            model=c.sampler_model, engine_options=options, temperature=c.single.temperature,
                            max_tokens=c.single.max_tokens, seed=1000 * c.teacher.seed + round_,
                            dataset=self.dataset(c.train_split), split=c.train_split, limit=c.train_problems,
                            problem_seed=c.problem_seed)

    def single_export_config(self, runs: list[str]) -> ExportConfig:
        """The single-agent arm's candidates: every correct sample of its rounds so far."""
        c = self.cfg
        return ExportConfig(kind="single", run_ids=list(runs),
                            max_per_problem=c.single.samples * c.single.max_rounds)

    def prm_config(self, export: str) -> PRMConfig:
        c = self.cfg
        return replace(c.prm, export=export, base_model=c.prm_backbone, seed=c.teacher.seed, device=c.device)

    def sft_config(self, export: str, seed: int) -> SFTJobConfig:
        c = self.cfg
        return replace(c.sft, export=export, base_model=c.student_model, seed=seed, device=c.device)

    def pad_config(self, student: str, prm: str, seed: int) -> PADJobConfig:
        c = self.cfg
        return replace(c.pad, dataset=self.dataset(c.train_split), split=c.train_split, limit=c.train_problems,
                       problem_seed=c.problem_seed, base_model=student, prm=prm, seed=seed, device=c.device)

    # -- the study ----------------------------------------------------------------------------------------
    def run(self) -> dict:
        c = self.cfg
        self.store.refresh()
        if c.teacher_runs:
            teacher_runs = self.teacher_from_runs()
        else:
            data = {"dataset_sha256": dataset_hash(c.dataset)}
            train = load_problems(c.dataset, limit=c.train_problems, split=c.train_split,
                                  seed=c.problem_seed).problems
            test = load_eval_problems(self.eval_config(c.student_model)).problems
            self.record["held_out"] = held_out_split(train, test)
            teacher = self.waiting(lambda: self.job_step("teacher debate on the train split", "debate",
                                                         self.teacher_config(c.train_split, c.train_problems), data))
            test_ids = [p.problem_id for p in test]
            teacher_test = self.waiting(lambda: self.job_step("teacher debate on the test problems", "debate",
                                                              self.teacher_config(c.test_split, c.test_problems),
                                                              {**data, "problems": test_ids}, problems=test))
        data = {"dataset_sha256": dataset_hash(self.dataset(c.test_split))}
        base = self.waiting(lambda: self.job_step("evaluate the base model", "eval", self.eval_config(c.student_model),
                                                  data, store=self.store))
        if self.pending:
            return self.next_pass()
        if not c.teacher_runs:
            self.record["teacher"] = {"train_run": teacher["job_id"], "test_run": teacher_test["job_id"],
                                      "runs": [teacher["job_id"]], "test_runs": [teacher_test["job_id"]]}
            teacher_runs = [teacher["job_id"]]
        self.record["arms"]["base"] = {str(s): {"eval_run": base["job_id"], "model": c.student_model,
                                                "info": base["info"]} for s in c.seeds}
        self.save()

        exports = self.debate_exports(teacher_runs)
        if "single" in c.arms:
            exports["single"] = self.guarded("single", lambda: self.matched_export(exports.get(c.single.match)))
        if "teacher_alone" in c.arms:
            exports["teacher_alone"] = self.guarded(
                "teacher_alone", lambda: self.alone_export(teacher_runs, exports.get(c.alone_match)))
        prm = self.prm_model(teacher_runs) if "pad" in c.arms else None
        for seed in c.seeds:
            students: dict[str, str] = {}
            for arm in [a for a in c.arms if a in sft_arms()]:
                if exports.get(arm):
                    students[arm] = self.guarded(arm, lambda arm=arm: self.sft_arm(arm, seed, exports[arm]))
            if "pad" in c.arms and prm and students.get(c.pad_on):
                self.guarded("pad", lambda: self.pad_arm(seed, students[c.pad_on], prm, exports[c.pad_on]))
        if self.pending:
            return self.next_pass()
        errors = self.record["errors"]
        return {"status": "done", "done": self.done, "stage": "finished" + (
            f" ({len(errors)} arm(s) without a result: {', '.join(sorted(errors))})" if errors else "")}

    def guarded(self, arm: str, work):
        """Run one arm's work; an arm that cannot be built (no rows for it) is recorded and the others go on."""
        try:
            return work()
        except StepPending:
            return None  # on Slurm: its steps run; the next pass goes on with it
        except ConfigError as exc:
            self.record["errors"][arm] = str(exc)
            self.save()
            return None

    def debate_exports(self, teacher_runs: list[str]) -> dict[str, dict]:
        """The teacher's exports each debate arm trains on (and the matched arms match), with their figures."""
        c = self.cfg
        wanted = {a.name: replace(a.teacher_export(c, teacher_runs[0]), run_ids=list(teacher_runs))
                  for a in ARM_RECORDS.values() if a.teacher_export}
        needed = set(c.arms) | ({c.single.match} if "single" in c.arms else set()) | (
            {c.alone_match} if "teacher_alone" in c.arms else set()) | ({c.pad_on} if "pad" in c.arms else set())
        exports = {}
        for arm, export_cfg in wanted.items():
            if arm in needed:
                self.stage(f"exporting {arm}")
                exports[arm] = self.guarded(arm, lambda e=export_cfg: self.export(e))
        self.save()
        return exports

    def export(self, cfg: ExportConfig) -> dict:
        """Export (an unchanged export is found again, not recorded twice) and return its figures; with a teacher
        made of runs, only the rows of the study's train problems."""
        return self.figures(write_export(self.store, cfg, *self.train_rows(*prepare(self.store, cfg))))

    def train_rows(self, rows, summary: ExportSummary) -> tuple[Any, ExportSummary]:
        """An export's rows on the study's train problems (all of them when the study ran its own teacher)."""
        if self.train_ids is None or rows.empty:
            return rows, summary
        keep = rows["problem_id"].isin(self.train_ids)
        dropped = {**summary.dropped, NOT_TRAIN: int((~keep).sum())}
        return rows[keep].reset_index(drop=True), ExportSummary(summary.kind, int(keep.sum()), dropped)

    def figures(self, result) -> dict:
        """An export's ids and what it holds: rows and completion tokens in the student's tokenizer."""
        from agentark.train.sft import read_rows

        rows = read_rows(result.path)
        return {"export_id": result.export_id, "sha256": result.sha256, "path": str(result.path),
                "rows": len(rows), "tokens": int(sum(completion_tokens(rows, self.tokenizer())))}

    def matched_export(self, target: dict | None) -> dict:
        """The single-agent arm: sample the base model on the train problems, round after round, until its correct
        answers can match the debate arm's rows and tokens; export the matched subset."""
        c = self.cfg
        if not target:
            raise ConfigError(f"The single-agent arm matches the {c.single.match} arm, which has no rows.")
        runs: list[str] = []
        cfg = rows = None
        tokens: list[int] = []
        for round_ in range(c.single.max_rounds):
            step = self.job_step(f"single-agent samples, round {round_ + 1}", "debate", self.sampler_config(round_),
                                 {"dataset_sha256": dataset_hash(c.dataset)})
            runs.append(step["job_id"])
            cfg = self.single_export_config(runs)
            rows, summary = prepare(self.store, cfg)
            tokens = completion_tokens(rows.to_dict("records"), self.tokenizer()) if len(rows) else []
            if enough(list(rows["problem_id"]), tokens, target["rows"], target["tokens"]):
                break
        if rows is None or rows.empty:
            raise ConfigError(f"The base model answered none of the {c.train_problems} training problems correctly "
                              f"in {c.single.max_rounds} round(s) of {c.single.samples} samples; raise "
                              "[[single_max_rounds]] or [[single_samples]].")
        matched = match_volume(list(rows["problem_id"]), tokens, target["rows"], target["tokens"])
        picked = rows.iloc[matched.picked].reset_index(drop=True)
        dropped = {**summary.dropped, NOT_PICKED: len(rows) - len(picked)}
        result = write_export(self.store, cfg, picked, ExportSummary(cfg.kind, len(picked), dropped))
        self.record["single_pool"] = {"sampling_runs": runs, "candidates": len(rows), **matched.to_dict(),
                                      **sample_counts(self.store, runs), "max_tokens": c.single.max_tokens}
        return {**self.figures(result), "sampling_runs": runs}

    def alone_export(self, teacher_runs: list[str], target: dict | None) -> dict:
        """The teacher-alone arm: the teacher's correct, committed round-1 answers on the train problems, from one
        speaker (the model and persona with the most of them), matched to the debate arm's rows and tokens."""
        c = self.cfg
        if not target:
            raise ConfigError(f"The teacher-alone arm matches the {c.alone_match} arm, which has no rows; set "
                              "[[alone_match]] to an arm with rows.")
        self.stage("exporting teacher_alone")
        cfg = ExportConfig(kind="alone", run_ids=list(teacher_runs))
        rows, summary = self.train_rows(*prepare(self.store, cfg))
        if rows.empty:
            raise ConfigError("The teacher answered none of the train problems correctly (and committed) in round 1; "
                              "the teacher-alone arm has no rows.")
        who = speakers(self.store, teacher_runs)
        label = [who.get((r, a), a) for r, a in zip(rows["run_id"], rows["agent"])]
        counts: dict[str, int] = {}
        for name in label:
            counts[name] = counts.get(name, 0) + 1
        speaker = max(counts, key=lambda k: (counts[k], -list(counts).index(k)))
        mine = [i for i, name in enumerate(label) if name == speaker]
        pool = rows.iloc[mine].reset_index(drop=True)
        tokens = completion_tokens(pool.to_dict("records"), self.tokenizer())
        matched = match_volume(list(pool["problem_id"]), tokens, target["rows"], target["tokens"])
        picked = pool.iloc[matched.picked].reset_index(drop=True)
        dropped = {**summary.dropped, OTHER_SPEAKER: len(rows) - len(pool), NOT_PICKED: len(pool) - len(picked)}
        result = write_export(self.store, cfg, picked, ExportSummary(cfg.kind, len(picked), dropped))
        self.record["alone_pool"] = {"candidates": len(pool), "speaker": speaker, "speakers": counts,
                                     "agents": sorted(set(pool["agent"])), **matched.to_dict()}
        return self.figures(result)

    # -- a teacher made of runs ----------------------------------------------------------------------------
    def teacher_from_runs(self) -> list[str]:
        """Import the teacher's files (once), split their problems into test and train by question, write the two
        problem files, and record the split; nothing is re-run."""
        c = self.cfg
        self.stage("reading the teacher's runs")
        runs = list(dict.fromkeys(r for entry in c.teacher_runs for r in self.teacher_run_ids(entry)))
        problems: dict[str, dict] = {}
        for run in runs:
            for p in run_tables.run_problems(self.store, run).itertuples():
                problems.setdefault(p.problem_id, {"question": p.question, "answer": p.reference_answer})
        ids = sorted(problems)
        if len(ids) < c.train_problems + c.test_problems:
            raise ConfigError(f"The teacher's runs hold {len(ids)} distinct problems; the study asks for "
                              f"{c.train_problems} train and {c.test_problems} test problems. Lower "
                              "[[train_problems]] or [[test_problems]], or add runs to [[teacher_runs]].")
        random.Random(c.problem_seed).shuffle(ids)
        test_ids, train_ids = ids[:c.test_problems], ids[c.test_problems:c.test_problems + c.train_problems]
        for split, chosen in ((c.test_split, test_ids), (c.train_split, train_ids)):
            self.problem_files[split] = str(write_problem_file([problems[i] for i in chosen]))
        train = load_problems(self.dataset(c.train_split), split=c.train_split).problems
        test = load_problems(self.dataset(c.test_split), split=c.test_split).problems
        if {p.problem_id for p in train} != set(train_ids) or {p.problem_id for p in test} != set(test_ids):
            raise ConfigError("The teacher's problems did not read back from the study's problem files with the same "
                              "ids; check the runs in [[teacher_runs]].")
        self.train_ids = set(train_ids)
        self.record["held_out"] = held_out_split(train, test)
        self.record["teacher"] = {"runs": runs, "test_runs": runs, "problems": len(ids),
                                  "problem_files": dict(self.problem_files)}
        self.save()
        return runs

    def teacher_run_ids(self, entry: str) -> list[str]:
        """The runs one ``teacher_runs`` entry names: a run in the store, or a transcript file (FORMAT:PATH or a
        path), imported unless its bytes were imported before."""
        fmt, sep, rest = entry.partition(":")
        path = Path(rest if sep and fmt in FORMATS else entry).expanduser()
        if not path.is_file():
            if run_tables.run_status(self.store, entry) is None:
                raise ConfigError(f"[[teacher_runs]] entry '{entry}' is neither a run in the store nor a file; give "
                                  "a run id (`python -m agentark runs` lists them) or a transcript file's path.")
            return [entry]
        fmt = fmt if sep and fmt in FORMATS else FORMAT_BY_SUFFIX.get(path.suffix.lower())
        if fmt is None:
            raise ConfigError(f"[[teacher_runs]] entry '{entry}' names no format; write FORMAT:PATH with FORMAT one "
                              f"of {', '.join(FORMATS)}.")
        seen = import_tables.imports_of(self.store, file_sha256(path))
        if not seen.empty and seen.iloc[0]["run_ids"] is not None:
            return list(seen.iloc[0]["run_ids"])
        self.stage(f"importing {path.name}")
        report = import_file(self.store, fmt, path, model=self.cfg.teacher.model or None)
        return [r.strip() for r in report.run_id.split(",") if r.strip()]

    def prm_model(self, teacher_runs: list[str]) -> str | None:
        """The study's PRM: trained on the teacher's automatically labelled steps."""
        def train() -> str:
            self.stage("segmenting and labelling the teacher's steps")
            segment_runs(self.store, list(teacher_runs), SegmentConfig())
            run_auto_labelers(self.store, AutoLabelConfig(list(teacher_runs)))
            figures = self.export(ExportConfig(kind="prm", run_ids=list(teacher_runs)))
            step = self.job_step("train the PRM", "prm", self.prm_config(figures["path"]),
                                 {"export_sha256": figures["sha256"]}, exports=list_exports(self.store))
            self.record["prm"] = {"export": figures, "job": step["job_id"], "model": step["model_id"]}
            return step["model_id"]

        return self.guarded("pad", train)

    def sft_arm(self, arm: str, seed: int, data: dict) -> str:
        step = self.job_step(f"train {arm} (seed {seed})", "sft", self.sft_config(data["path"], seed),
                             {"export_sha256": data["sha256"]}, exports=list_exports(self.store))
        self.evaluate(arm, seed, step["model_id"], step["job_id"], data)
        return step["model_id"]

    def pad_arm(self, seed: int, student: str, prm: str, data: dict) -> str:
        c = self.cfg
        step = self.job_step(f"train pad (seed {seed})", "pad", self.pad_config(student, prm, seed),
                             {"dataset_sha256": dataset_hash(c.dataset)})
        self.evaluate("pad", seed, step["model_id"], step["job_id"], data, pad_problems=c.train_problems)
        return step["model_id"]

    def evaluate(self, arm: str, seed: int, model: str, job: str, data: dict, **extra: Any) -> None:
        step = self.job_step(f"evaluate {arm} (seed {seed})", "eval", self.eval_config(model), {}, store=self.store)
        self.record["arms"].setdefault(arm, {})[str(seed)] = {
            "eval_run": step["job_id"], "model": model, "train_job": job, "export": data, "info": step["info"],
            **extra}
        self.save()


def held_out_split(train: list, test: list) -> dict:
    """The study's own check of its splits: test problems whose id, or whose question text, is among the training
    problems (the evaluation's held-out check covers what each model was trained on; this covers the study's
    whole train split, which the teacher, the samples and PAD all draw on)."""
    train_ids, train_text = {p.problem_id for p in train}, {p.question.strip() for p in train}
    same_id = [p.problem_id for p in test if p.problem_id in train_ids]
    same_text = [p.problem_id for p in test if p.question.strip() in train_text]
    if same_id:
        raise ConfigError(f"{len(same_id)} test problem(s) are also training problems; set [[train_split]] and "
                          "[[test_split]] to splits that do not share problems.")
    return {"train_problems": len(train), "test_problems": len(test), "same_question": same_text}


def write_problem_file(problems: list[dict]) -> Path:
    """Problems (question, answer) as a JSON-lines problem file named by its content, so the same split is the
    same file (and the same step inputs) in every study that declares it."""
    text = "".join(json.dumps(p, ensure_ascii=False, sort_keys=True) + "\n" for p in problems)
    path = config.home() / PROBLEMS_DIR / f"{hashlib.sha256(text.encode()).hexdigest()[:16]}.jsonl"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, text.encode())
    return path


def speakers(store: Store, runs: list[str]) -> dict[tuple[str, str], str]:
    """(run, agent) -> who spoke: its model and, when it has one, its persona (system prompt)."""
    who = {}
    for run in runs:
        meta = run_tables.get_run(store, run)
        specs = (meta.get("config") or {}).get("agent_specs") or []
        agents = label_tables.curated_messages(store, [run])["agent"].unique()
        for agent in agents:
            index = int(agent.rsplit("_", 1)[1]) - 1 if agent.rsplit("_", 1)[-1].isdigit() else -1
            spec = specs[index] if 0 <= index < len(specs) else {}
            model = spec.get("model") or meta.get("model") or "unnamed model"
            system = spec.get("system")
            who[(run, agent)] = model + (f" as '{system[:40]}'" if system else "")
    return who


def sample_counts(store: Store, runs: list[str]) -> dict:
    """What sampling gave: samples, how many were cut off at the token limit, how many were right."""
    messages = label_tables.curated_messages(store, runs)
    return {"samples": len(messages), "cut_off": int(messages["finish_reason"].eq("length").sum()),
            "correct": int(messages["is_correct"].fillna(False).astype(bool).sum())}


def planned_steps(cfg: StudyConfig) -> int:
    """The steps a study runs at most: the teacher's two debates (none for a teacher made of runs), the base
    model's evaluation, the single-agent rounds, the PRM, and per seed each trained arm's training and evaluation."""
    arms = [a for a in cfg.arms if a in sft_arms() or a == "pad"]
    return ((0 if cfg.teacher_runs else 2) + 1 + (cfg.single.max_rounds if "single" in cfg.arms else 0)
            + (1 if "pad" in cfg.arms else 0) + 2 * len(arms) * len(cfg.seeds))


def plan_study(cfg: StudyConfig) -> Plan:
    """The study kind's preflight: the config is valid and the dataset gives both splits; nothing is written."""
    if cfg.teacher_runs:
        return Plan(cfg, id_prefix=f"study-{_slug(cfg.name)}", meta={"name": cfg.name})
    for split, limit in ((cfg.train_split, cfg.train_problems), (cfg.test_split, cfg.test_problems)):
        if not load_problems(cfg.dataset, limit=limit, split=split, seed=cfg.problem_seed).problems:
            raise ConfigError(f"Dataset '{cfg.dataset}' gave no {split} problems; check [[dataset]] and its splits.")
    return Plan(cfg, id_prefix=f"study-{_slug(cfg.name)}", meta={"name": cfg.name})


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in name.strip())[:40] or "study"


def run_study(folder: StudyFolder, on_progress: Progress | None = None) -> dict:
    """The study kind's run: every step in order (reused, resumed or new), then the record is complete."""
    return StudyRunner(folder, on_progress).run()


def ingest_study(store: Store, folder: StudyFolder) -> int:
    """Nothing of its own to ingest: its steps are jobs whose kinds ingest their shards."""
    return 0


# A study only drives its steps, which wait for slots of their own: it holds none (holding one would make its
# steps on another device wait behind it, and keep other jobs off the device between steps).
STUDY = register_kind(JobKind("study", StudyFolder, run_study, ingest_study, title="Study", config=StudyConfig,
                              preflight=plan_study, reads=("problems",), registers="runs, exports, models",
                              needs=lambda cfg: (), resources={"cpus": 1, "time_limit": "02:00:00"}))
