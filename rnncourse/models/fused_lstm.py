"""A fused LSTM: a whole layer over a whole sequence is one autograd node, with BPTT written out.

`rnncourse.models.LSTM` builds its graph step by step: every time step adds about ten small
operations to autograd's tape, and the backward pass replays them one by one. Here the forward
pass runs under one `torch.autograd.Function` that keeps only what backpropagation through time
(BPTT) needs, and the backward pass is BPTT by hand:

* the input projection W_ih x_t + (b_ih + b_hh) for every t is one matrix product (hoisted out of
  the time loop); only W_hh h_{t-1} waits for the previous step;
* every factor of the backward recurrence that does not depend on the incoming gradient (gate
  derivatives, c_{t-1}, tanh c_t) is computed for all steps at once before the backward sweep, so
  the sweep itself is five small operations and one matrix product per step;
* the weight gradients are one matrix product per sequence, not one per step:

      ∂L/∂W_hh = Σ_t δ_t^T h_{t-1},   ∂L/∂W_ih = Σ_t δ_t^T x_t,   ∂L/∂b = Σ_t Σ_batch δ_t,

  with δ_t = ∂L/∂(gate pre-activations at t), stacked over t into one (T·B, 4H) matrix.

`FusedLSTM` has the constructor, parameter names and `forward` contract of `torch.nn.LSTM`
(without bidirectional and proj_size), so state dicts load both ways. Double backward is not
supported (the backward is itself not differentiable); use `rnncourse.models.LSTM` for that.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from rnncourse.checks import check_lstm_state, check_shape, check_tensor_like
from rnncourse.models.sequence import LSTM, RecordedStates

__all__ = ["FusedLSTM", "FusedLSTMFunction", "fused_lstm"]


class FusedLSTMFunction(torch.autograd.Function):
    """One LSTM layer over a sequence (gates i, f, g, o as in torch.nn.LSTM).

    forward(input (T, B, I), h_0 (B, H), c_0 (B, H), weight_ih (4H, I), weight_hh (4H, H),
            bias_ih (4H,) or None, bias_hh (4H,) or None) -> (output (T, B, H), h_T, c_T)
    """

    @staticmethod
    def forward(ctx, input, h_0, c_0, weight_ih, weight_hh, bias_ih, bias_hh):  # noqa: D102
        steps, batch, input_size = input.shape
        hidden_size = weight_hh.shape[1]
        # The kernels below run in the parameters' dtype; autocast would hand the matrix products
        # lower-precision copies that the preallocated buffers cannot hold.
        with torch.autocast(device_type=input.device.type, enabled=False):
            # Hoisted input projection for all t at once: W_ih x_t + b_ih + b_hh, (T, B, 4H).
            # The buffer is overwritten step by step with the gate activations (i, f, g, o).
            flat_input = input.reshape(steps * batch, input_size)
            if bias_ih is not None:
                bias = bias_ih + bias_hh
                gates = torch.addmm(bias, flat_input, weight_ih.t())
            else:
                gates = flat_input @ weight_ih.t()
            gates = gates.view(steps, batch, 4 * hidden_size)
            hidden = input.new_empty(steps + 1, batch, hidden_size)  # h_0 .. h_T
            cells = input.new_empty(steps + 1, batch, hidden_size)  # c_0 .. c_T
            tanh_cells = input.new_empty(steps, batch, hidden_size)  # tanh c_1 .. tanh c_T
            hidden[0] = h_0
            cells[0] = c_0
            recurrent_weight = weight_hh.t()
            h = hidden_size
            for t in range(steps):
                gates_t = gates[t]
                gates_t.addmm_(hidden[t], recurrent_weight)  # + W_hh h_{t-1}
                gates_t[:, : 2 * h].sigmoid_()  # i_t, f_t = σ(·)
                gates_t[:, 2 * h : 3 * h].tanh_()  # g_t = tanh(·)
                gates_t[:, 3 * h :].sigmoid_()  # o_t = σ(·)
                i, f, g, o = gates_t.chunk(4, dim=1)
                torch.mul(f, cells[t], out=cells[t + 1])  # c_t = f_t ⊙ c_{t-1}
                cells[t + 1].addcmul_(i, g)  #              + i_t ⊙ g_t
                torch.tanh(cells[t + 1], out=tanh_cells[t])
                torch.mul(o, tanh_cells[t], out=hidden[t + 1])  # h_t = o_t ⊙ tanh(c_t)
        ctx.save_for_backward(input, weight_ih, weight_hh, gates, hidden, cells, tanh_cells)
        ctx.has_bias = bias_ih is not None
        # h_T and c_T are copies, so that no two outputs share memory.
        return hidden[1:], hidden[steps].clone(), cells[steps].clone()

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output, grad_h_n, grad_c_n):  # noqa: D102
        input, weight_ih, weight_hh, gates, hidden, cells, tanh_cells = ctx.saved_tensors
        steps, batch, input_size = input.shape
        hidden_size = weight_hh.shape[1]
        i, f, g, o = gates.chunk(4, dim=2)  # activations, each (T, B, H)

        # Everything in the backward recurrence that does not depend on the incoming gradient,
        # for all steps at once (a few large vectorised operations instead of T small ones):
        #   ∂c_t/∂h_t-path:   S_t = o_t ⊙ (1 − tanh² c_t)
        #   gates i, f, g:    δ_{i,f,g} = dc_t ⊙ Q_t with
        #                     Q_t = (g_t ⊙ i_t(1−i_t),  c_{t-1} ⊙ f_t(1−f_t),  i_t ⊙ (1−g_t²))
        #   gate o:           δ_o = dh_t ⊙ R_t with R_t = tanh c_t ⊙ o_t(1−o_t)
        through_tanh = o * (1 - tanh_cells * tanh_cells)
        partners = torch.stack(
            (g * i * (1 - i), cells[:-1] * f * (1 - f), i * (1 - g * g)), dim=2
        )  # (T, B, 3, H)
        output_partner = tanh_cells * o * (1 - o)

        grad_gates = gates.new_empty(steps, batch, 4 * hidden_size)  # δ_t for every t
        grad_h = grad_h_n.clone()  # ∂L/∂h_t arriving from step t+1 (and from h_T)
        grad_c = grad_c_n.clone()  # ∂L/∂c_t arriving from step t+1 (and from c_T)
        three_gates = 3 * hidden_size
        for t in range(steps - 1, -1, -1):
            grad_h += grad_output[t]  # dh_t = ∂L/∂y_t + (∂L/∂h_t through step t+1)
            grad_c.addcmul_(grad_h, through_tanh[t])  # dc_t = dc_{t+1}⊙f_{t+1} + dh_t⊙S_t
            torch.mul(  # δ_i, δ_f, δ_g = dc_t ⊙ Q_t, written straight into δ_t
                partners[t],
                grad_c.unsqueeze(1),
                out=grad_gates[t, :, :three_gates].view(batch, 3, hidden_size),
            )
            torch.mul(grad_h, output_partner[t], out=grad_gates[t, :, three_gates:])  # δ_o
            grad_c.mul_(f[t])  # ∂c_t/∂c_{t-1} = f_t: what reaches c_{t-1}
            grad_h = grad_gates[t] @ weight_hh  # ∂L/∂h_{t-1} = δ_t W_hh

        # One matrix product per sequence for each weight gradient.
        flat_grad_gates = grad_gates.view(steps * batch, 4 * hidden_size)
        grad_input = grad_weight_ih = grad_weight_hh = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_input = (flat_grad_gates @ weight_ih).view(steps, batch, input_size)
        if ctx.needs_input_grad[3]:
            grad_weight_ih = flat_grad_gates.t() @ input.reshape(steps * batch, input_size)
        if ctx.needs_input_grad[4]:
            previous_hidden = hidden[:-1].reshape(steps * batch, hidden_size)  # h_0 .. h_{T-1}
            grad_weight_hh = flat_grad_gates.t() @ previous_hidden
        if ctx.has_bias and (ctx.needs_input_grad[5] or ctx.needs_input_grad[6]):
            grad_bias = flat_grad_gates.sum(0)  # b_ih and b_hh enter the same sum
        return grad_input, grad_h, grad_c, grad_weight_ih, grad_weight_hh, grad_bias, grad_bias


def fused_lstm(
    input: Tensor,
    state: tuple[Tensor, Tensor],
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None = None,
    bias_hh: Tensor | None = None,
) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """One LSTM layer over a time-major sequence, with the hand-written backward.

    input (T, B, I); state = (h_0, c_0), each (B, H). Returns (output (T, B, H), (h_T, c_T)),
    the same numbers as `torch.nn.LSTM` with these weights (see `lstm_step` for the equations).
    """
    h_0, c_0 = check_lstm_state("state", state, "fused_lstm")
    check_tensor_like("input", input, weight_ih)
    if input.dim() != 3:
        raise ValueError(
            f"input must have shape (seq_len, batch, input_size), got {tuple(input.shape)}"
        )
    if input.shape[0] == 0:
        raise ValueError("input has seq_len=0; need at least one step")
    if (bias_ih is None) != (bias_hh is None):
        raise ValueError("give both bias_ih and bias_hh, or neither")
    hidden_size = weight_hh.shape[1]
    expected = (input.shape[1], hidden_size)
    for name, tensor in (("state[0] (h_0)", h_0), ("state[1] (c_0)", c_0)):
        check_tensor_like(name, tensor, weight_hh)
        check_shape(name, tensor, expected, "(batch, hidden_size)")
    output, h_n, c_n = FusedLSTMFunction.apply(
        input.contiguous(), h_0, c_0, weight_ih, weight_hh, bias_ih, bias_hh
    )
    return output, (h_n, c_n)


class FusedLSTM(LSTM):
    """An LSTM whose layers run as `FusedLSTMFunction`: a drop-in for `torch.nn.LSTM`.

    Same constructor, parameters (`weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`, ...)
    and `forward(input, hx) -> (output, (h_n, c_n))` as `rnncourse.models.LSTM` and torch.nn.LSTM:
    only the computation of each layer differs. It cannot record hidden states
    (`record_hidden_states`): the steps are not autograd nodes.
    """

    def forward(
        self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """input (L, B, I), or (B, L, I) with batch_first, or (L, I); hx = (h_0, c_0)."""
        if self._recording is not None:
            raise RuntimeError(
                "FusedLSTM cannot record hidden states: its time steps are not autograd nodes. "
                "Use rnncourse.models.LSTM (same parameters) for record_hidden_states()"
            )
        return super().forward(input, hx)

    def _run_layer(
        self,
        layer: int,
        layer_input: Tensor,
        state: tuple[Tensor, Tensor],
        recording: RecordedStates | None,
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """Layer `layer` over the whole time-major sequence, as one `fused_lstm` call."""
        if layer_input.dim() == 3:
            return fused_lstm(layer_input, state, *self.layer_parameters(layer))
        # One unbatched sequence (L, I): run it as a batch of one.
        h_0, c_0 = (part.unsqueeze(0) for part in state)
        output, (h_n, c_n) = fused_lstm(
            layer_input.unsqueeze(1), (h_0, c_0), *self.layer_parameters(layer)
        )
        return output.squeeze(1), (h_n.squeeze(0), c_n.squeeze(0))
