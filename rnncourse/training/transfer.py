"""Transfer learning: reuse a trained network's weights, in whole or in part, for a new task.

A network is seen as a stack of layers, from the input (an embedding, the first recurrent
layer) to the output (the head). `layer_names(model)` lists them bottom to top; torch's
multi-layer RNN / LSTM / GRU modules count as one layer per depth (`rnn.l0`, `rnn.l1`, ...).
With those names:

- `load_pretrained(model, source, skip=("head",))` copies every weight whose name and shape
  match, except the skipped layers, so a pretrained body gets a new head (another vocabulary,
  another horizon);
- `freeze(model, layers)` / `unfreeze(model)` switch `requires_grad` off and on, so only the
  layers left trainable learn;
- `discriminative_parameter_groups(model, lr, decay)` gives each layer its own learning rate,
  the top one `lr` and each layer below it `decay` times smaller (discriminative fine-tuning,
  Howard and Ruder 2018, who use decay = 2.6):

      lr_l = lr / decay^(L - 1 - l)      for layers l = 0 (bottom) .. L - 1 (top)

  The groups go straight into any torch optimizer, and the optimizer into `fit`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import torch
from torch import nn

__all__ = [
    "LoadReport",
    "discriminative_parameter_groups",
    "freeze",
    "layer_names",
    "load_pretrained",
    "parameters_by_layer",
    "trainable_parameter_count",
    "unfreeze",
]

# weight_ih_l0, bias_hh_l1_reverse, ... : the per-depth parameters of torch's recurrent modules
_RECURRENT_PARAMETER = re.compile(r"^(?P<module>.*?)\.?(weight|bias)_(ih|hh|hr)_l(?P<depth>\d+)")


def _layer_of(parameter_name: str) -> str:
    """The layer a parameter belongs to: its module's name, with `.l<depth>` for recurrent
    depths. "embedding.weight" -> "embedding", "rnn.weight_hh_l1" -> "rnn.l1"."""
    match = _RECURRENT_PARAMETER.match(parameter_name)
    if match:
        module = match.group("module")
        return f"{module}.l{match.group('depth')}" if module else f"l{match.group('depth')}"
    module, _, _ = parameter_name.rpartition(".")
    return module or parameter_name


def parameters_by_layer(model: nn.Module) -> dict[str, list[tuple[str, nn.Parameter]]]:
    """{layer: [(parameter name, parameter), ...]} in the order the model registers them,
    which for the course's models is bottom (input) to top (head)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    layers: dict[str, list[tuple[str, nn.Parameter]]] = {}
    for name, parameter in model.named_parameters():
        layers.setdefault(_layer_of(name), []).append((name, parameter))
    return layers


def layer_names(model: nn.Module) -> list[str]:
    """The model's layers, bottom to top, e.g. ['embedding', 'rnn.l0', 'rnn.l1', 'head']."""
    return list(parameters_by_layer(model))


def _resolve_layers(model: nn.Module, layers: str | Iterable[str]) -> list[str]:
    """Layer names given by name, or by a prefix such as "rnn" (every depth of the core)."""
    known = layer_names(model)
    wanted = [layers] if isinstance(layers, str) else list(layers)
    chosen: list[str] = []
    for name in wanted:
        matches = [layer for layer in known if layer == name or layer.startswith(name + ".")]
        if not matches:
            raise ValueError(f"layers: {name!r} names no layer of this model; its layers are "
                             f"{', '.join(known)}")
        chosen += [layer for layer in matches if layer not in chosen]
    return chosen


def freeze(model: nn.Module, layers: str | Iterable[str]) -> list[str]:
    """Stop the given layers from learning (requires_grad = False); return their names.

    `layers` are names from `layer_names(model)` or prefixes of them ("rnn" freezes every
    recurrent depth). A frozen parameter gets no gradient, so `fit` and the optimizers leave
    it as it is.
    """
    chosen = _resolve_layers(model, layers)
    grouped = parameters_by_layer(model)
    for layer in chosen:
        for _, parameter in grouped[layer]:
            parameter.requires_grad_(False)
    return chosen


