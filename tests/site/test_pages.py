"""Every chapter page shows the code it teaches, included from the package (`literalinclude` with
`:pyobject:`, or for the package's C file the lines from `:start-at:` to `:end-before:`), so the
code on the page is the code that runs. Checked without building the site: each included file
and object exists, found the way Sphinx finds it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sphinx.pycode import ModuleAnalyzer

ROOT = Path(__file__).resolve().parents[2]
BOOK = ROOT / "book"
PAGES = sorted(BOOK.glob("0*.md"))
INCLUDE = re.compile(r"```\{literalinclude\} (?P<path>\S+)\n(?P<options>(?::[\w-]+:.*\n)*)```")

# What each chapter must show, (file under rnncourse/, object): the mechanisms it teaches.
TAUGHT = {
    "01-long-term-memory": [
        ("models/cells.py", "rnn_step"),  # the RNN step
        ("models/cells.py", "rnn_step_projected"),
        ("training/diagnostics.py", "hidden_state_gradient_norms"),  # BPTT gradient norms
    ],
    "02-exploding-gradients": [
        ("training/clipping.py", "clip_gradients_by_norm_"),
        ("training/clipping.py", "clip_gradients_by_value_"),
        ("training/loop.py", "training_step"),  # where fit clips
        ("models/layer_norm_lstm.py", "LayerNormLSTMCell.forward"),  # the LN-LSTM step
        ("models/normalized_lstm.py", "normalized_lstm_step"),
        ("models/regularization.py", "dropout"),  # the RNN regularisers
        ("models/regularization.py", "variational_dropout"),
        ("models/regularization.py", "drop_weights"),
        ("models/regularization.py", "zoneout"),
        ("models/regularized_lstm.py", "RegularizedLSTM._run_layer"),
    ],
    "03-lstm-gru": [
        ("models/cells.py", "lstm_step"),
        ("models/cells.py", "lstm_step_projected"),
        ("models/cells.py", "gru_step_projected"),
    ],
    "04-efficiency": [
        ("training/batching.py", "masked_mean"),  # masking
        ("training/batching.py", "last_valid"),
        ("training/batching.py", "truncated_bptt_epoch"),  # the loop with its detach
        ("models/char_lm.py", "detach_state"),
        ("models/fused_lstm.py", "FusedLSTMFunction.backward"),  # the backward sweep
        ("models/scans.py", "log_space_scan"),  # the scan
        ("models/lstm_step.c", "lstm_step_forward"),  # a step's element-wise work in C
        ("models/scan_kernel.c", "scan_forward"),  # the loop compiled whole
        ("training/static_shapes.py", "static_shape_batches"),  # buckets for XLA devices
        ("chapters/ch04_efficiency/compilation.py", "CompilationCounter"),
    ],
    "05-curriculum-transfer": [
        ("training/curriculum_strategies.py", "CurriculumStrategy.sample"),  # the sampler
        ("training/curriculum_strategies.py", "CurriculumStrategy.distribution"),
        ("training/transfer.py", "discriminative_parameter_groups"),  # per-layer rates
        ("chapters/ch05_curriculum_transfer/text_transfer.py", "model_to_fine_tune"),
        ("chapters/ch05_curriculum_transfer/text_transfer.py", "fine_tune_language_model"),
    ],
    "06-language-and-time-series": [
        ("models/char_lm.py", "CarriedState.forward"),  # the language model's training step
        ("training/language/train.py", "next_character_loss"),
        ("training/loop.py", "training_step"),
        ("training/forecasting/baselines.py", "naive_forecasts"),  # the forecasting baselines
        ("training/forecasting/baselines.py", "seasonal_naive_forecasts"),
    ],
}


def inclusions(page: Path) -> list[tuple[Path, dict[str, str]]]:
    """(included file, options) for every literalinclude of a page."""
    found = []
    for match in INCLUDE.finditer(page.read_text()):
        options = dict(re.findall(r":([\w-]+):\s*(.*)", match.group("options")))
        found.append(((page.parent / match.group("path")).resolve(), options))
    return found


def test_every_chapter_is_checked() -> None:
    assert [page.stem for page in PAGES] == sorted(TAUGHT)


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.stem)
def test_inclusions_point_at_objects_that_exist(page: Path) -> None:
    found = inclusions(page)
    assert found, f"{page.name} includes no code"
    for path, options in found:
        assert path.is_file(), f"{page.name} includes {path}, which does not exist"
        assert path.is_relative_to(ROOT / "rnncourse"), f"{path} is not the package's code"
        if path.suffix == ".c":
            assert options.get("language") == "c"
            assert shown_c_function(path, options), f"{page.name}: no C function included"
            continue
        assert "pyobject" in options, f"{page.name} includes {path.name} without :pyobject:"
        assert options.get("language") == "python"
        tags = ModuleAnalyzer.for_file(str(path), "").find_tags()
        assert options["pyobject"] in tags, (
            f"{page.name}: {options['pyobject']} is not defined in {path.name}")


def shown_c_function(path: Path, options: dict[str, str]) -> str:
    """The first C function in the lines a `:start-at:` / `:end-before:` inclusion shows (each
    marker must occur in the file, the end after the start), or ''."""
    text = path.read_text()
    start = text.find(options.get("start-at", "\0"))
    end = text.find(options.get("end-before", "\0"), max(start, 0))
    assert start >= 0 and end > start, f"{path.name}: the markers {options} are not in the file"
    function = re.search(r"^\w[\w\s*]*?\b(\w+)\(", text[start:end], re.MULTILINE)
    return function.group(1) if function else ""


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.stem)
def test_each_page_shows_the_mechanisms_it_teaches(page: Path) -> None:
    shown = {(str(path.relative_to(ROOT / "rnncourse")),
              shown_c_function(path, options) if path.suffix == ".c" else options["pyobject"])
             for path, options in inclusions(page)}
    missing = [taught for taught in TAUGHT[page.stem] if taught not in shown]
    assert not missing, f"{page.name} does not show {missing}"


def test_the_inclusion_pattern_reads_a_directive() -> None:
    text = ("```{literalinclude} ../rnncourse/models/cells.py\n:caption: cells\n"
            ":language: python\n:pyobject: lstm_step\n```\n")
    (match,) = INCLUDE.finditer(text)
    assert match.group("path") == "../rnncourse/models/cells.py"
    assert ":pyobject: lstm_step" in match.group("options")
