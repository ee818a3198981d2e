"""One preamble, one way to scale: `book.setup()`, each chapter's SETTINGS at cpu and paper scale,
and `rnncourse run chNN`, which runs the page's experiments with the page's arguments."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
import torch

from rnncourse import book
from rnncourse.chapters import CHAPTERS, chapter_module, chapter_name
from rnncourse.chapters.ch01_long_term_memory.task_runs import TrainingSettings
from rnncourse.chapters.runner import experiments_of, prepare_run
from rnncourse.chapters.scales import Scaled
from rnncourse.cli import main

ROOT = Path(__file__).resolve().parents[2]
PAGES = {short: next((ROOT / "book").glob(f"{short[2:]}-*.md")) for short in CHAPTERS}


@pytest.mark.parametrize("chapter", sorted(CHAPTERS))
def test_one_settings_object_with_both_scales(chapter: str) -> None:
    settings = chapter_module(chapter, "settings").SETTINGS
    assert isinstance(settings, Scaled)
    assert type(settings.cpu) is type(settings.paper) and dataclasses.is_dataclass(settings.cpu)
    assert settings.at("cpu") is settings.cpu and settings.at("paper") is settings.paper
    with pytest.raises(ValueError, match="scale"):
        settings.at("huge")


@pytest.mark.parametrize("chapter", sorted(CHAPTERS))
def test_page_and_command_run_every_experiment_with_the_same_settings(chapter: str) -> None:
    """Every field of the chapter's settings is read by its page (page.settings.x) and by
    `rnncourse run` (run.settings.x), so the two run the same experiments."""
    page = PAGES[chapter].read_text()
    run = Path(chapter_module(chapter, "run").__file__).read_text()
    for field in dataclasses.fields(chapter_module(chapter, "settings").SETTINGS.cpu):
        assert re.search(rf"page\.settings\.{field.name}\b", page), (
            f"{PAGES[chapter].name} does not use settings.{field.name}")
        assert re.search(rf"run\.settings\.{field.name}\b", run), (
            f"{chapter}'s run.py does not use settings.{field.name}")


@pytest.mark.parametrize("chapter", sorted(CHAPTERS))
def test_every_page_starts_with_the_one_preamble(chapter: str) -> None:
    page = PAGES[chapter].read_text()
    assert page.count("page = book.setup(") == 1 and f'page = book.setup("{chapter}"' in page
    for repeated in ("torch.set_num_threads", "warnings.filterwarnings", "FULL_SCALE", "SEED =",
                     "plt.show()", "python -m rnncourse.chapters"):
        assert repeated not in page, f"{PAGES[chapter].name} still has {repeated}"


@pytest.mark.parametrize("chapter", sorted(CHAPTERS))
def test_experiments_are_named_once_and_need_earlier_ones(chapter: str) -> None:
    names = [experiment.name for experiment in experiments_of(chapter)]
    assert names and len(names) == len(set(names))
    for position, experiment in enumerate(experiments_of(chapter)):
        assert set(experiment.needs) <= set(names[:position]), experiment.name


def test_setup_sets_threads_seed_device_and_scale() -> None:
    threads = torch.get_num_threads()
    try:
        page = book.setup("ch03", seed=7)
        assert torch.get_num_threads() == 1
        first = torch.rand(3)
        again = book.setup(3, scale="paper", device="cpu", seed=7, threads=2)
        assert torch.equal(torch.rand(3), first), "the same seed gives the same random state"
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(threads)
    assert (page.chapter, page.scale, page.seed) == ("ch03", "cpu", 7)
    assert page.settings is chapter_module("ch03", "settings").SETTINGS.cpu
    assert again.settings is chapter_module("ch03", "settings").SETTINGS.paper
    assert again.device == torch.device("cpu")


def test_setup_and_run_name_bad_arguments() -> None:
    with pytest.raises(ValueError, match="chapter"):
        book.setup("ch07")
    with pytest.raises(ValueError, match="scale"):
        book.setup("ch01", scale="gpu")
    with pytest.raises(ValueError, match="threads"):
        book.setup("ch01", threads=0)
    with pytest.raises(ValueError, match="no experiment 'nope'"):
        prepare_run("ch01", names=["nope"])
    assert chapter_name("3") == chapter_name(3) == chapter_name("ch03_lstm_gru") == "ch03"


def test_run_command_prints_the_page_tables(tiny_settings, capsys, tmp_path: Path) -> None:
    tiny_settings("ch01", gradient_decay={"seq_len": 6, "hidden_size": 4, "batch_size": 2},
                  adding={"seq_lens": (4,), "settings": TrainingSettings(
                      hidden_size=4, steps=2, batch_size=4, test_size=8)})
    report = tmp_path / "reports" / "ch01.md"
    assert main(["run", "ch01", "--experiment", "gradient-decay", "--experiment", "adding",
                 "--device", "cpu", "--report", str(report)]) == 0
    printed = capsys.readouterr().out
    assert "# ch01 at cpu scale, on cpu, seed 0" in printed
    assert "## gradient-decay" in printed and "## adding" in printed and "## copy" not in printed
    assert "| LSTM |" in printed and "hidden 4, 2 steps" in printed
    assert report.read_text().startswith("# ch01 at cpu scale")


def test_run_command_runs_what_an_experiment_needs_first(tiny_settings, capsys) -> None:
    tiny_settings("ch02", divergence={"lr": 0.2, "clip_norm": 1.0, "clip_values": (1.0,),
                                      "steps": 3, "hidden_size": 4, "seq_len": 5},
                  clipping={"clip_norm": 1.0, "clip_values": (1.0,)})
    assert main(["run", "2", "--experiment", "clipping", "--device", "cpu"]) == 0
    printed = capsys.readouterr().out
    assert printed.index("## divergence") < printed.index("## clipping")
    assert "by norm, c = 1" in printed


def test_run_command_lists_and_refuses_bad_input(capsys) -> None:
    assert main(["run", "ch06", "--list"]) == 0
    listed = capsys.readouterr().out
    assert "cell-comparison" in listed and "attention" in listed
    assert main(["run", "ch06", "--experiment", "nope"]) == 2
    assert "no experiment 'nope'" in capsys.readouterr().err
    assert main(["run", "ch09"]) == 2
    assert "chapter must be one of" in capsys.readouterr().err
    assert main(["run", "ch01", "--threads", "0"]) == 2
    with pytest.raises(SystemExit):
        main(["run", "ch01", "--scale", "huge"])
