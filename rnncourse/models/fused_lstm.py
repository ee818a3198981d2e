"""A fused LSTM: a whole layer over a whole sequence is one autograd node, with BPTT written out.

`rnncourse.models.LSTM` builds its graph step by step: every time step adds about ten small
operations to autograd's tape, and the backward pass replays them one by one. Here the forward
pass runs under one `torch.autograd.Function` that keeps only what backpropagation through time
(BPTT) needs, and the backward pass is BPTT by hand. Of the 24·T·B·H·(I+H) floating-point
operations of a forward and backward pass, all but a sliver are in matrix products, and only
two of them have to wait for the previous step:

* forward: each step multiplies [x_t, h_{t-1}], the input and the previous state side by side
  (B, I + H), by W = [W_ih W_hh]: one product gives W_ih x_t + W_hh h_{t-1}, and its (B, 4H)
  result is still in the processor's cache when the step's element-wise work reads it;
* backward: only δ_t W_hh (the gradient reaching h_{t-1}) waits for the next step; the gradients
  of the input and of both weights are products over all T·B rows after the sweep:

      ∂L/∂x_t = δ_t W_ih,   [∂L/∂W_ih, ∂L/∂W_hh] = Σ_t δ_tᵀ [x_t, h_{t-1}],
      ∂L/∂b = Σ_t Σ_batch δ_t,

  with δ_t = ∂L/∂(gate pre-activations at t), stacked over t into one (T·B, 4H) matrix.

The alternative for the forward pass, W_ih x_t for all t as one product over all T·B rows
*hoisted* out of the loop (as `rnncourse.models.LSTM` and cuDNN do), performs the same operations;
on one CPU core it was measured slower, because the hoisted product's (T, B, 4H) result goes out
to memory and each step reads its slice back. On a GPU, where one large product fills the
machine and a small one leaves it idle, hoisting is the better choice.

Each step's element-wise work is one function (`lstm_cell_forward`, `lstm_cell_backward`, in
`rnncourse.models.lstm_cell_steps`) that runs eagerly, or compiled by `torch.compile` into one
kernel (`elementwise="compiled"`), or as the same function written in C (`elementwise="c"`,
`rnncourse.models.lstm_step_kernel`); the products can run on oneDNN with the weights packed
once per pass (`matmul="auto"`); see `rnncourse.models.kernels`. The biases enter in the step
(one addition among a dozen), not in a product, where oneDNN's bias was measured to cost more
than that addition.

`FusedLSTM` has the constructor, parameter names and `forward` contract of `torch.nn.LSTM`
(without bidirectional and proj_size), so state dicts load both ways. Double backward is not
supported (the backward is itself not differentiable); use `rnncourse.models.LSTM` for that.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from rnncourse.checks import check_choice, check_lstm_state, check_shape, check_tensor_like
from rnncourse.models.kernels import (
    ELEMENTWISE_PATHS,
    MATMUL_PATHS,
    KernelPaths,
    WeightProduct,
    onednn_matmul_available,
    resolve_kernels,
)
from rnncourse.models.lstm_cell_steps import (
    elementwise_steps,
    lstm_cell_backward,
    lstm_cell_forward,
    tanh_by_sigmoid,
)
from rnncourse.models.lstm_step_kernel import lstm_step_kernel_unavailable
from rnncourse.models.sequence import LSTM, RecordedStates

__all__ = [
    "FusedLSTM",
    "FusedLSTMFunction",
    "check_layer_arguments",
    "fused_lstm",
    "fused_lstm_kernels",
    "lstm_cell_backward",
    "lstm_cell_forward",
    "tanh_by_sigmoid",
]


class FusedLSTMFunction(torch.autograd.Function):
    """One LSTM layer over a sequence (gates i, f, g, o as in torch.nn.LSTM).

    forward(input (T, B, I), h_0 (B, H), c_0 (B, H), weight_ih (4H, I), weight_hh (4H, H),
            bias_ih (4H,) or None, bias_hh (4H,) or None, paths: KernelPaths or None)
        -> (output (T, B, H), h_T, c_T)

    `paths` picks the kernels (`fused_lstm_kernels`); None: the default ones, eager element-wise.
    """

    @staticmethod
    def forward(ctx, input, h_0, c_0, weight_ih, weight_hh, bias_ih, bias_hh,  # noqa: D102
                paths=None):
        check_layer_arguments(input, h_0, c_0, weight_ih, weight_hh, bias_ih, bias_hh)
        paths = paths or resolve_kernels(input)
        _check_paths_fit(paths, input)
        steps, batch, input_size = input.shape
        hidden_size = weight_hh.shape[1]
        step_forward, _ = elementwise_steps(paths.elementwise, input.dtype)
        # The kernels run in the parameters' dtype; autocast would hand the products
        # lower-precision copies that the preallocated buffers cannot hold.
        with torch.autocast(device_type=input.device.type, enabled=False):
            # Row t of `stacked` is [x_t, h_{t-1}] side by side, (B, I + H): one product with
            # W = [W_ih W_hh] gives W_ih x_t + W_hh h_{t-1} at once, and all rows, kept, give
            # both weights' gradients in one product after the sweep.
            stacked = input.new_empty(steps, batch, input_size + hidden_size)
            stacked[:, :, :input_size] = input
            stacked[0, :, input_size:] = h_0
            product = WeightProduct(torch.cat((weight_ih, weight_hh), dim=1), batch,
                                    paths.matmul == "onednn")
            bias = None if bias_ih is None else bias_ih + bias_hh
            gates = input.new_empty(steps, batch, 4 * hidden_size)  # (i, f, g, o) of every t
            output = input.new_empty(steps, batch, hidden_size)  # h_1 .. h_T
            cells = input.new_empty(steps + 1, batch, hidden_size)  # c_0 .. c_T
            tanh_cells = input.new_empty(steps, batch, hidden_size)  # tanh c_1 .. tanh c_T
            cells[0] = c_0
            # One view per step of every buffer (unbind makes them all in one call).
            rows, gates_t, h, c, tanh_c = (x.unbind(0) for x in (
                stacked, gates, output, cells, tanh_cells))
            # h_t goes beside x_{t+1}; h_T, with no x_{T+1}, into a spare row of the same layout.
            h_next = [row[:, input_size:] for row in (*rows[1:], torch.empty_like(rows[0]))]
            for t in range(steps):
                pre = product(rows[t])  # W_ih x_t + W_hh h_{t-1}: waits for step t-1
                # Writes the gates, c_t, tanh c_t and h_t of step t, and h_t into h_next[t].
                step_forward(pre, bias, c[t], gates_t[t], c[t + 1], tanh_c[t], h[t], h_next[t])
        ctx.save_for_backward(stacked, weight_ih, weight_hh, gates, cells, tanh_cells)
        ctx.has_bias = bias_ih is not None
        ctx.paths = paths
        # h_T and c_T are copies, so that no two outputs share memory.
        return output, output[steps - 1].clone(), cells[steps].clone()

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output, grad_h_n, grad_c_n):  # noqa: D102
        stacked, weight_ih, weight_hh, gates, cells, tanh_cells = ctx.saved_tensors
        steps, batch, _ = stacked.shape
        input_size, hidden_size = weight_ih.shape[1], weight_hh.shape[1]
        onednn, in_c = ctx.paths.matmul == "onednn", ctx.paths.elementwise == "c"
        _, step_backward = elementwise_steps(ctx.paths.elementwise, gates.dtype)
        grad_output = grad_output.contiguous()
        wants_bias = ctx.has_bias and (ctx.needs_input_grad[5] or ctx.needs_input_grad[6])
        # The C step adds each δ_t into ∂L/∂b as it goes (in float64); the others sum all δ_t
        # at the end.
        bias_sum = (gates.new_zeros(4 * hidden_size, dtype=torch.float64) if wants_bias and in_c
                    else None)
        # The sweep, from t = T down to 1: δ_t for every t, one (B, 4H) slice each.
        grad_gates = torch.empty_like(gates)
        recurrent_product = WeightProduct(weight_hh.t(), batch, onednn)  # δ ↦ δ W_hh
        grad_h = grad_h_n.contiguous()  # what reaches h_T from outside
        # ∂L/∂c_t and ∂L/∂c_{t-1} in turn, in two buffers: one step reads one, writes the other.
        grad_c = grad_c_n.contiguous().clone()
        grad_c_prev = torch.empty_like(grad_c)
        steps_of = (x.unbind(0) for x in (grad_output, gates, cells, tanh_cells, grad_gates))
        grad_y, gates_t, c, tanh_c, delta = steps_of
        for t in range(steps - 1, -1, -1):
            extra = (bias_sum,) if in_c else ()
            step_backward(grad_y[t], grad_h, grad_c, gates_t[t], c[t], tanh_c[t], delta[t],
                          grad_c_prev, *extra)  # δ_t into delta[t], ∂L/∂c_{t-1}
            grad_c, grad_c_prev = grad_c_prev, grad_c
            grad_h = recurrent_product(delta[t])  # ∂L/∂h_{t-1} through step t = δ_t W_hh

        # After the sweep, one product over all T·B rows for each remaining gradient.
        flat_grad_gates = grad_gates.view(steps * batch, 4 * hidden_size)  # rows δ_t, all t
        grad_input = grad_weight_ih = grad_weight_hh = None
        if ctx.needs_input_grad[0]:  # ∂L/∂x_t = δ_t W_ih
            input_product = WeightProduct(weight_ih.t(), steps * batch, onednn)
            grad_input = input_product(flat_grad_gates).view(steps, batch, input_size)
        if ctx.needs_input_grad[3] or ctx.needs_input_grad[4]:
            # [∂L/∂W_ih, ∂L/∂W_hh] = Σ_t δ_tᵀ [x_t, h_{t-1}], computed transposed, (Σ_t [x_t,
            # h_{t-1}]ᵀ δ_t)ᵀ: the faster product.
            rows = stacked.view(steps * batch, input_size + hidden_size)
            grad_weight = (rows.t() @ flat_grad_gates).t()
            grad_weight_ih, grad_weight_hh = grad_weight.split((input_size, hidden_size), dim=1)
        grad_bias = None
        if wants_bias:  # b_ih and b_hh enter the same sum, Σ_t Σ_batch δ_t
            grad_bias = flat_grad_gates.sum(0) if bias_sum is None else bias_sum.to(gates.dtype)
        return (grad_input, grad_h, grad_c, grad_weight_ih, grad_weight_hh, grad_bias,
                None if grad_bias is None else grad_bias.clone(), None)


def check_layer_arguments(input: Tensor, h_0: Tensor, c_0: Tensor, weight_ih: Tensor,
                          weight_hh: Tensor, bias_ih: Tensor | None, bias_hh: Tensor | None,
                          state_names: tuple[str, str] = ("h_0", "c_0")) -> None:
    """A clear error for arguments of one layer that do not fit together: input (T, B, I),
    h_0 and c_0 (B, H; called `state_names` in the messages), weight_ih (4H, I), weight_hh
    (4H, H), biases (4H,) or both None, all of one floating dtype and device. The kernels read
    exactly these shapes."""
    check_tensor_like("input", input, weight_ih)
    if input.dim() != 3:
        raise ValueError(
            f"input must have shape (seq_len, batch, input_size), got {tuple(input.shape)}"
        )
    if input.shape[0] == 0:
        raise ValueError("input has seq_len=0; need at least one step")
    if (bias_ih is None) != (bias_hh is None):
        raise ValueError("give both bias_ih and bias_hh, or neither")
    check_tensor_like("weight_hh", weight_hh, weight_ih)
    if weight_hh.dim() != 2:
        raise ValueError(f"weight_hh must have shape (4 * hidden_size, hidden_size), got "
                         f"{tuple(weight_hh.shape)}")
    hidden_size = weight_hh.shape[1]
    gates_size = 4 * hidden_size
    check_shape("weight_ih", weight_ih, (gates_size, input.shape[2]), "(4 * hidden_size, "
                "input_size)")
    check_shape("weight_hh", weight_hh, (gates_size, hidden_size), "(4 * hidden_size, "
                "hidden_size)")
    for name, bias in (("bias_ih", bias_ih), ("bias_hh", bias_hh)):
        if bias is not None:
            check_tensor_like(name, bias, weight_ih)
            check_shape(name, bias, (gates_size,), "(4 * hidden_size,)")
    expected = (input.shape[1], hidden_size)
    for name, tensor in zip(state_names, (h_0, c_0), strict=True):
        check_tensor_like(name, tensor, weight_hh)
        check_shape(name, tensor, expected, "(batch, hidden_size)")


def _check_paths_fit(paths: KernelPaths, input: Tensor) -> None:
    """Paths resolved for other tensors (CPU ones, handed CUDA tensors) are refused: the C step
    would read a GPU's memory as its own, and oneDNN has no GPU product."""
    reason = lstm_step_kernel_unavailable(input) if paths.elementwise == "c" else None
    if reason is None and paths.matmul == "onednn" and not onednn_matmul_available(input):
        reason = "oneDNN's product is not available for these tensors"
    if reason is not None:
        raise ValueError(f"paths {paths.matmul!r} / {paths.elementwise!r} do not fit input "
                         f"({input.dtype} on {input.device}): {reason}; resolve them for these "
                         "tensors with fused_lstm_kernels")


