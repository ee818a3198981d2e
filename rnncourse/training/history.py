"""What the fit loop records: `History`, plain lists and numbers, easy to plot, save and compare."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["History"]


@dataclass
class History:
    """What happened during `fit`, as plain lists and numbers (easy to plot, save and compare).

    `step[i]`, `loss[i]` and `grad_norm[i]` belong together: the training loss at step i and the
    2-norm of the full gradient before clipping. `eval_loss[j]` was measured after `eval_step[j]`.
    `diverged` is True once a loss or gradient norm was inf or nan; `seconds` is wall time.
    """

    step: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    eval_step: list[int] = field(default_factory=list)
    eval_loss: list[float] = field(default_factory=list)
    diverged: bool = False
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """A dict of lists, floats and a bool: what `torch.save` and `json.dump` can both take."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> History:
        return cls(**values)
