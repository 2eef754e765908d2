from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from optuna_hwprune.samplers import LayerwiseNSGASampler

optunahub = pytest.importorskip("optunahub")

REGISTRY_ROOT = Path(__file__).resolve().parents[2] / "package"


def test_load_local_module_gives_working_sampler() -> None:
    module = optunahub.load_local_module(
        package="samplers/layerwise_nsga", registry_root=str(REGISTRY_ROOT)
    )
    assert module.LayerwiseNSGASampler is LayerwiseNSGASampler

    sampler = module.LayerwiseNSGASampler(seed=0)
    study = optuna.create_study(directions=["minimize", "minimize"], sampler=sampler)
    study.optimize(
        lambda t: (t.suggest_float("x", 0.0, 1.0), 1.0 - t.suggest_float("x", 0.0, 1.0) ** 0.5),
        n_trials=20,
    )
    assert len(study.trials) == 20


def test_package_folder_has_registry_files() -> None:
    folder = REGISTRY_ROOT / "samplers" / "layerwise_nsga"
    for name in ("__init__.py", "README.md", "LICENSE", "requirements.txt"):
        assert (folder / name).is_file(), f"{name} missing from {folder}"

    readme = (folder / "README.md").read_text()
    front_matter = readme.split("---")[1]
    for field in ("author:", "title:", "description:", "tags:", "optuna_versions:", "license:"):
        assert field in front_matter
    tags_line = next(line for line in front_matter.splitlines() if line.startswith("tags:"))
    assert "sampler" in tags_line
    assert "MIT License" in (folder / "LICENSE").read_text()
