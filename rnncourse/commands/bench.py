"""`rnncourse bench`: time the course's LSTMs and minGRU scans side by side on this machine.

The work is done by the `rnncourse.bench` package (also `python -m rnncourse.bench`, same
options); this module only defines the options, so that building the command line does not
import torch.

    rnncourse bench --threads 1 --timer cpu            # steady numbers on a shared CPU
    rnncourse bench --device cuda --input-size 512 --hidden-size 512 --scan-lengths 4096 \\
        --output gpu.md                                # fused vs cuDNN at H=512, scans at T=4096
"""

from __future__ import annotations

import argparse

HELP = ("time torch.nn.LSTM against the plain-loop, fused and compiled LSTMs, and minGRU's loop "
        "against its scans")

# The same names as rnncourse.bench.LSTM_VARIANTS and SCAN_MODES (a test checks they agree).
LSTM_VARIANTS = ("torch", "loop", "fused", "fused_compiled", "fused_c", "compiled")
SCAN_MODES = ("sequential", "log_scan", "blocked_scan", "chunked_scan", "kernel_scan",
              "chunked_scan_compiled")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def _shape(text: str) -> tuple[int, int]:
    """"8x64" -> (8, 64): a batch size and a hidden size."""
    try:
        batch, hidden = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected BxH such as 8x64, got {text!r}") from None
    if batch < 1 or hidden < 1:
        raise argparse.ArgumentTypeError(f"expected positive sizes in BxH, got {text!r}")
    return batch, hidden


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
    lstm.add_argument("--no-compile", action="store_true",
                      help="leave out every torch.compile variant (LSTM and scans)")
    lstm.add_argument("--compile-mode", default="default",
                      help="torch.compile mode of the compiled loop, e.g. reduce-overhead on a GPU")
    scan = parser.add_argument_group("minGRU sections")
    scan.add_argument("--scan-lengths", nargs="*", type=_positive, default=[256, 1024, 4096],
                      help="sequence lengths (give none to skip both sections)")
    scan.add_argument("--scan-modes", nargs="*", choices=SCAN_MODES, default=list(SCAN_MODES),
                      help="the loop and the scans to time")
    scan.add_argument("--recurrence-shapes", nargs="*", type=_shape,
                      default=[(1, 32), (8, 64), (64, 256)],
                      help="BxH of the recurrence alone (give none to skip that section)")
    scan.add_argument("--scan-batch-size", type=_positive, default=8,
                      help="batch size of the whole minGRU layer (8)")
    scan.add_argument("--scan-hidden-size", type=_positive, default=64,
                      help="width I = H of the whole minGRU layer (64)")
    scan.add_argument("--no-layer", action="store_true", help="skip the whole-layer section")
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

    def keep(name: str) -> bool:
        return not (arguments.no_compile and "compiled" in name)

    scan_modes = [mode for mode in arguments.scan_modes if keep(mode)]
    lengths = arguments.scan_lengths
    report = run_benchmarks(
        arguments.device,
        lstm={"seq_len": arguments.seq_len, "batch_size": arguments.batch_size,
              "input_size": arguments.input_size, "hidden_size": arguments.hidden_size,
              "variants": [v for v in arguments.variants if keep(v)],
              "repeats": arguments.repeats, "compile_mode": arguments.compile_mode},
        recurrence={"lengths": lengths if arguments.recurrence_shapes else [],
                    "shapes": arguments.recurrence_shapes, "modes": scan_modes,
                    "repeats": min(arguments.repeats, 3)},
        min_gru={"lengths": [] if arguments.no_layer else lengths,
                 "batch_size": arguments.scan_batch_size,
                 "hidden_size": arguments.scan_hidden_size, "modes": scan_modes,
                 "repeats": min(arguments.repeats, 3)},
        threads=arguments.threads,
        timer=arguments.timer,
    )
    print(format_markdown(report))
    if arguments.output:
        print(f"saved {write_report(report, arguments.output)}")
    return 0
