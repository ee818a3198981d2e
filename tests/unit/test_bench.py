"""`rnncourse bench`: the harness runs end to end at tiny sizes and reports what it measured.

No test here asserts a speed: the machines are shared and noisy. They check that every number
the benchmark prints is computed from what it measured, and that it says how and where."""

from __future__ import annotations

import csv
import subprocess
import sys

import pytest
import torch

# The fused LSTM tests' fixture: its compiled kernels forgotten before and after a test.
from test_fused_lstm import fresh_kernels  # noqa: F401 (a fixture)

from rnncourse import bench
from rnncourse.bench.lstm import _torch_kernel
from rnncourse.bench.lstm_profile import _category
from rnncourse.cli import main as cli_main
from rnncourse.commands import bench as bench_command
from rnncourse.models.kernels import onednn_matmul_available

TINY = {"seq_len": 4, "batch_size": 2, "input_size": 3, "hidden_size": 5, "repeats": 1}
TINY_GEMM = {"torch": 10.0}


def test_lstm_rows_give_time_ratio_rate_share_of_gemm_and_kernels() -> None:
    rows = bench.bench_lstm(**TINY, variants=("torch", "loop", "fused"), device="cpu",
                            timer="cpu", gemm=TINY_GEMM)
    assert [row.name for row in rows] == [bench.LSTM_LABELS[v] for v in ("torch", "loop", "fused")]
    assert rows[0].ratio == 1.0
    flops = bench.lstm_flops(4, 2, 3, 5)
    assert flops == 24 * 4 * 2 * 5 * (3 + 5)
    for row in rows:
        assert row.wall_ms > 0 and row.cpu_ms >= 0 and row.ratio > 0
        assert row.gflops == pytest.approx(flops / (row.cpu_ms * 1e-3) / 1e9)
        assert row.gemm_percent == pytest.approx(100 * row.gflops / 10.0)
    assert rows[0].path in ("oneDNN", "ATen")
    assert rows[2].path.endswith("eager element-wise")


