from __future__ import annotations

import subprocess
import sys

import optuna

import optuna_hwprune


def test_public_names_resolve() -> None:
    for name in optuna_hwprune.__all__:
        assert getattr(optuna_hwprune, name) is not None, name


def test_sampler_is_optuna_sampler() -> None:
    assert issubclass(optuna_hwprune.LayerwiseNSGASampler, optuna.samplers.BaseSampler)


def test_unknown_name_raises_attribute_error() -> None:
    try:
        optuna_hwprune.NoSuchThing  # noqa: B018
    except AttributeError as error:
        assert "NoSuchThing" in str(error)
    else:
        raise AssertionError("optuna_hwprune.NoSuchThing resolved")


def test_cli_help_does_not_import_torch() -> None:
    code = (
        "import sys\n"
        "from optuna_hwprune.cli import build_parser\n"
        "build_parser()\n"
        "print('torch' in sys.modules)\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert output.strip() == "False"
