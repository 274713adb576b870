"""Every built-in job kind, imported so that it registers: the app and the CLI import this module.

Design decision: kinds defined outside this package (``agentark.labels.prm_labeler``, the trainers) import the
framework from ``agentark.jobs``, so ``agentark.jobs`` itself must not import them (that would be an import
cycle); this module, which nothing in the framework imports, lists them instead. Adding a built-in kind
is one import line here. A worker needs none of this: it imports the kind's module named in the manifest.
"""
import agentark.debate.debate_job  # noqa: F401  (debate runs)
import agentark.labels.montecarlo_job  # noqa: F401  (Monte-Carlo step labels)
import agentark.labels.prm_labeler  # noqa: F401  (PRM step labels)
import agentark.train.train_jobs  # noqa: F401  (PRM, SFT and PAD training)
from agentark.checkpoints import sync_models
from agentark.store import register_ingester

# Trained model folders (written by training jobs) become rows of the models table on refresh too.
register_ingester("models", sync_models)
