"""Every built-in job kind, imported by name so that it registers: the registry loads this module on the
first look-up of a kind it does not know, and the app and the CLI import it so that refresh ingests them all.

Design decision: a kind lives beside its domain and imports the framework from ``agentark.jobs``, so the
framework must not import it (that would be an import cycle and make ``jobs/`` depend on every domain);
this list names the modules instead, and ``importlib`` loads them. Adding a built-in kind is one line here.
"""
import importlib

MODULES = (
    "agentark.debate.debate_job",  # debate runs
    "agentark.evaluate.run",  # evaluations (debate runs on held-out problems)
    "agentark.labels.montecarlo_job",  # Monte-Carlo step labels
    "agentark.labels.prm_labeler",  # PRM step labels
    "agentark.labels.judge",  # LLM-judge step labels
    "agentark.train.prm",  # PRM training
    "agentark.train.sft",  # SFT (R-SFT / DA)
    "agentark.train.pad",  # PAD (GRPO with PRM rewards)
    "agentark.studies.study_job",  # studies (a graph of the kinds above)
    "agentark.checkpoints",  # trained model folders become rows of the models table on refresh
)

for _module in MODULES:
    importlib.import_module(_module)
