# Two entry points for a fresh machine: `make demo` and `make test`.
# Each creates the virtual environment it needs in $(VENV).

VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
# Folder with medmnist/ and cifar10/ inside. When it is missing, the datasets are downloaded
# into it (needs a network).
DATA_ROOT ?= $(firstword $(wildcard ../shared/data) data)
DEMO_DIR ?= demo-output

.PHONY: demo test venv clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e ".[dev]"
	touch $@

demo: venv
	mkdir -p $(DEMO_DIR)
	$(VENV)/bin/hwprune seed-search --dataset breastmnist --data-root $(DATA_ROOT)/medmnist \
	    --constraint "fpga_latency<=2.5" --constraint "params<=1.1e6" --seeds 4 --trials 8 --epochs 3 \
	    --storage sqlite:///$(DEMO_DIR)/hwprune.db --study seed-demo --seed 0 \
	    --json $(DEMO_DIR)/seed.json --plots $(DEMO_DIR)/seed-plots \
	    --artifact-dir $(DEMO_DIR)/artifacts
	$(VENV)/bin/hwprune prune --model resnet20 --dataset cifar10 --data-root $(DATA_ROOT)/cifar10 \
	    --dense-epochs 3 --trials 24 --population 8 --finetune-steps 20 \
	    --train-subset 5000 --val-subset 1000 \
	    --storage sqlite:///$(DEMO_DIR)/hwprune.db --study prune-demo --seed 0 \
	    --json $(DEMO_DIR)/prune.json --plots $(DEMO_DIR)/prune-plots

test: venv
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) $(DEMO_DIR)
