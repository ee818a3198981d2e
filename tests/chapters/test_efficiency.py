"""Chapter 4's experiments at toy sizes: batch sizes, variable lengths, truncated BPTT, mixed
precision, the fused LSTM's checks and the speed measurements the page makes."""

from __future__ import annotations

from torch.testing import assert_close

from rnncourse.chapters.ch04_efficiency.batches import (
    run_batch_size_sweep,
    run_variable_lengths,
    variable_length_adding,
)
from rnncourse.chapters.ch04_efficiency.speed import (
    run_fused_lstm_checks,
)
from rnncourse.chapters.ch04_efficiency.truncated_bptt import (
    delayed_recall_stream,
    run_truncated_bptt,
)

TINY = {"seq_len": 4, "batch_size": 2, "input_size": 3, "hidden_size": 5, "repeats": 1}


def test_delayed_recall_stream_targets_are_the_inputs_lag_steps_back() -> None:
    inputs, targets = delayed_recall_stream(4, 30, lag=3, seed=2)
    assert_close(targets[:, 3:], inputs[:, :-3])


def test_variable_length_experiment_masking_equals_packing() -> None:
    result = run_variable_lengths(40, batch_size=8, max_length=60, hidden_size=4, epochs=1,
                                  device="cpu")
    assert result.loss_difference < 1e-6 and result.gradient_difference < 1e-5
    padding = result.padding
    assert padding["pad per batch, bucketed by length"] < padding["pad per batch, random batches"]
    assert padding["pad per batch, random batches"] <= padding[
        "pad to the longest in the data set, random batches"]
    assert all(seconds > 0 for seconds in result.seconds_per_epoch.values())


def test_variable_length_data_set_is_on_the_cpu(default_device_elsewhere) -> None:
    """A data set on the CPU whatever the default device: the recompilation experiment trains
    on the CPU, and each experiment moves its own batches."""
    sequences, targets = variable_length_adding([3, 7], seed=1)
    assert [tuple(sequence.shape) for sequence in sequences] == [(3, 2), (7, 2)]
    assert {sequence.device.type for sequence in sequences} == {targets.device.type} == {"cpu"}


def test_truncated_bptt_experiment_shapes() -> None:
    result = run_truncated_bptt(lag=2, chunk_length=4, stream_length=16, passes=1,
                                batch_size=2, hidden_size=4, device="cpu")
    assert result.updates == {name: n for name, n in zip(result.variants, (4, 4, 16, 1),
                                                          strict=True)}
    assert all(0 <= accuracy <= 1 for accuracy in result.accuracy.values())


def test_batch_size_sweep_smoke() -> None:
    sweep = run_batch_size_sweep((4, 16), examples=32, seq_len=5, hidden_size=4,
                                 evaluations=2, device="cpu")
    assert sweep.examples_seen[4][-1] == 32 and sweep.examples_seen[16][-1] == 32
    assert all(sweep.throughput[b] > 0 for b in (4, 16))


def test_chapter_checks_pass() -> None:
    checks = run_fused_lstm_checks(seed=0)
    assert checks["gradcheck_float64"] is True
    assert checks["output_max_difference"] < 1e-5
    assert checks["gradient_max_difference"] < 1e-4


def test_recompilation_count_bucketing_compiles_once_per_bucket() -> None:
    from rnncourse.chapters.ch04_efficiency.compilation import (
        BUCKETED,
        CHECKED,
        RANDOM,
        recompilation_summary,
        run_recompilation_count,
    )

    result = run_recompilation_count(48, batch_size=8, buckets=2, max_length=60, hidden_size=4)
    assert result.compilations[BUCKETED] == result.distinct_shapes[BUCKETED] <= 2
    assert result.compilations[RANDOM] == result.distinct_shapes[RANDOM] > 2
    assert result.compilations[CHECKED] > 1  # graph breaks at the Python checks
    assert result.padding[BUCKETED] < result.padding[RANDOM]
    assert f"caused {result.compilations[RANDOM]} compilations" in recompilation_summary(result)


def _recompilations(random: int, bucketed: int):
    from rnncourse.chapters.ch04_efficiency.compilation import (
        BUCKETED,
        RANDOM,
        RecompilationResult,
    )

    runs = [RANDOM, BUCKETED]
    return RecompilationResult(runs, {RANDOM: 8, BUCKETED: 8},
                               {RANDOM: random, BUCKETED: bucketed},
                               {RANDOM: random, BUCKETED: bucketed}, {RANDOM: 0.6, BUCKETED: 0.2},
                               {RANDOM: 128, BUCKETED: 128}, {RANDOM: 1.0, BUCKETED: 1.0},
                               [32, 64, 128, 200])


