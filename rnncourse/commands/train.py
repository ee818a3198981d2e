"""`rnncourse train language|forecast`: train chapter 6's models with the chapter's own code.

    rnncourse train language --corpus pride_and_prejudice --cell lstm --steps 4000
    rnncourse train forecast --series co2 --cell gru --device cuda

Each run writes `checkpoint.pt` (loads on any device) and `metrics.json` into `--output-dir`
(default `runs/<kind>-<name>-<cell>`), and shows a progress bar in a terminal. The defaults are
larger than the book's page can afford; the page's settings are the library's defaults.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rnncourse.commands.training_options import add_runtime_options, run_training

HELP = "train chapter 6's character language model or forecaster (checkpoint + metrics.json)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    kinds = parser.add_subparsers(dest="kind", metavar="KIND", required=True)

    language = kinds.add_parser(
        "language", help="a character-level language model on a shipped corpus",
        description="Truncated BPTT, clipping, learning rate halved on a plateau, early "
                    "stopping on validation bits per character.")
    language.add_argument("--corpus", default="pride_and_prejudice",
                          help="a corpus of rnncourse.data.text.available_corpora()")
    language.add_argument("--cell", default="lstm", choices=["lstm", "gru", "rnn_tanh", "rnn_relu"])
    language.add_argument("--embedding-dim", type=int, default=32)
    language.add_argument("--hidden-size", type=int, default=128)
    language.add_argument("--num-layers", type=int, default=1)
    language.add_argument("--dropout", type=float, default=0.0)
    language.add_argument("--forget-bias", type=float, default=None,
                          help="initial forget-gate bias of an LSTM, e.g. 1 (default: torch's)")
    language.add_argument("--batch-size", type=int, default=32)
    language.add_argument("--seq-len", type=int, default=64, help="truncated-BPTT length T")
    language.add_argument("--lr", type=float, default=3e-3)
    language.add_argument("--clip-norm", type=float, default=1.0)
    language.add_argument("--steps", type=int, default=4000, help="most optimiser steps")
    language.add_argument("--eval-every", type=int, default=250)
    language.add_argument("--patience", type=int, default=4,
                          help="evaluations without improvement before stopping")
    language.add_argument("--lr-decay", type=float, default=0.5)
    language.add_argument("--max-characters", type=int, default=None,
                          help="use only the corpus's first characters")
    language.add_argument("--eval-characters", type=int, default=None,
                          help="validate on the first characters of the validation part only")
    language.add_argument("--half", action="store_true",
                          help="store float16 weights (half the size; the book's checkpoints)")
    _add_common(language)

    forecast = kinds.add_parser(
        "forecast", help="a recurrent multi-step forecaster on a real series",
        description="Windows without leaks, scaling fitted on the training period, early "
                    "stopping on the validation period; errors against naive, seasonal-naive "
                    "and exponential-smoothing forecasts on the held-out period.")
    forecast.add_argument("--series", default="co2",
                          help="a series of rnncourse.data.timeseries.available_series()")
    forecast.add_argument("--cell", default="gru", choices=["lstm", "gru", "rnn_tanh"])
    forecast.add_argument("--input-length", type=int, default=None,
                          help="input window L (default: 3 seasons)")
    forecast.add_argument("--horizon", type=int, default=None,
                          help="steps forecast at once H (default: 2 seasons)")
    forecast.add_argument("--hidden-size", type=int, default=64)
    forecast.add_argument("--num-layers", type=int, default=1)
    forecast.add_argument("--batch-size", type=int, default=32)
    forecast.add_argument("--lr", type=float, default=3e-3)
    forecast.add_argument("--clip-norm", type=float, default=1.0)
    forecast.add_argument("--steps", type=int, default=2000)
    forecast.add_argument("--eval-every", type=int, default=50)
    forecast.add_argument("--patience", type=int, default=10)
    _add_common(forecast)


def _add_common(parser: argparse.ArgumentParser) -> None:
    add_runtime_options(parser)
    parser.add_argument("--output-dir", default=None,
                        help="where checkpoint.pt and metrics.json go (default: runs/...)")


def _write_metrics(folder: Path, metrics: dict[str, Any]) -> Path:
    path = folder / "metrics.json"
    path.write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    return path


def _train_language(arguments: argparse.Namespace) -> int:
    from rnncourse.training.language.checkpoints import round_weights_to_half, save_language_model
    from rnncourse.training.language.corpus import prepare_corpus
    from rnncourse.training.language.metrics import evaluate_bits_per_character
    from rnncourse.training.language.train import LanguageModelSettings, train_language_model

    settings = LanguageModelSettings(
        corpus=arguments.corpus, cell=arguments.cell, embedding_dim=arguments.embedding_dim,
        hidden_size=arguments.hidden_size, num_layers=arguments.num_layers,
        dropout=arguments.dropout, forget_bias=arguments.forget_bias,
        batch_size=arguments.batch_size, seq_len=arguments.seq_len,
        lr=arguments.lr, clip_norm=arguments.clip_norm, max_steps=arguments.steps,
        eval_every=arguments.eval_every, patience=arguments.patience,
        lr_decay=arguments.lr_decay, max_characters=arguments.max_characters,
        eval_characters=arguments.eval_characters, seed=arguments.seed,
    )
    folder = Path(arguments.output_dir or f"runs/language-{arguments.corpus}-{arguments.cell}")
    splits = prepare_corpus(settings.corpus, max_characters=settings.max_characters)
    run = train_language_model(settings, splits=splits, device=arguments.device,
                               progress=arguments.progress)
    metrics = run.metrics()
    if arguments.half:  # score the weights as stored, so the file's numbers are the file's
        round_weights_to_half(run.model)
        metrics["test_bpc"] = evaluate_bits_per_character(run.model, splits.test)
        metrics["best_valid_bpc"] = evaluate_bits_per_character(
            run.model, splits.valid[: settings.eval_characters or None])
    # The checkpoint keeps the summary; the per-step curve goes to metrics.json only.
    summary = {k: v for k, v in metrics.items() if k != "train_bpc"}
    checkpoint = save_language_model(folder / "checkpoint.pt", run.model, run.vocabulary,
                                     settings, summary, half=arguments.half)
    metrics_path = _write_metrics(folder, metrics)
    print(f"{settings.cell} on {settings.corpus}: {metrics['parameters']:,} parameters, "
          f"{metrics['steps']} steps in {metrics['seconds']:.0f} s, best validation "
          f"{metrics['best_valid_bpc']:.3f} bpc at step {metrics['best_step']}, "
          f"test {metrics['test_bpc']:.3f} bpc")
    print(f"wrote {checkpoint} and {metrics_path}")
    return 0


def _train_forecast(arguments: argparse.Namespace) -> int:
    from rnncourse.training.forecasting.checkpoints import save_forecaster
    from rnncourse.training.forecasting.study import run_forecasting_study
    from rnncourse.training.forecasting.train import ForecastSettings

    overrides = {"input_length": arguments.input_length, "horizon": arguments.horizon}
    settings = ForecastSettings(
        series=arguments.series, cell=arguments.cell, hidden_size=arguments.hidden_size,
        num_layers=arguments.num_layers, batch_size=arguments.batch_size, lr=arguments.lr,
        clip_norm=arguments.clip_norm, max_steps=arguments.steps,
        eval_every=arguments.eval_every, patience=arguments.patience, seed=arguments.seed,
        **{name: value for name, value in overrides.items() if value is not None},
    )
    folder = Path(arguments.output_dir or f"runs/forecast-{arguments.series}-{arguments.cell}")
    study = run_forecasting_study(settings, device=arguments.device, progress=arguments.progress)
    checkpoint = save_forecaster(folder / "checkpoint.pt", study.run)
    metrics = study.metrics()
    metrics_path = _write_metrics(folder, metrics)
    for method, errors in metrics["errors"].items():
        print(f"{method:>24}: MAE {errors['mae']:.3f}  RMSE {errors['rmse']:.3f}  "
              f"MASE {errors['mase']:.3f}")
    print(f"wrote {checkpoint} and {metrics_path}")
    return 0


def run(arguments: argparse.Namespace) -> int:
    train = _train_language if arguments.kind == "language" else _train_forecast
    return run_training("train", arguments, train)
