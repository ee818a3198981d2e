"""Chapter 2's experiments for `rnncourse run ch02`, in the page's order, with the page's tables."""

from __future__ import annotations

from typing import Any

from rnncourse.chapters.ch02_exploding_gradients.adding_sweeps import run_clipping_sweep
from rnncourse.chapters.ch02_exploding_gradients.cliff import step_at_the_wall
from rnncourse.chapters.ch02_exploding_gradients.divergence import clipping_directions
from rnncourse.chapters.ch02_exploding_gradients.figures import (
    divergence_table,
    explosion_anatomy_table,
)
from rnncourse.chapters.ch02_exploding_gradients.regularization import run_regularization_study
from rnncourse.chapters.ch02_exploding_gradients.remedies import (
    run_initialization_comparison,
    run_normalization_comparison,
)
from rnncourse.chapters.ch02_exploding_gradients.remedy_figures import (
    initialization_table,
    normalization_table,
    regularization_table,
    weight_decay_table,
)
from rnncourse.chapters.runner import ChapterRun, Experiment

__all__ = ["EXPERIMENTS"]


def cliff(run: ChapterRun) -> tuple[Any, str]:
    step = step_at_the_wall(**run.settings.cliff_step)
    return step, (
        f"start (w, b) = ({step.start[0]:.3f}, {step.start[1]:.5f}), loss {step.loss_start:.3f}, "
        f"gradient norm {step.gradient_norm:.3g}\n\n"
        f"one step without clipping moves {step.unclipped_length:.3g}, loss "
        f"{step.loss_unclipped:.3g}; clipped at norm {step.clip_norm:g}, it moves "
        f"{step.clipped_length:.3g}, loss {step.loss_clipped:.3g}; after "
        f"{len(step.clipped_path) - 1} clipped steps, loss {step.clipped_losses[-1]:.3g}")


def divergence(run: ChapterRun) -> tuple[Any, str]:
    sweep = run_clipping_sweep(**run.settings.divergence, device=run.device, seed=run.seed)
    anatomy = explosion_anatomy_table(sweep.divergence["no clipping"][0], steps=10)
    return sweep, (f"{divergence_table(sweep.divergence)}\n\n{anatomy}\n\n"
                   f"{weight_decay_table(sweep.weight_decay)}")


def clipping(run: ChapterRun) -> tuple[Any, str]:
    first_seed = [runs[0] for runs in run.results["divergence"].divergence.values()]
    directions = clipping_directions(first_seed, **run.settings.clipping)
    lines = [f"by value, c = {value:g}: smallest cos(g, clip(g)) {min(cosines):.3f}"
             for value, cosines in directions.cosine_value.items()]
    lines.append(f"by norm, c = {directions.clip_norm:g}: cos(g, clip(g)) at least "
                 f"{min(directions.cosine_norm):.6f}")
    return directions, "\n\n".join(lines)


def normalization(run: ChapterRun) -> tuple[Any, str]:
    results = run_normalization_comparison(**run.settings.normalization, device=run.device,
                                           seed=run.seed)
    return results, normalization_table(results)


def regularization(run: ChapterRun) -> tuple[Any, str]:
    study = run_regularization_study(**run.settings.regularization, device=run.device,
                                     seed=run.seed)
    return study, regularization_table(study)


def initialization(run: ChapterRun) -> tuple[Any, str]:
    results = run_initialization_comparison(**run.settings.initialization, device=run.device,
                                            seed=run.seed)
    return results, initialization_table(results)


EXPERIMENTS = (
    Experiment("cliff", "one gradient step at the wall of a one-unit RNN's loss", cliff),
    Experiment("divergence", "the same RNN with and without clipping, and with weight decay, "
               "every seed in one ensemble", divergence),
    Experiment("clipping", "what clipping by norm and by value does to a gradient's direction",
               clipping, needs=("divergence",)),
    Experiment("normalization", "LSTM, LN-LSTM and BN-LSTM on digits read pixel by pixel",
               normalization),
    Experiment("regularization", "dropout, variational dropout, weight drop and zoneout on a "
               "character model that overfits", regularization),
    Experiment("initialization", "default, orthogonal and identity (IRNN) initialisation",
               initialization),
)
