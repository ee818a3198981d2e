"""`rnncourse train language|forecast`: tiny runs into tmp folders."""

from __future__ import annotations

import json

import pytest

from rnncourse.cli import main
from rnncourse.training.forecasting.checkpoints import load_forecaster
from rnncourse.training.language.checkpoints import load_language_model

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_train_language_writes_checkpoint_and_metrics(tmp_path, capsys) -> None:
    folder = tmp_path / "lm"
    code = main(["train", "language", "--corpus", "devils_dictionary", "--cell", "gru",
                 "--hidden-size", "12", "--embedding-dim", "6", "--steps", "6",
                 "--eval-every", "3", "--batch-size", "4", "--seq-len", "8",
                 "--max-characters", "5000", "--eval-characters", "500", "--half",
                 "--no-progress", "--device", "cpu", "--output-dir", str(folder)])
    assert code == 0
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["steps"] == 6 and metrics["cell"] == "gru" and metrics["eval_step"] == [2, 5]
    loaded = load_language_model(folder / "checkpoint.pt", device="cpu")
    assert loaded.settings.hidden_size == 12 and loaded.settings.corpus == "devils_dictionary"
    assert loaded.metrics["test_bpc"] == pytest.approx(metrics["test_bpc"])
    assert "test" in capsys.readouterr().out


def test_train_forecast_writes_checkpoint_and_metrics(tmp_path, capsys) -> None:
    folder = tmp_path / "fc"
    code = main(["train", "forecast", "--series", "nile", "--hidden-size", "6", "--steps", "8",
                 "--eval-every", "4", "--no-progress", "--device", "cpu",
                 "--output-dir", str(folder)])
    assert code == 0
    metrics = json.loads((folder / "metrics.json").read_text())
    assert set(metrics["errors"]) == {"naive", "seasonal naive", "Holt-Winters", "GRU"}
    assert metrics["steps"] == 8
    run = load_forecaster(folder / "checkpoint.pt", device="cpu")
    assert run.settings.series == "nile"
    assert "MASE" in capsys.readouterr().out


def test_bad_arguments_give_a_one_line_error(tmp_path, capsys) -> None:
    code = main(["train", "language", "--corpus", "no-such-book", "--steps", "1",
                 "--no-progress", "--output-dir", str(tmp_path)])
    assert code == 2
    assert "name must be one of" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", "language", "--cell", "transformer"])
    with pytest.raises(SystemExit):
        main(["train"])  # a kind is required


def test_bad_thread_count_gives_a_one_line_error(tmp_path, capsys) -> None:
    for command in ("train", "pretrain"):
        code = main([command, "language", "--threads", "0", "--no-progress"])
        assert code == 2
        assert f"rnncourse {command}: error: --threads" in capsys.readouterr().err


@pytest.mark.gpu
def test_train_language_on_cuda(tmp_path) -> None:
    code = main(["train", "language", "--steps", "2", "--eval-every", "1", "--hidden-size",
                 "8", "--max-characters", "3000", "--no-progress", "--device", "cuda",
                 "--output-dir", str(tmp_path)])
    assert code == 0
    assert load_language_model(tmp_path / "checkpoint.pt", device="cpu").model.device.type == "cpu"