def test_gemm_reference_is_the_higher_of_alone_and_among_the_lstms(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The reference the LSTMs' rates are shares of: timed on its own and among the runs, the
    higher kept (the harder one to come close to); the runs' timings come back without it."""
    from rnncourse.bench import lstm as lstm_bench

    sizes = {"seq_len": 4, "batch_size": 2, "input_size": 3, "hidden_size": 5}
    calls = []
    runs = {"work": lambda: calls.append(1)}
    monkeypatch.setattr(lstm_bench, "gemm_rates", lambda **_: {"torch": 1e9, "onednn": 1e9})
    timings, gemm = lstm_bench.time_with_gemm_reference(runs, sizes, repeats=2, timer="cpu")
    assert set(timings) == {"work"} and len(calls) == 3  # one warm-up, two timed
    assert all(rate == 1e9 for rate in gemm.values())  # alone was higher
    monkeypatch.setattr(lstm_bench, "gemm_rates", lambda **_: {"torch": 0.0, "onednn": 0.0})
    _, among = lstm_bench.time_with_gemm_reference(runs, sizes, repeats=2, timer="cpu")
    assert all(0 < rate < 1e9 for rate in among.values())  # among the runs was higher


def test_gemm_reference_is_timed_in_the_rounds_of_the_lstms() -> None:
    """Given none (or an empty dict, which receives them), the GEMM rates are measured (alone
    and among the variants), and an empty dict receives them."""
    measured: dict[str, float] = {}
    rows = bench.bench_lstm(**TINY, variants=("torch", "fused_c"), device="cpu", timer="cpu",
                            gemm=measured)
    assert set(measured) >= {"torch"} and all(rate > 0 for rate in measured.values())
    for row in rows:
        assert row.gemm_percent == pytest.approx(100 * row.gflops / max(measured.values()))
    assert rows[1].name == "rnncourse FusedLSTM, C element-wise"
    assert rows[1].path.endswith("C element-wise") and "first call" in rows[1].note
    assert bench.bench_lstm(**TINY, variants=("torch",), device="cpu")[0].gemm_percent > 0


def test_gemm_rates_name_each_kernel_measured() -> None:
    rates = bench.gemm_rates(4, 2, 3, 5, repeats=1)
    assert set(rates) == ({"torch", "onednn"} if onednn_matmul_available(torch.ones(1))
                          else {"torch"})
    assert all(rate > 0 for rate in rates.values())
    with pytest.raises(ValueError, match="kernel"):
        bench.matmul_gflops(4, 4, 4, kernel="blas")


@pytest.mark.usefixtures("fresh_kernels")
def test_a_failing_compile_becomes_a_row_or_an_eager_fallback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken_compile(*args, **kwargs):
        raise RuntimeError("no C++ compiler here")

    monkeypatch.setattr(torch, "compile", broken_compile)
    rows = bench.bench_lstm(**TINY, variants=("loop", "compiled", "fused_compiled"),
                            device="cpu", gemm=TINY_GEMM)
    assert [row.name for row in rows] == [bench.LSTM_LABELS[v]
                                          for v in ("loop", "compiled", "fused_compiled")]
    assert rows[1].wall_ms is None and "no C++ compiler here" in rows[1].note
    # The fused LSTM's compiled kernels fall back to eager ones, and the row says so.
    assert rows[2].wall_ms > 0 and "eager element-wise" in rows[2].path
    assert "compiling failed" in rows[2].path and "no C++ compiler here" in rows[2].path


def test_scan_sections_give_speed_ups_over_the_loop() -> None:
    rows = bench.bench_min_gru((8, 16), batch_size=2, hidden_size=3, repeats=1, device="cpu",
                               timer="cpu")
    modes = bench.EAGER_SCAN_MODES
    assert [(row.seq_len, row.name) for row in rows] == [
        (length, bench.SCAN_LABELS[mode]) for length in (8, 16) for mode in modes]
    assert all(row.ratio == 1.0 for row in rows if row.name == bench.SCAN_LABELS["sequential"])
    recurrence = bench.bench_recurrence((40,), 1, 4, repeats=1, timer="cpu")
    assert {row.section for row in recurrence} == {"recurrence"}
    assert [row.name for row in recurrence] == [
        *(bench.SCAN_LABELS[mode] for mode in modes), bench.MEMORY_FLOOR_LABEL]
    assert all(row.ratio > 0 for row in recurrence)
    assert len(bench.bench_recurrence((40,), 1, 4, repeats=1, floor=False)) == len(modes)
    with pytest.raises(ValueError, match="modes"):
        bench.bench_min_gru((8,), modes=("parallel",))


def test_speed_up_sweeps_and_their_crossover() -> None:
    sweep = bench.scan_speedup_by_width(((1, 2), (2, 2)), seq_len=24, repeats=1, timer="cpu",
                                        modes=("chunked_scan",))
    assert sweep.axis == "width" and sweep.values == [2, 4] and sweep.fixed == {"seq_len": 24}
    assert len(sweep.speedup["chunked_scan"]) == 2 and len(sweep.loop_ms) == 2
    assert len(sweep.ceiling) == 2 and all(ceiling > 0 for ceiling in sweep.ceiling)
    ratios = [loop / floor for loop, floor in zip(sweep.loop_ms, sweep.floor_ms, strict=True)]
    assert ratios == pytest.approx(sweep.ceiling)  # timed by CPU time, as the ceiling is
    by_length = bench.scan_speedup_by_length((8, 24), 1, 2, level="layer", repeats=1,
                                             modes=("blocked_scan",))
    assert by_length.values == [8, 24] and by_length.level == "layer"
    assert by_length.ceiling == [] and by_length.floor_ms == []  # the layer has no floor
    # The crossover: where the speed-up falls through 1, on a log scale between two points.
    synthetic = bench.ScanSweep("width", [32, 512, 8192], {"scan": [20.0, 4.0, 0.25]},
                                [1.0] * 3, "recurrence")
    assert synthetic.crossover("scan") == pytest.approx(512 * 16 ** 0.5)
    never = bench.ScanSweep("width", [32, 512], {"scan": [20.0, 4.0]}, [1.0] * 2, "layer")
    assert never.crossover("scan") is None
    rising = bench.ScanSweep("seq_len", [64, 256], {"scan": [0.5, 2.0]}, [1.0] * 2, "layer")
    assert rising.crossover("scan") == pytest.approx(128)
    with pytest.raises(ValueError, match="level"):
        bench.scan_speedup_by_length((8,), level="model")


def test_memory_floor_moves_the_recurrences_arrays_and_leaves_them_alone() -> None:
    generator = torch.Generator().manual_seed(0)
    a, b, grad = (torch.rand(6, 3, generator=generator) for _ in range(3))
    copies = [tensor.clone() for tensor in (a, b, grad)]
    out = bench.floor_outputs(grad)
    allocated = []

    class Counting(torch.utils._python_dispatch.TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            result = func(*args, **(kwargs or {}))
            allocated.append(tuple(result.shape))
            written_to.append(result)
            return result

    written_to = []
    with Counting():
        bench.memory_floor_pass(a, b, grad, out)
    # Three arrays of the recurrence's size written (h and two gradients) into the arrays
    # given, none allocated; inputs unchanged.
    assert allocated == [(6, 3)] * 3
    assert all(result is written for result, written in zip(written_to, out, strict=True))
    assert torch.equal(out[0], a + b) and torch.allclose(out[1], grad + a * (a + b))
    assert all(torch.equal(x, y) for x, y in zip((a, b, grad), copies, strict=True))


def test_time_interleaved_takes_turns_and_picks_the_fastest_run_by_its_timer() -> None:
    calls = []
    timings = bench.time_interleaved({"a": lambda: calls.append("a"),
                                      "b": lambda: calls.append("b")},
                                     repeats=3, warmup=1, timer="cpu")
    assert calls == ["a", "b"] + ["a", "b"] * 3
    assert timings["a"].timer == "cpu" and timings["a"].ms == timings["a"].cpu_ms
    timing = bench.time_call(lambda: None, repeats=2, warmup=0)
    assert timing.repeats == 2 and timing.ms == timing.wall_ms
    assert bench.resolve_timer("cpu", "cuda") == bench.resolve_timer("cpu", "mps") == "wall"
    with pytest.raises(ValueError, match="timer"):
        bench.time_call(lambda: None, timer="gpu")


@pytest.mark.parametrize("device", ["cuda", "mps"])
def test_timing_on_a_gpu_waits_for_its_queued_work(monkeypatch: pytest.MonkeyPatch,
                                                   device: str) -> None:
    """A GPU runs its kernels after the call returns: the clock is read after synchronising the
    device, once before the timed calls and after each (the device's synchronize recorded)."""
    from rnncourse.bench import timing

    events = []
    monkeypatch.setattr(timing, "synchronize", lambda on: events.append(("sync", str(on))))
    result = bench.time_call(lambda: events.append("run"), device=device, repeats=2, warmup=1,
                             timer="cpu")
    assert events == ["run", ("sync", device), "run", ("sync", device), "run", ("sync", device)]
    assert result.timer == "wall"


def test_report_names_device_torch_version_date_gemm_and_settings(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    report = bench.run_benchmarks(["cpu"], lstm={**TINY, "variants": ["torch", "fused"]},
                                  recurrence={"lengths": [40], "shapes": [(1, 4)],
                                              "repeats": 1},
                                  min_gru={"lengths": [8], "batch_size": 2, "hidden_size": 3,
                                           "repeats": 1})
    text = bench.format_markdown(report)
    assert torch.__version__ in text and report.devices["cpu"] in text and report.date in text
    assert "ONEDNN_MAX_CPU_ISA=AVX2" in text and "GEMM rate on cpu" in text
    assert "rnncourse FusedLSTM" in text and "minGRU chunked scan" in text
    assert "alone (a, b given)" in text and "minGRU layer" in text
    assert set(report.gemm["cpu"]) >= {"torch"}
    saved = bench.write_report(report, tmp_path / "bench.csv")
    with saved.open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(report.rows)
    assert rows[0]["torch_version"] == torch.__version__ and rows[0]["device_name"]
    assert rows[0]["gflops"] and rows[0]["path"]
    assert bench.write_report(report, tmp_path / "bench.md").read_text() == text


def test_command_line_runs_and_saves(tmp_path, capsys: pytest.CaptureFixture) -> None:
    output = tmp_path / "table.md"
    code = cli_main(["bench", "--device", "cpu", "--seq-len", "3", "--batch-size", "2",
                     "--input-size", "2", "--hidden-size", "3", "--variants", "torch", "fused",
                     "--scan-lengths", "8", "--recurrence-shapes", "1x2", "--scan-batch-size",
                     "2", "--scan-hidden-size", "2", "--no-compile", "--repeats", "1",
                     "--timer", "cpu", "--output", str(output)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "torch.nn.LSTM" in printed and "% of GEMM" in printed and output.is_file()
    assert "compiled" not in output.read_text().split("**LSTM")[1]
    assert bench_command.LSTM_VARIANTS == bench.LSTM_VARIANTS
    assert bench_command.SCAN_MODES == bench.SCAN_MODES
    with pytest.raises(SystemExit):
        cli_main(["bench", "--recurrence-shapes", "8by64"])


def test_module_entry_point_and_no_import_cycle() -> None:
    """`python -m rnncourse.bench` is the command line; the package itself never imports it."""
    help_text = subprocess.run([sys.executable, "-m", "rnncourse.bench", "--help"],
                               capture_output=True, text=True, check=True).stdout
    assert "--recurrence-shapes" in help_text
    code = ("import sys, rnncourse.bench; "
            "print(any(name.startswith('rnncourse.commands') for name in sys.modules))")
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              check=True).stdout.strip()
    assert imported == "False"




def test_profile_splits_each_variant_and_says_what_each_change_saved() -> None:
    profile = bench.profile_lstm(6, 3, 4, 5, variants=("loop", "fused_torch", "fused", "torch"),
                                 repeats=2)
    assert [row.variant for row in profile.rows] == ["loop", "fused_torch", "fused", "torch"]
    for row in profile.rows:
        parts = row.matmul_ms + row.elementwise_ms + row.fused_ms + row.overhead_ms
        assert min(row.matmul_ms, row.elementwise_ms, row.fused_ms, row.overhead_ms) >= 0
        assert parts == pytest.approx(max(row.total_ms, parts))
        assert row.operations > 0 and row.gflops > 0
    loop, fused = profile.row("loop"), profile.row("fused_torch")
    assert loop.matmul_ms > 0 and loop.fused_ms == 0
    if profile.row("torch").name.startswith("torch.nn.LSTM") and torch.backends.mkldnn.enabled:
        assert profile.row("torch").fused_ms > 0
    sentences = bench.describe_savings(profile)
    assert 0 < profile.cpu_share <= 1
    assert len(sentences) == 3 + (profile.cpu_share < 0.8)
    saved = loop.total_ms - fused.total_ms
    assert f"{abs(saved):.0f} ms" in sentences[0]
    assert f"operations {loop.operations} → {fused.operations}" in sentences[0]
    assert "torch.nn.LSTM" in sentences[2] and "GEMM rate" in sentences[2]
    with pytest.raises(KeyError, match="profiled"):
        profile.row("fused_compiled")
    # The C step's calls are element-wise work, one operation each.
    in_c = bench.profile_lstm(6, 3, 4, 5, variants=("fused", "fused_c"), repeats=2)
    assert in_c.row("fused_c").name.endswith("C element-wise")
    assert in_c.row("fused_c").elementwise_ms > 0
    assert in_c.row("fused_c").operations < in_c.row("fused").operations
    with pytest.raises(ValueError, match="variants"):
        bench.profile_lstm(variants=("fastest",))


def test_profile_runs_on_the_cpu_whatever_the_default_device(default_device_elsewhere) -> None:
    """It measures CPU time: where a GPU is the default device it still profiles the CPU, and it
    refuses any other device asked for by name."""
    for device in ("cpu", None):
        profile = bench.profile_lstm(4, 2, 3, 3, variants=("fused",), repeats=1, device=device)
        assert profile.row("fused").total_ms > 0
    with pytest.raises(ValueError, match="runs on the CPU"):
        bench.profile_lstm(4, 2, 3, 3, variants=("fused",), device=default_device_elsewhere)


def test_profile_categories() -> None:
    assert _category("aten::mm") == "matmul" and _category("mkldnn::_linear_pointwise") == "matmul"
    assert _category("aten::mkldnn_rnn_layer") == "fused"
    assert _category("aten::sigmoid") == "elementwise" and _category("aten::view") == "overhead"
    assert _category("FusedLSTMFunctionBackward") == "overhead"
    assert _category("rnncourse: compiled element-wise kernel") == "elementwise"
    assert _category("TorchDynamo Cache Lookup") == "overhead"


def test_a_gpu_report_says_whether_its_float32_products_ran_in_tf32() -> None:
    """Read from torch's switches, which CPU builds have too: cuDNN's TF32 (on by default) and
    cuBLAS's (off by default) decide whether torch.nn.LSTM and the other variants compute alike."""
    assert bench.float32_arithmetic("cpu") == ""
    cudnn, cublas = torch.backends.cudnn, torch.backends.cuda.matmul
    saved = cudnn.allow_tf32, cublas.allow_tf32
    try:
        cudnn.allow_tf32, cublas.allow_tf32 = True, False  # torch's defaults
        assert bench.float32_arithmetic("cuda") == (
            "cuDNN's LSTM (torch.nn.LSTM) in TF32, cuBLAS products (the other variants) in full "
            "float32: not the same arithmetic")
        cudnn.allow_tf32 = False
        assert bench.float32_arithmetic("cuda") == (
            "cuDNN's LSTM (torch.nn.LSTM) in full float32, cuBLAS products (the other variants) "
            "in full float32")
    finally:
        cudnn.allow_tf32, cublas.allow_tf32 = saved
    report = bench.BenchReport([], {"cuda": "a GPU"}, "2.x", 1, "today",
                               float32={"cuda": "cuDNN's LSTM in TF32"})
    assert "Float32 on cuda: cuDNN's LSTM in TF32." in bench.format_markdown(report)


@pytest.mark.gpu
def test_gpu_table_fused_against_cudnn_and_scans() -> None:
    """What part 5's table runs: fused against cuDNN at H = 512, and the scans, on CUDA."""
    report = bench.run_benchmarks(
        ["cuda"], lstm={"seq_len": 20, "batch_size": 8, "input_size": 512, "hidden_size": 512,
                        "variants": ["torch", "loop", "fused"], "repeats": 2},
        recurrence={"lengths": [256], "shapes": [(8, 64)], "repeats": 1},
        min_gru={"lengths": [256], "repeats": 1})
    text = bench.format_markdown(report)
    assert torch.cuda.get_device_name() in text and "cuDNN" in text
    assert f"Float32 on cuda: {bench.float32_arithmetic('cuda')}." in text
    assert all(row.wall_ms > 0 for row in report.rows)


def test_the_torch_rows_kernel_on_a_gpu_says_whether_cudnn_ran(monkeypatch) -> None:
    monkeypatch.setattr(torch.backends.cudnn, "is_available", lambda: True)
    monkeypatch.setattr(torch.backends.cudnn, "enabled", True)
    assert _torch_kernel(torch.device("cuda")) == "cuDNN"
    monkeypatch.setattr(torch.backends.cudnn, "enabled", False)
    assert _torch_kernel(torch.device("cuda")) == "ATen (cuDNN off)"
