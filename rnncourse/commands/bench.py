"""`rnncourse bench`: time the course's LSTMs and minGRU scans side by side on this machine.

The work is done by `rnncourse.bench` (also `python -m rnncourse.bench`, same options); this
module only defines the options, so that building the command line does not import torch.
"""

from __future__ import annotations

import argparse

HELP = "time torch.nn.LSTM against the plain-loop, fused and compiled LSTMs, and minGRU scans"

# The same names as rnncourse.bench.LSTM_VARIANTS (a test checks they agree).
LSTM_VARIANTS = ("torch", "loop", "fused", "compiled")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", action="append", choices=["cpu", "cuda"], default=None,
                        help="device to measure (repeatable; default: cpu, and cuda if present)")
    lstm = parser.add_argument_group("LSTM section")
    lstm.add_argument("--seq-len", type=_positive, default=100, help="sequence length T (100)")
    lstm.add_argument("--batch-size", type=_positive, default=64, help="batch size B (64)")
    lstm.add_argument("--input-size", type=_positive, default=256, help="input size I (256)")
    lstm.add_argument("--hidden-size", type=_positive, default=256, help="hidden size H (256)")
    lstm.add_argument("--variants", nargs="*", choices=LSTM_VARIANTS, default=list(LSTM_VARIANTS),
                      help="implementations to time (give none to skip the section)")
    lstm.add_argument("--no-compile", action="store_true", help="leave out the compiled variant")
    lstm.add_argument("--compile-mode", default="default",
                      help="torch.compile mode, e.g. reduce-overhead (CUDA graphs) on a GPU")
    scan = parser.add_argument_group("minGRU section")
    scan.add_argument("--scan-lengths", nargs="*", type=_positive,
                      default=[256, 512, 1024, 2048, 4096],
                      help="sequence lengths (give none to skip the section)")
    scan.add_argument("--scan-batch-size", type=_positive, default=8, help="batch size (8)")
    scan.add_argument("--scan-hidden-size", type=_positive, default=64, help="width I = H (64)")
    parser.add_argument("--repeats", type=_positive, default=5,
                        help="timed runs per row, after one warm-up run (5; 3 at most for minGRU)")
    parser.add_argument("--threads", type=_positive, default=None,
                        help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--timer", choices=["wall", "cpu"], default="wall",
                        help="on CPUs, pick runs and ratios by wall-clock time (default) or by "
                             "CPU time, steadier on a shared machine (use with --threads 1)")
    parser.add_argument("--output", default=None, help="also save the table as .csv or .md")


def run(arguments: argparse.Namespace) -> int:
    from rnncourse.bench import format_markdown, run_benchmarks, write_report

    variants = [v for v in arguments.variants if not (arguments.no_compile and v == "compiled")]
    report = run_benchmarks(
        arguments.device,
        lstm={"seq_len": arguments.seq_len, "batch_size": arguments.batch_size,
              "input_size": arguments.input_size, "hidden_size": arguments.hidden_size,
              "variants": variants, "repeats": arguments.repeats,
              "compile_mode": arguments.compile_mode},
        min_gru={"lengths": arguments.scan_lengths, "batch_size": arguments.scan_batch_size,
                 "hidden_size": arguments.scan_hidden_size,
                 "repeats": min(arguments.repeats, 3)},
        threads=arguments.threads,
        timer=arguments.timer,
    )
    print(format_markdown(report))
    if arguments.output:
        print(f"saved {write_report(report, arguments.output)}")
    return 0
