"""What chapters 1 to 3 share when they train a recurrent model on a synthetic task.

    build_task_model(cell, task, hidden_size)     a `RecurrentModel` shaped for the task
    training_batches(task, batch_size, seed)      `fit`'s source of fresh, seeded batches
    score_held_out(model, task, inputs, targets)  loss (and, for copy memory, recall)

The tasks are `rnncourse.data.synthetic.AddingTask` and `CopyTask`: each knows its input and output
sizes, which outputs the loss reads (`readout`), its loss and its memoryless baseline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from rnncourse.data.synthetic import AddingTask, CopyTask
from rnncourse.models import RecurrentModel, set_forget_gate_bias
from rnncourse.runtime import seeded_generator

__all__ = ["HeldOutScore", "build_task_model", "score_held_out", "training_batches"]


def build_task_model(
    cell: str,
    task: AddingTask | CopyTask,
    hidden_size: int,
    *,
    forget_gate_bias: float | None = 1.0,
    backend: str = "torch",
    device: str | torch.device | None = None,
    seed: int | None = None,
) -> RecurrentModel:
    """A `RecurrentModel` shaped for `task`; an LSTM starts with its forget-gate bias set
    (None: left as initialised, b_f = 0 in expectation)."""
    model = RecurrentModel(
        cell, input_size=task.input_size, hidden_size=hidden_size,
        output_size=task.output_size, readout=task.readout, backend=backend, device=device,
        seed=seed,
    )  # fmt: skip
    if cell == "lstm" and forget_gate_bias is not None:
        set_forget_gate_bias(model, forget_gate_bias)
    return model


def training_batches(
    task: AddingTask | CopyTask, batch_size: int, seed: int
) -> Callable[[int], tuple[torch.Tensor, torch.Tensor]]:
    """A batch source for `rnncourse.training.fit`: a fresh batch of `batch_size` sequences at
    every step, from one generator seeded with `seed`. The batches are drawn on the CPU (`fit`
    moves them), so every device trains on the same sequences."""
    cpu = torch.device("cpu")
    generator = seeded_generator(seed, cpu)

    def next_batch(step: int) -> tuple[torch.Tensor, torch.Tensor]:
        return task.sample(batch_size, generator=generator, device=cpu)

    return next_batch


@dataclass
class HeldOutScore:
    """A model's score on a held-out batch: `loss` as `task.loss` (MSE or cross entropy); for
    copy memory, `accuracy`, the share of copied symbols predicted right (chance: 1/K), and
    `position_accuracy[i]`, the same for the i-th copied symbol alone (None for adding)."""

    loss: float
    accuracy: float | None = None
    position_accuracy: list[float] | None = None


def score_held_out(
    model: torch.nn.Module, task: AddingTask | CopyTask, inputs: torch.Tensor,
    targets: torch.Tensor,
) -> HeldOutScore:
    """Run `model` in eval mode, without gradients, on one held-out batch and score it."""
    model.eval()
    with torch.no_grad():
        predictions = model(inputs)
        score = HeldOutScore(loss=task.loss(predictions, targets).item())
        if isinstance(task, CopyTask):
            score.accuracy = task.accuracy(predictions, targets)
            copied = slice(-task.copy_length, None)
            right = predictions[:, copied].argmax(dim=-1) == targets[:, copied]  # (B, L)
            score.position_accuracy = right.float().mean(dim=0).tolist()
    return score
