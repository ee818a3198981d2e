"""`rnncourse pretrain language`: pretrain chapter 5's character language model on a corpus.

    rnncourse pretrain language --corpus kjv --steps 20000 \\
        --output book/checkpoints/ch05-char-lm-kjv.pt

The model reads a fixed ASCII alphabet, so that it can later be fine-tuned on any other corpus.
Training is chapter 6's (truncated BPTT, clipping, learning rate halved on plateaus, early
stopping on validation bits per character). The checkpoint stores float16 weights (small enough
to ship with the book), the settings, the metrics, the command line, and `verify_bpc`: the bpc
of the weights as stored on the start of the test part, which the chapter recomputes.
"""

from __future__ import annotations

import argparse
import shlex

from rnncourse.commands.training_options import add_runtime_options, run_training

HELP = "pretrain chapter 5's character language model (a small float16 checkpoint)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    kinds = parser.add_subparsers(dest="kind", metavar="KIND", required=True)
    language = kinds.add_parser(
        "language", help="a character-level LSTM language model on a shipped corpus",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    language.add_argument("--corpus", default="kjv",
                          help="a corpus of rnncourse.data.text.available_corpora()")
    language.add_argument("--cell", default="lstm", choices=["lstm", "gru"])
    language.add_argument("--embedding-dim", type=int, default=32)
    language.add_argument("--hidden-size", type=int, default=96)
    language.add_argument("--num-layers", type=int, default=2)
    language.add_argument("--batch-size", type=int, default=32)
    language.add_argument("--seq-len", type=int, default=64, help="truncated-BPTT length T")
    language.add_argument("--lr", type=float, default=3e-3)
    language.add_argument("--steps", type=int, default=20_000, help="most optimiser steps")
    language.add_argument("--eval-every", type=int, default=500)
    language.add_argument("--eval-characters", type=int, default=100_000,
                          help="validate on the first characters of the validation part")
    language.add_argument("--patience", type=int, default=4,
                          help="evaluations without improvement before stopping")
    language.add_argument("--verify-characters", type=int, default=50_000,
                          help="test characters the chapter re-scores the checkpoint on")
    language.add_argument("--output", default="book/checkpoints/ch05-char-lm-kjv.pt")
    add_runtime_options(language)


def command_line(arguments: argparse.Namespace) -> str:
    """The command with every option spelt out, as the checkpoint records it."""
    options = ["corpus", "cell", "embedding_dim", "hidden_size", "num_layers", "batch_size",
               "seq_len", "lr", "steps", "eval_every", "eval_characters", "patience",
               "verify_characters", "seed", "output"]
    words = ["rnncourse", "pretrain", "language"]
    for name in options:
        words += ["--" + name.replace("_", "-"), str(getattr(arguments, name))]
    return shlex.join(words)


def run(arguments: argparse.Namespace) -> int:
    return run_training("pretrain", arguments, _pretrain)


def _pretrain(arguments: argparse.Namespace) -> int:
    from rnncourse.training.language.pretraining import pretrain_language_model, save_pretrained

    run_, metrics = pretrain_language_model(
        arguments.corpus, verify_characters=arguments.verify_characters,
        device=arguments.device, progress=arguments.progress, cell=arguments.cell,
        embedding_dim=arguments.embedding_dim, hidden_size=arguments.hidden_size,
        num_layers=arguments.num_layers, batch_size=arguments.batch_size,
        seq_len=arguments.seq_len, lr=arguments.lr, max_steps=arguments.steps,
        eval_every=arguments.eval_every, eval_characters=arguments.eval_characters,
        patience=arguments.patience, seed=arguments.seed,
    )
    metrics["command"] = command_line(arguments)
    path = save_pretrained(arguments.output, run_, metrics)
    print(f"{arguments.cell} on {arguments.corpus}: {metrics['parameters']:,} parameters, "
          f"{metrics['steps']} steps in {metrics['seconds']:.0f} s, best validation "
          f"{metrics['best_valid_bpc']:.3f} bpc, test {metrics['test_bpc']:.3f} bpc, "
          f"verify {metrics['verify_bpc']:.4f} bpc on {arguments.verify_characters:,} characters")
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")
    return 0
