"""Arguments the synthetic tasks and curricula share: the int check, and where a batch's random
numbers come from.

`check_int` gives the course's answer to a bad count or length: a TypeError when the value is
not an int (a bool does not count), a ValueError that names the argument and its lower bound
when it is too small.

`draw_setup` reads the `seed`, `generator` and `device` arguments that every task's sampling
function takes:

- with `seed`, the data are drawn on the CPU from a generator seeded with it and then moved to
  `device`, so one seed gives the same data on every device;
- with a `generator`, they are drawn on the generator's device;
- with neither, torch's global random state is used, so `torch.manual_seed` (and
  `fit(seed=...)`) makes them reproducible.
"""

from __future__ import annotations

import torch

from rnncourse.runtime import resolve_device, seeded_generator

__all__ = ["check_int", "draw_setup"]


def check_int(name: str, value: int, minimum: int, why: str = "") -> int:
    """`value` as an int, or a TypeError / ValueError naming `name` and what was expected.

    `why`, when given, says in the message why `minimum` is the least allowed value.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        reason = f" ({why})" if why else ""
        raise ValueError(f"{name} must be at least {minimum}{reason}, got {value}")
    return value


def draw_setup(
    seed: int | None,
    generator: torch.Generator | None,
    device: str | torch.device | None,
) -> tuple[torch.Generator | None, torch.device, torch.device]:
    """(generator to draw with, device to draw on, device to return the data on).

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
