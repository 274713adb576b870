"""Trainers: the PRM (``prm``, scored through ``prm_scoring``), SFT for R-SFT and DA exports (``sft``),
process-aware distillation (``pad``).

Each trainer is a library function ``train_X(cfg, out_dir, on_metrics, should_stop, resume)`` that writes
only under ``out_dir`` and reports through its callbacks, so the job framework wraps it without the trainer
knowing about jobs, shards or the store. torch, transformers and TRL are imported inside the functions.
"""
