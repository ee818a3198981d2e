"""Devices, seeds and random draws: the arguments every model, task and experiment takes."""

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


def draw_setup(
    seed: int | None,
    generator: torch.Generator | None,
    device: str | torch.device | None,
) -> tuple[torch.Generator | None, torch.device, torch.device]:
    """(generator to draw with, device to draw on, device to return the data on), from the
    `seed`, `generator` and `device` arguments every task's sampling function takes:

    - with `seed`, the data are drawn on the CPU from a generator seeded with it and then moved
      to `device`, so one seed gives the same data on every device;
    - with a `generator`, they are drawn on the generator's device;
    - with neither, torch's global random state is used, so `torch.manual_seed` (and
      `fit(seed=...)`) makes them reproducible.

    The generator is None when neither `seed` nor `generator` is given: torch's global random
    state is then used. Giving both is a ValueError.
    """
    if seed is not None and generator is not None:
        raise ValueError("give seed or generator, not both")
    target_device = resolve_device(device)
    if generator is not None:
        return generator, generator.device, target_device
    cpu = torch.device("cpu")
    # Drawing on the CPU makes a seed mean the same data on every device.
    return (seeded_generator(seed, cpu) if seed is not None else None), cpu, target_device