def fused_lstm_kernels(
    reference: Tensor, matmul: str = "auto", elementwise: str = "eager"
) -> KernelPaths:
    """The kernels `fused_lstm` runs for tensors like `reference` (see `resolve_kernels`).

    Ask after a compiled call to learn whether compiling worked: a failure shows as "eager" with
    a note.
    """
    return resolve_kernels(reference, matmul, elementwise,
                           (lstm_cell_forward, lstm_cell_backward), lstm_step_kernel_unavailable)


def fused_lstm(
    input: Tensor,
    state: tuple[Tensor, Tensor],
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None = None,
    bias_hh: Tensor | None = None,
    *,
    matmul: str = "auto",
    elementwise: str = "eager",
) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """One LSTM layer over a time-major sequence, with the hand-written backward.

    input (T, B, I); state = (h_0, c_0), each (B, H). Returns (output (T, B, H), (h_T, c_T)),
    the same numbers as `torch.nn.LSTM` with these weights (see `lstm_step` for the equations).
    matmul: "auto", "onednn" or "torch"; elementwise: "eager", "compiled" (torch.compile of
    each step's element-wise work) or "c" (the same work in C, built on first use); each falls
    back to eager, with a warning, where no compiler works.
    """
    h_0, c_0 = check_lstm_state("state", state, "fused_lstm")
    check_layer_arguments(input, h_0, c_0, weight_ih, weight_hh, bias_ih, bias_hh,
                          state_names=("state[0] (h_0)", "state[1] (c_0)"))
    paths = fused_lstm_kernels(weight_hh, matmul, elementwise)
    output, h_n, c_n = FusedLSTMFunction.apply(
        input.contiguous(), h_0.contiguous(), c_0.contiguous(), weight_ih, weight_hh, bias_ih,
        bias_hh, paths,
    )
    return output, (h_n, c_n)


