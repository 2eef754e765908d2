"""Optuna samplers for hardware-aware model compression."""

from optuna_hwprune.samplers._sampler import LayerwiseNSGASampler

__all__ = ["LayerwiseNSGASampler"]