def test_recompilation_summary_follows_the_counts() -> None:
    from rnncourse.chapters.ch04_efficiency.compilation import recompilation_summary

    assert "2.0 times the 4 of the loader bucketed" in recompilation_summary(_recompilations(8, 4))
    assert "fewer than the 4" in recompilation_summary(_recompilations(3, 4))
    assert "as many as the 4" in recompilation_summary(_recompilations(4, 4))


def test_profile_and_crossover_figures_and_sentences() -> None:
    from rnncourse.chapters.ch04_efficiency.speed import run_lstm_profiles, run_scan_crossover
    from rnncourse.chapters.ch04_efficiency.speed_figures import (
        crossover_sentences,
        lstm_profile_table,
        plot_lstm_profile,
        plot_scan_crossover,
    )

    profiles = run_lstm_profiles({"tiny": (4, 2, 3, 5)}, repeats=1)
    assert plot_lstm_profile(profiles).axes
    assert lstm_profile_table(profiles["tiny"]).count("\n") == 2 + 4
    by_length, by_width = run_scan_crossover((8, 16), (2, 4), ((1, 4), (2, 8)), 16, repeats=1)
    assert plot_scan_crossover(by_length, by_width).axes
    assert len(crossover_sentences(by_length, by_width)) == len(by_width.speedup) + 1  # ceiling


def test_crossover_sentences_say_where_the_loop_catches_up() -> None:
    from rnncourse.bench import ScanSweep
    from rnncourse.chapters.ch04_efficiency.speed_figures import crossover_sentences

    by_length = ScanSweep("seq_len", [64, 256], {"chunked_scan": [2.0, 4.0]}, [1.0, 2.0],
                          "recurrence", {"batch_size": 8, "hidden_size": 64})
    falling = ScanSweep("width", [32, 512, 8192], {"chunked_scan": [4.0, 2.0, 0.5]},
                        [1.0, 2.0, 3.0], "recurrence", {"seq_len": 256})
    always = ScanSweep("width", [32, 512], {"chunked_scan": [4.0, 2.0]}, [1.0, 2.0],
                       "recurrence", {"seq_len": 256})
    assert "4.0 × as fast as the loop (T = 256)" in crossover_sentences(by_length, falling)[0]
    assert "stopped beating the loop" in crossover_sentences(by_length, falling)[0]
    assert "stayed faster than the loop" in crossover_sentences(by_length, always)[0]
    assert len(crossover_sentences(by_length, always)) == 1  # no floor measured: no ceiling


def test_ceiling_sentence_compares_the_best_scan_with_the_memory_floor() -> None:
    from rnncourse.bench import ScanSweep
    from rnncourse.chapters.ch04_efficiency.speed_figures import (
        ceiling_sentence,
        crossover_sentences,
    )

    by_length = ScanSweep("seq_len", [64, 4096], {"chunked_scan": [2.0, 10.0],
                                                  "blocked_scan": [3.0, 4.0]},
                          [1.0, 100.0], "recurrence", {"batch_size": 8, "hidden_size": 64},
                          ceiling=[5.0, 40.0], floor_ms=[0.2, 2.5])
    sentence = ceiling_sentence(by_length)
    assert "At T = 4096" in sentence and "took 2.5 ms against the loop's 100.0 ms" in sentence
    assert "hardly be more than 40 × as fast" in sentence
    assert "the chunked scan, was 10.0 × as fast, 25% of that ceiling" in sentence
    at_the_floor = ScanSweep("seq_len", [4096], {"kernel_scan": [38.0], "chunked_scan": [10.0]},
                             [100.0], "recurrence", ceiling=[40.0], floor_ms=[2.5])
    assert "the kernel scan (one pass in C), was 38.0 × as fast, as fast as the floor itself" in (
        ceiling_sentence(at_the_floor))
    by_width = ScanSweep("width", [32, 512], {"chunked_scan": [4.0, 2.0],
                                              "blocked_scan": [3.0, 1.0]},
                         [1.0, 2.0], "recurrence", {"seq_len": 256})
    assert crossover_sentences(by_length, by_width)[-1] == sentence


def test_kernel_scan_sentence_says_which_scan_ran(monkeypatch) -> None:
    from rnncourse.chapters.ch04_efficiency import speed_figures

    assert speed_figures.kernel_scan_sentence("cpu") == "The kernel scan ran as compiled C."
    monkeypatch.setattr(speed_figures, "scan_kernel_path",
                        lambda reference: "chunked scan (the C kernel could not be built (x))")
    sentence = speed_figures.kernel_scan_sentence("cpu")
    assert "could not run as C here" in sentence and "the chunked scan (the C kernel" in sentence
