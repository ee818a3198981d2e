"""Devices and seeds: the two arguments every model and experiment takes."""

from __future__ import annotations

import random

import torch


def default_device() -> torch.device:
    """CUDA when a GPU is present, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def resolve_device(device: str | torch.device | None) -> torch.device:
    """Turn `None` (the default device), a name or a `torch.device` into a `torch.device`.

    Raises a ValueError that names the problem when CUDA is asked for but absent.
    """
    if device is None:
        return default_device()
    if not isinstance(device, (str, torch.device)):
        raise TypeError(
            f"device must be None, a string or a torch.device, got {type(device).__name__}")
    resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={str(device)!r} was asked for, but no CUDA GPU is available")
    return resolved


def seeded_generator(seed: int | None, device: torch.device) -> torch.Generator:
    """A random generator on `device`, seeded with `seed`; with `seed=None`, a fresh random seed
    (not reproducible: for a reproducible run, give a seed or use torch's global generator)."""
    generator = torch.Generator(device=device)
    if seed is None:
        generator.seed()
    else:
        generator.manual_seed(int(seed))
    return generator


def manual_seed(seed: int) -> None:
    """Seed Python, and torch on every device, for a reproducible run."""
    random.seed(seed)
    torch.manual_seed(seed)
