"""Chapter 1: how a run's setting differs from Arjovsky, Shah and Bengio (2016)'s, in words.

The page runs at CPU scale, or at the paper's (`scale="paper"`); either way the sentence that
sets its run beside the paper's is written from the run's own settings, so it cannot name a
difference that is not there.

    adding_scale_difference(result)   lengths, optimiser, clipping, width (their sec. 5, 5.2)
    copy_scale_difference(result)     symbols, delays, optimiser, clipping, width (sec. 5, 5.1)
"""

from __future__ import annotations

from rnncourse.chapters.ch01_long_term_memory.memory_tasks import AddingResult, CopyCapacityResult
from rnncourse.chapters.ch01_long_term_memory.settings import SETTINGS
from rnncourse.chapters.ch01_long_term_memory.task_runs import TrainingSettings

__all__ = ["adding_scale_difference", "copy_scale_difference"]

OPTIMISER_NAMES = {"adam": "Adam", "rmsprop": "RMSProp", "sgd": "SGD"}


def _clipping(settings: TrainingSettings) -> str:
    if settings.clip_norm is not None:
        return "clipping by norm"
    return "element-wise clipping" if settings.clip_value is not None else "no clipping"


def _training_differences(ours: TrainingSettings, theirs: TrainingSettings,
                          models: str) -> list[str]:
    """Optimiser, clipping and width (`models` names the models: "an LSTM", "models")."""
    differences = []
    if ours.optimizer != theirs.optimizer:
        differences.append(f"{OPTIMISER_NAMES.get(ours.optimizer, ours.optimizer)} instead of "
                           f"{OPTIMISER_NAMES.get(theirs.optimizer, theirs.optimizer)}")
    if _clipping(ours) != _clipping(theirs):
        differences.append(f"{_clipping(ours)} instead of {_clipping(theirs)}")
    if ours.hidden_size != theirs.hidden_size:
        differences.append(f"{models} of {ours.hidden_size} units instead of "
                           f"{theirs.hidden_size}")
    return differences


def _sentence(differences: list[str], compared: str, sections: str) -> str:
    if not differences:
        return f"This run has the paper's {compared} ({sections})."
    listed = (differences[0] if len(differences) == 1
              else ", ".join(differences[:-1]) + f" and {differences[-1]}")
    return f"Our run differs from the paper's ({sections}) in scale: {listed}."


def _range(values: tuple[int, ...]) -> str:
    return (f"{values[0]}" if len(values) == 1 else
            ", ".join(map(str, values[:-1])) + f" and {values[-1]}")


def adding_scale_difference(result: AddingResult) -> str:
    """How this adding run's lengths and training differ from `SETTINGS.paper.adding`."""
    paper = SETTINGS.paper.adding
    lengths = tuple(sorted({run.length for run in result.runs}))
    differences = []
    if lengths != tuple(paper["seq_lens"]):
        differences.append(f"T = {_range(lengths)} instead of {_range(tuple(paper['seq_lens']))}")
    differences += _training_differences(result.settings, paper["settings"], "models")
    return _sentence(differences, "lengths, optimiser, clipping and width", "sec. 5 and 5.2")


def copy_scale_difference(result: CopyCapacityResult) -> str:
    """How this copy run's symbols, delays and training differ from `SETTINGS.paper.copy`."""
    paper = SETTINGS.paper.copy
    delays = tuple(run.length for run in result.by_delay)
    differences = []
    if result.copy_length != paper["copy_length"]:
        differences.append(f"{result.copy_length} symbols to copy instead of "
                           f"{paper['copy_length']}")
    if delays != tuple(paper["delays"]):
        differences.append(f"delays of {min(delays)} to {max(delays)} steps instead of "
                           f"{min(paper['delays'])} to {max(paper['delays'])}")
    model = "an LSTM" if result.cell == "lstm" else f"a {result.cell} model"
    differences += _training_differences(result.settings, paper["settings"], model)
    return _sentence(differences, "symbols, delays, optimiser, clipping and width",
                     "sec. 5 and 5.1")