def unfreeze(model: nn.Module, layers: str | Iterable[str] | None = None) -> list[str]:
    """Let the given layers (all of them by default) learn again; return their names."""
    chosen = layer_names(model) if layers is None else _resolve_layers(model, layers)
    grouped = parameters_by_layer(model)
    for layer in chosen:
        for _, parameter in grouped[layer]:
            parameter.requires_grad_(True)
    return chosen


def trainable_parameter_count(model: nn.Module) -> int:
    """How many numbers would change in training (parameters with requires_grad)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def discriminative_parameter_groups(
    model: nn.Module, lr: float, decay: float = 2.6
) -> list[dict[str, object]]:
    """One optimizer parameter group per trainable layer, lower layers with smaller steps:

        lr_l = lr / decay^(L - 1 - l),   l = 0 (bottom) .. L - 1 (top, the head: lr itself)

    Frozen parameters are left out (a layer with none trainable gets no group, and does not
    count in L). Each group is {"params": [...], "lr": lr_l, "name": layer}; torch optimizers
    accept and keep the extra "name" key. decay = 1 gives every layer the same rate.
    """
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr!r}")
    if not decay >= 1:
        raise ValueError(f"decay must be at least 1 (lower layers learn more slowly), got "
                         f"{decay!r}")
    trainable = [(layer, [p for _, p in named if p.requires_grad])
                 for layer, named in parameters_by_layer(model).items()]
    trainable = [(layer, params) for layer, params in trainable if params]
    if not trainable:
        raise ValueError("model has no trainable parameters (every layer is frozen)")
    depth = len(trainable)
    return [{"params": params, "lr": lr / decay ** (depth - 1 - index), "name": layer}
            for index, (layer, params) in enumerate(trainable)]


@dataclass
class LoadReport:
    """What `load_pretrained` did, parameter by parameter."""

    loaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # left as initialised, on purpose
    mismatched: list[str] = field(default_factory=list)  # in both, shapes differ: left as is
    missing: list[str] = field(default_factory=list)  # not in the source: left as is

    def __str__(self) -> str:
        return (f"loaded {len(self.loaded)} tensors; kept new: {len(self.skipped)} skipped, "
                f"{len(self.mismatched)} of another shape, {len(self.missing)} missing")


def load_pretrained(
    model: nn.Module,
    source: nn.Module | Mapping[str, torch.Tensor],
    *,
    skip: str | Iterable[str] = (),
    strict: bool = False,
) -> LoadReport:
    """Copy the weights of `source` (a model or a state dict) into `model`, in place.

    Every tensor of `model.state_dict()` whose name is in `source` with the same shape is copied
    (cast to the model's dtype and device), except those of the `skip` layers (names or prefixes,
    as for `freeze`), which keep their fresh initialisation: a new head for a new task. Tensors
    the source lacks or has with another shape are left as they are and reported; with
    `strict=True` they raise a ValueError instead (a typo should not pass silently).
    """
    source_state = source.state_dict() if isinstance(source, nn.Module) else dict(source)
    skipped_layers = set(_resolve_layers(model, skip)) if skip else set()
    report = LoadReport()
    new_state = model.state_dict()
    for name, tensor in new_state.items():
        if _layer_of(name) in skipped_layers:
            report.skipped.append(name)
        elif name not in source_state:
            report.missing.append(name)
        elif tuple(source_state[name].shape) != tuple(tensor.shape):
            report.mismatched.append(name)
        else:
            with torch.no_grad():
                tensor.copy_(source_state[name].to(device=tensor.device, dtype=tensor.dtype))
            report.loaded.append(name)
    if strict and (report.missing or report.mismatched):
        raise ValueError(f"source does not fit model: missing {report.missing}, other shape "
                         f"{report.mismatched}")
    return report
