"""Attach files to a study as optuna-dashboard artifacts."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

import optuna
from optuna.artifacts import FileSystemArtifactStore, upload_artifact

_logger = logging.getLogger(__name__)


def upload_plots(
    study: optuna.Study,
    paths: Iterable[str | Path],
    artifact_dir: str | Path,
) -> list[str]:
    """Upload image files to ``study`` so that optuna-dashboard lists them under the study.

    Start the dashboard with the same folder to see them:
    ``optuna-dashboard <storage> --artifact-dir <artifact_dir>``.

    Args:
        study: Study that receives the artifacts.
        paths: Files to upload, for example PNG plots.
        artifact_dir: Folder of the :class:`~optuna.artifacts.FileSystemArtifactStore`;
            created when missing.

    Returns:
        The artifact ids, in the order of ``paths``.

    Raises:
        FileNotFoundError: A path does not exist.
    """
    folder = Path(artifact_dir)
    folder.mkdir(parents=True, exist_ok=True)
    store = FileSystemArtifactStore(str(folder))

    artifact_ids = []
    for path in map(Path, paths):
        if not path.is_file():
            raise FileNotFoundError(f"plot file {path} not found; write it before uploading")
        artifact_id = upload_artifact(
            artifact_store=store, file_path=str(path), study_or_trial=study
        )
        _logger.info("uploaded %s to study %r as artifact %s", path, study.study_name, artifact_id)
        artifact_ids.append(artifact_id)
    return artifact_ids
