"""`rnncourse bench`: the harness runs end to end at tiny sizes and reports what it measured."""

from __future__ import annotations

import csv

import pytest
import torch

from rnncourse import bench
from rnncourse.cli import main as cli_main
from rnncourse.commands import bench as bench_command

TINY = {"seq_len": 4, "batch_size": 2, "input_size": 3, "hidden_size": 5, "repeats": 1}


def test_lstm_section_times_every_variant_against_torch() -> None:
    rows = bench.bench_lstm(**TINY, variants=("torch", "loop", "fused"), device="cpu")
    assert [row.name for row in rows] == [bench.LSTM_LABELS[v] for v in ("torch", "loop", "fused")]
    assert rows[0].ratio == 1.0
    assert all(row.wall_ms > 0 and row.cpu_ms >= 0 and row.ratio > 0 for row in rows)
    assert all((row.seq_len, row.batch_size, row.hidden_size) == (4, 2, 5) for row in rows)


def test_a_failing_compile_becomes_a_row(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_compile(*args, **kwargs):
        raise RuntimeError("no C++ compiler here")

    monkeypatch.setattr(torch, "compile", broken_compile)
    rows = bench.bench_lstm(**TINY, variants=("loop", "compiled"), device="cpu")
    assert [row.name for row in rows] == [bench.LSTM_LABELS["loop"], bench.LSTM_LABELS["compiled"]]
    assert rows[1].wall_ms is None and "no C++ compiler here" in rows[1].note


def test_min_gru_section_gives_speed_ups_over_the_loop() -> None:
    rows = bench.bench_min_gru((8, 16), batch_size=2, hidden_size=3, repeats=1, device="cpu",
                               timer="cpu")
    assert len(rows) == 6 and {row.seq_len for row in rows} == {8, 16}
    assert all(row.ratio == 1.0 for row in rows if row.name == bench.SCAN_LABELS["sequential"])
    with pytest.raises(ValueError, match="modes"):
        bench.bench_min_gru((8,), modes=("parallel",))


def test_time_call_picks_the_fastest_run_by_its_timer() -> None:
    calls = []
    timing = bench.time_call(lambda: calls.append(1), repeats=3, warmup=2, timer="cpu")
    assert len(calls) == 5 and timing.timer == "cpu" and timing.ms == timing.cpu_ms
    assert bench.resolve_timer("cpu", "cuda") == "wall"
    with pytest.raises(ValueError, match="timer"):
        bench.time_call(lambda: None, timer="gpu")


def test_report_names_device_torch_version_and_date(tmp_path) -> None:
    report = bench.run_benchmarks(["cpu"], lstm={**TINY, "variants": ["torch", "fused"]},
                                  min_gru={"lengths": [8], "batch_size": 2, "hidden_size": 3,
                                           "repeats": 1})
    text = bench.format_markdown(report)
    assert torch.__version__ in text and report.devices["cpu"] in text and report.date in text
    assert "rnncourse FusedLSTM" in text and "minGRU blocked scan" in text
    saved = bench.write_report(report, tmp_path / "bench.csv")
    with saved.open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(report.rows)
    assert rows[0]["torch_version"] == torch.__version__ and rows[0]["device_name"]
    assert bench.write_report(report, tmp_path / "bench.md").read_text() == text


def test_command_line_runs_and_saves(tmp_path, capsys: pytest.CaptureFixture) -> None:
    output = tmp_path / "table.md"
    code = cli_main(["bench", "--device", "cpu", "--seq-len", "3", "--batch-size", "2",
                     "--input-size", "2", "--hidden-size", "3", "--variants", "torch", "fused",
                     "--scan-lengths", "8", "--scan-batch-size", "2", "--scan-hidden-size", "2",
                     "--repeats", "1", "--timer", "cpu", "--output", str(output)])
    assert code == 0
    assert "torch.nn.LSTM" in capsys.readouterr().out and output.is_file()
    assert bench_command.LSTM_VARIANTS == bench.LSTM_VARIANTS
    with pytest.raises(SystemExit) as exit_info:
        bench.main(["--help"])
    assert exit_info.value.code == 0
