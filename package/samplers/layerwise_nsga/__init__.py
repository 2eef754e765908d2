"""OptunaHub entry point of LayerwiseNSGASampler; the code lives in the optuna-hwprune package."""

from __future__ import annotations

from optuna_hwprune.samplers import LayerwiseNSGASampler

__all__ = ["LayerwiseNSGASampler"]
