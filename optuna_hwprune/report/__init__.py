"""Plots and optuna-dashboard helpers."""

from __future__ import annotations

from optuna_hwprune.report.artifacts import upload_plots

__all__ = ["upload_plots"]
