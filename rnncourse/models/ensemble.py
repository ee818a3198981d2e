"""`Ensemble`: K independent copies of one small model, trained as one.

A sweep over seeds (or over settings that do not change the weights' shapes) trains K small
models that share an architecture. One after the other, each training step pays the framework's
fixed cost per operation K times: for a recurrent model written as a Python loop over time, that
cost dominates. Stacked, the K models' weights become one tensor per parameter with a leading
member axis, and `torch.func.vmap` runs the model's own forward on all of them at once: every
matrix product becomes one batched product (bmm) for K members, and the fixed cost is paid once.

    θ_k  for k = 1..K                    → Θ = stack(θ_1, ..., θ_K)          (K, *θ.shape)
    y_k = f(θ_k, x_k)                    → Y = vmap(f)(Θ, X)                 (K, B, ...)
    L = Σ_k L_k(y_k)                     ∂L/∂θ_k = ∂L_k/∂θ_k: members do not interact

Summing the members' losses keeps their gradients apart, and element-wise optimisers (SGD, Adam,
RMSProp) then take exactly the K separate steps. What must stay per member is what mixes
parameters: norm clipping clips each member's own gradient norm (`clip_grad_norm_per_member_`).
Random operations inside the model (dropout) draw different numbers for every member.
Buffers that a model updates in place during its forward pass (batch normalisation's running
statistics) are not updated: `vmap` runs the forward pass on copies. Compute them afterwards
on `member(k)`.

Where torch's fused kernels serve a single model (cuDNN, oneDNN's LSTM), one model after the
other may still be faster; the ensemble wins when the model's fixed cost per operation dominates
its arithmetic, as for small from-scratch recurrent models.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.func import functional_call, stack_module_state, vmap

__all__ = ["Ensemble", "clip_grad_norm_per_member_", "member_gradient_norms"]


class Ensemble(nn.Module):
    """K models with the same architecture (and parameter shapes), run as one with `vmap`.

    Args:
        models: the members, e.g. one model per seed. They are copied: training the ensemble
            does not change them; `member(k)` gives back member k with the trained weights.

    `forward(inputs)` takes inputs shared by every member, of the shape one member takes, or one
    batch per member with a leading axis of size K (`per_member_inputs=True`), and returns the
    members' outputs stacked on a leading axis: (K, *one member's output shape).
    """

    def __init__(self, models: Sequence[nn.Module]) -> None:
        super().__init__()
        models = list(models)
        if not models or not all(isinstance(model, nn.Module) for model in models):
            raise TypeError("models must be a non-empty sequence of torch.nn.Module")
        shapes = [{name: p.shape for name, p in model.named_parameters()} for model in models]
        if any(shape != shapes[0] for shape in shapes[1:]):
            raise ValueError("every member must have the same parameter names and shapes; "
                             "models of different sizes cannot be stacked")
        parameters, buffers = stack_module_state(models)
        self.size = len(models)
        # The stacked weights are this module's parameters (names with '.' are not allowed).
        self.stacked = nn.ParameterDict({_key(name): nn.Parameter(value.detach().clone())
                                         for name, value in parameters.items()})
        for name, value in buffers.items():
            self.register_buffer(f"buffer_{_key(name)}", value.detach().clone())
        self._names = list(parameters)
        self._buffer_names = list(buffers)
        self._template = copy.deepcopy(models[0])  # holds the architecture; its weights unused

    def __len__(self) -> int:
        return self.size

    def _state(self) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        parameters = {name: self.stacked[_key(name)] for name in self._names}
        buffers = {name: getattr(self, f"buffer_{_key(name)}") for name in self._buffer_names}
        return parameters, buffers

    def forward(self, inputs: Tensor, *, per_member_inputs: bool = False) -> Tensor:
        if per_member_inputs and (inputs.dim() == 0 or inputs.shape[0] != self.size):
            raise ValueError(f"per_member_inputs=True needs a leading axis of size {self.size} "
                             f"(one batch per member), got shape {tuple(inputs.shape)}")
        self._template.train(self.training)

        def one_member(parameters: dict, buffers: dict, member_inputs: Tensor) -> Tensor:
            output = functional_call(self._template, (parameters, buffers), (member_inputs,))
            return output[0] if isinstance(output, tuple) else output

        parameters, buffers = self._state()
        members = vmap(one_member, in_dims=(0, 0, 0 if per_member_inputs else None),
                       randomness="different")
        return members(parameters, buffers, inputs)

    def member(self, k: int) -> nn.Module:
        """Member k as an ordinary module with its current weights (a copy)."""
        if not 0 <= k < self.size:
            raise IndexError(f"member index must be in [0, {self.size}), got {k}")
        model = copy.deepcopy(self._template)
        parameters, buffers = self._state()
        state = {name: value[k].detach().clone() for name, value in parameters.items()}
        state.update({name: value[k].detach().clone() for name, value in buffers.items()})
        model.load_state_dict(state)
        return model


def _key(name: str) -> str:
    return name.replace(".", "__")


def member_gradient_norms(ensemble: Ensemble) -> Tensor:
    """‖g_k‖₂ = sqrt(Σ_p ‖∂L/∂θ_{k,p}‖²) for every member k: shape (K,). Missing gradients
    count as zero."""
    squares = torch.zeros(ensemble.size, device=next(ensemble.parameters()).device)
    for parameter in ensemble.stacked.values():
        if parameter.grad is not None:
            squares = squares + parameter.grad.detach().float().pow(2).flatten(1).sum(1)
    return squares.sqrt()


def clip_grad_norm_per_member_(ensemble: Ensemble, max_norm: float) -> Tensor:
    """Norm clipping for each member on its own, g_k ← g_k · min(1, c / ‖g_k‖₂), as if each were
    trained alone. Returns the norms before clipping, shape (K,)."""
    if not max_norm > 0:
        raise ValueError(f"max_norm must be positive, got {max_norm!r}")
    norms = member_gradient_norms(ensemble)
    scale = (max_norm / (norms + 1e-6)).clamp(max=1.0)
    for parameter in ensemble.stacked.values():
        if parameter.grad is not None:
            parameter.grad.mul_(scale.view(-1, *([1] * (parameter.dim() - 1))).to(parameter.grad))
    return norms