class FusedLSTM(LSTM):
    """An LSTM whose layers run as `FusedLSTMFunction`: a drop-in for `torch.nn.LSTM`.

    Same constructor, parameters (`weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`, ...)
    and `forward(input, hx) -> (output, (h_n, c_n))` as `rnncourse.models.LSTM` and torch.nn.LSTM:
    only the computation of each layer differs. Two keyword arguments pick its kernels:
    `matmul` ("auto": oneDNN with packed weights where available, "onednn", "torch") and
    `elementwise` ("eager"; "compiled": torch.compile, whose first call compiles for seconds
    to a minute; "c": `lstm_step.c`, built in a fraction of a second on first use, the fastest
    on CPUs; both fall back to eager where no compiler works). `kernels()` says which run.
    It cannot record hidden states (`record_hidden_states`): the steps are not autograd nodes.
    """

    def __init__(self, *args, matmul: str = "auto", elementwise: str = "eager",
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.matmul = check_choice("matmul", matmul, MATMUL_PATHS)
        self.elementwise = check_choice("elementwise", elementwise, ELEMENTWISE_PATHS)

    def kernels(self) -> KernelPaths:
        """The kernels its layers run (after a compiled call: whether compiling worked)."""
        return fused_lstm_kernels(self.weight_hh_l0, self.matmul, self.elementwise)

    def forward(
        self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """input (L, B, I), or (B, L, I) with batch_first, or (L, I); hx = (h_0, c_0).

        Under autocast, floating inputs in a lower precision (a bfloat16 activation from an
        autocast layer before it) are cast to the parameters' dtype, which the layer runs in.
        """
        if self._recording is not None:
            raise RuntimeError(
                "FusedLSTM cannot record hidden states: its time steps are not autograd nodes. "
                "Use rnncourse.models.LSTM (same parameters) for record_hidden_states()"
            )
        dtype = self.weight_ih_l0.dtype
        if isinstance(input, Tensor) and torch.is_autocast_enabled(input.device.type):
            input = input.to(dtype) if input.is_floating_point() else input
            if hx is not None:
                hx = tuple(s.to(dtype) if isinstance(s, Tensor) and s.is_floating_point() else s
                           for s in hx)
        return super().forward(input, hx)

    def _run_layer(
        self,
        layer: int,
        layer_input: Tensor,
        state: tuple[Tensor, Tensor],
        recording: RecordedStates | None,
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """Layer `layer` over the whole time-major sequence, as one `fused_lstm` call."""
        kernels = {"matmul": self.matmul, "elementwise": self.elementwise}
        if layer_input.dim() == 3:
            return fused_lstm(layer_input, state, *self.layer_parameters(layer), **kernels)
        # One unbatched sequence (L, I): run it as a batch of one.
        h_0, c_0 = (part.unsqueeze(0) for part in state)
        output, (h_n, c_n) = fused_lstm(
            layer_input.unsqueeze(1), (h_0, c_0), *self.layer_parameters(layer), **kernels
        )
        return output.squeeze(1), (h_n.squeeze(0), c_n.squeeze(0))
