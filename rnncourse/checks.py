"""Argument checks shared by the course's modules (models, tasks, curricula, experiments).

Bad input gets a TypeError (wrong kind of thing) or a ValueError (right kind, wrong value) whose
message names the argument and says what was expected, before any computation starts.
"""

from __future__ import annotations

import numbers
from collections.abc import Collection

from torch import Tensor

__all__ = [
    "check_bool",
    "check_choice",
    "check_features",
    "check_fraction",
    "check_int",
    "check_lstm_state",
    "check_positive_int",
    "check_positive_number",
    "check_shape",
    "check_tensor_like",
]


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


def check_positive_int(name: str, value: object) -> int:
    """`value` as an int, or a TypeError/ValueError that names the argument."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{name} must be a positive int, got {name}={value}")
    return value


def check_bool(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    return value


def check_positive_number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return float(value)


def check_fraction(name: str, value: object) -> float:
    """`value` as a float in [0, 1] (a probability, a momentum), or a ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
    return float(value)


def check_choice(name: str, value: object, choices: Collection[str]) -> str:
    """`value` when it is one of `choices`, or a ValueError that lists them."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")
    return value  # type: ignore[return-value]


def check_tensor_like(name: str, tensor: object, reference: Tensor) -> Tensor:
    """`tensor` is a floating-point Tensor with `reference`'s dtype and device."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(tensor).__name__}")
    if not tensor.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {tensor.dtype}")
    if tensor.dtype != reference.dtype:
        raise TypeError(
            f"{name} has dtype {tensor.dtype} but the parameters have dtype {reference.dtype}; "
            f"convert one of them (for example `{name}.to({reference.dtype})`)"
        )
    if tensor.device != reference.device:
        raise ValueError(
            f"{name} is on device {tensor.device} but the parameters are on {reference.device}; "
            "move one of them with .to(device)"
        )
    return tensor


def check_shape(name: str, tensor: Tensor, expected: tuple[int, ...], description: str) -> None:
    """A ValueError naming `name` when `tensor.shape != expected` (`description` names the dims)."""
    if tuple(tensor.shape) != expected:
        raise ValueError(
            f"{name} has shape {tuple(tensor.shape)}, expected {description} = {expected}"
        )


def check_features(name: str, tensor: Tensor, input_size: int) -> None:
    """A ValueError when the last dimension of `tensor` is not `input_size` features."""
    if tensor.shape[-1] != input_size:
        raise ValueError(
            f"{name} has {tensor.shape[-1]} features, expected input_size={input_size}"
        )


def check_lstm_state(name: str, state: object, owner: str) -> tuple[object, object]:
    """The two parts (h, c) of an LSTM's state, or a TypeError when `state` is not a pair."""
    if not isinstance(state, (tuple, list)) or len(state) != 2:
        raise TypeError(
            f"{name} must be a tuple (h_0, c_0) of two tensors for {owner}, "
            f"got {type(state).__name__}"
        )
    return state[0], state[1]
