"""One LSTM step's element-wise work, forward and backward, as the fused LSTM runs it.

After a step's matrix product, what is left of an LSTM step is a dozen element-wise operations.
`lstm_cell_forward` and `lstm_cell_backward` write them in PyTorch, each as one function that
runs eagerly or compiled by `torch.compile` (`ElementwiseKernel`); `lstm_step.c` writes the same
two in C (`rnncourse.models.lstm_step_kernel`). `elementwise_steps` picks the pair a path runs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
from torch import Tensor

from rnncourse.models.kernels import ElementwiseKernel
from rnncourse.models.lstm_step_kernel import trusted_lstm_steps

__all__ = ["elementwise_steps", "lstm_cell_backward", "lstm_cell_forward", "tanh_by_sigmoid"]


def tanh_by_sigmoid(x: Tensor) -> Tensor:
    """tanh x = 2σ(2x) − 1, the same function (to float round-off) at the cost of one sigmoid.

    On CPUs torch's tanh kernel takes several times as long as its sigmoid; in a step of the
    LSTM, with two tanh and three sigmoids, that difference is most of the element-wise time.
    """
    return 2 * torch.sigmoid(2 * x) - 1


@ElementwiseKernel
def lstm_cell_forward(
    pre: Tensor, bias: Tensor | None, c_prev: Tensor, gates: Tensor, c: Tensor, tanh_c: Tensor,
    h: Tensor, h_next: Tensor | None = None,
) -> None:
    """Step t's element-wise work: from pre = W_ih x_t + W_hh h_{t-1}, (B, 4H), writes the gates
    (i, f, g, o) into gates (B, 4H) and c_t, tanh c_t and h_t into c, tanh_c, h (B, H).

    bias = b_ih + b_hh, (4H,) or None; c_prev = c_{t-1}, (B, H); h_next: where h_t goes too
    (beside x_{t+1}, for the next step's product), or None.
    """
    i, f, g, o = (pre if bias is None else pre + bias).chunk(4, dim=1)  # pre-activations
    i, f, o = torch.sigmoid(i), torch.sigmoid(f), torch.sigmoid(o)  # i_t, f_t, o_t = σ(·)
    g = tanh_by_sigmoid(g)  # g_t = tanh(·)
    c_t = f * c_prev + i * g  # c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t
    tanh_c_t = tanh_by_sigmoid(c_t)
    gates.copy_(torch.cat((i, f, g, o), dim=1))  # kept for the backward pass
    c.copy_(c_t)
    tanh_c.copy_(tanh_c_t)
    h.copy_(o * tanh_c_t)  # h_t = o_t ⊙ tanh(c_t)
    if h_next is not None:
        h_next.copy_(h)


@ElementwiseKernel
def lstm_cell_backward(
    grad_output: Tensor, grad_h: Tensor, grad_c: Tensor,
    gates: Tensor, c_prev: Tensor, tanh_c: Tensor, grad_gates: Tensor, grad_c_prev: Tensor,
) -> None:
    """Step t of BPTT: writes δ_t = ∂L/∂(pre-activations) into grad_gates (B, 4H) and ∂L/∂c_{t-1}
    into grad_c_prev (B, H).

    grad_output = ∂L/∂y_t from above; grad_h = δ_{t+1} W_hh and grad_c = ∂L/∂c_t through step
    t+1 (zero at t = T, or the gradients of h_T, c_T); gates = (i, f, g, o) of step t.
    """
    i, f, g, o = gates.chunk(4, dim=1)
    dh = grad_output + grad_h  # dh_t = ∂L/∂y_t + δ_{t+1} W_hh
    # dc_t = dc_{t+1} ⊙ f_{t+1} + dh_t ⊙ o_t ⊙ (1 − tanh² c_t)
    dc = grad_c + dh * o * (1 - tanh_c * tanh_c)
    grad_gates.copy_(torch.cat((
        dc * g * i * (1 - i),  # δ_i = dc_t ⊙ g_t ⊙ σ'   (σ' = i(1 − i))
        dc * c_prev * f * (1 - f),  # δ_f = dc_t ⊙ c_{t-1} ⊙ f(1 − f)
        dc * i * (1 - g * g),  # δ_g = dc_t ⊙ i_t ⊙ (1 − g_t²)
        dh * tanh_c * o * (1 - o),  # δ_o = dh_t ⊙ tanh c_t ⊙ o(1 − o)
    ), dim=1))
    grad_c_prev.copy_(dc * f)  # ∂c_t/∂c_{t-1} = f_t: what reaches c_{t-1}


def elementwise_steps(elementwise: str, dtype: torch.dtype) -> tuple[Callable, Callable]:
    """The forward and backward step functions of an element-wise path, for arrays of `dtype`
    that FusedLSTMFunction made itself (so the C steps run without their per-call checks)."""
    if elementwise == "c":
        return trusted_lstm_steps(dtype)
    compiled = elementwise == "compiled"
    return (functools.partial(lstm_cell_forward, compiled=compiled),
            functools.partial(lstm_cell_backward, compiled=compiled))
