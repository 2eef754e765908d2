from __future__ import annotations

import optuna
import pytest

from optuna_hwprune.cli import main
from optuna_hwprune.commands._common import CONFIG_ATTR


def test_bad_storage_url_is_rejected(tmp_path, capsys) -> None:
    status = main(["seed-search", "--storage", "notaurl://x", "--data-root", str(tmp_path)])
    message = capsys.readouterr().err
    assert status == 2
    assert "cannot open --storage 'notaurl://x'" in message
    assert "sqlite:///" in message


def test_missing_sqlite_folder_is_rejected(tmp_path, capsys) -> None:
    url = f"sqlite:///{tmp_path}/missing/study.db"
    status = main(["prune", "--model", "resnet20", "--storage", url, "--data-root", str(tmp_path)])
    assert status == 2
    assert "cannot open --storage" in capsys.readouterr().err


def test_prune_rejects_changed_options(tmp_path, capsys) -> None:
    url = f"sqlite:///{tmp_path}/prune.db"
    study = optuna.create_study(storage=url, study_name="p", directions=["maximize", "maximize"])
    study.set_user_attr(
        CONFIG_ATTR,
        {"model": "resnet20", "dataset": "cifar10", "structured": False,
         "sparsity_range": [0.0, 0.9], "layers": None},
    )

    status = main(
        ["prune", "--model", "resnet20", "--structured", "--storage", url, "--study", "p",
         "--data-root", str(tmp_path)]
    )
    message = capsys.readouterr().err
    assert status == 2
    assert "structured=False, not True" in message
    assert "another --study" in message
    assert len(optuna.load_study(study_name="p", storage=url).trials) == 0


def test_seed_search_rejects_pruning_study(tmp_path, capsys) -> None:
    url = f"sqlite:///{tmp_path}/mixed.db"
    optuna.create_study(storage=url, study_name="p", directions=["maximize", "maximize"])
    status = main(["seed-search", "--storage", url, "--study", "p", "--data-root", str(tmp_path)])
    assert status == 2
    assert "has 2 objective(s), but this command optimises 1" in capsys.readouterr().err


@pytest.mark.parametrize("option", ["--epochs", "--trials", "--train-subset"])
def test_seed_search_rejects_non_positive_counts(option, capsys) -> None:
    with pytest.raises(SystemExit):
        main(["seed-search", option, "0"])
    assert "expected an integer >= 1, got 0" in capsys.readouterr().err


def test_unreadable_table_file_is_rejected(tmp_path, capsys) -> None:
    table = tmp_path / "HW-NAS-Bench-v1_0.pickle"
    table.write_text("not a pickle")
    status = main(["bench", "query", "--dataset", "cifar10", "--index", "0", "--table", str(table)])
    message = capsys.readouterr().err
    assert status == 2
    assert "is not a readable pickle file" in message


def test_unreadable_checkpoint_is_rejected(tmp_path) -> None:
    from optuna_hwprune.pruning import load_dense_checkpoint

    checkpoint = tmp_path / "model.pt"
    checkpoint.write_text("not a checkpoint")
    with pytest.raises(ValueError, match="is not a torch state_dict"):
        load_dense_checkpoint(checkpoint, "resnet20", num_classes=10)
