"""Checkpoints of the fit loop: model state, optimizer state and `History` in one file, saved on
any device and loaded on any other."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from rnncourse.training.history import History

__all__ = ["load_checkpoint", "save_checkpoint"]


def save_checkpoint(
    path: str | os.PathLike,
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None,
    history: History | None = None,
) -> None:
    """Save model state, optimizer state and history to `path` (folders are created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    checkpoint = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "history": history.to_dict() if history is not None else None,
    }
    torch.save(checkpoint, path)


def load_checkpoint(
    path: str | os.PathLike,
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    map_location: str | torch.device | None = None,
) -> History | None:
    """Load a checkpoint saved by `fit` into `model` (and `optimizer`); return its history.

    Tensors are read onto `map_location` (default: the CPU, which works whatever device saved
    them) and then copied onto the device the model's parameters are on, so a GPU checkpoint
    loads on a laptop and the other way round.
    """
    checkpoint = torch.load(
        path, map_location=map_location if map_location is not None else "cpu", weights_only=True
    )
    model.load_state_dict(checkpoint["model"])
    if optimizer is not None:
        if checkpoint["optimizer"] is None:
            raise ValueError(f"{path} holds no optimizer state to load into optimizer")
        optimizer.load_state_dict(checkpoint["optimizer"])  # moves state to the parameters' device
    history = checkpoint["history"]
    return History.from_dict(history) if history is not None else None
