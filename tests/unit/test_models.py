"""rnncourse.models against torch.nn: same weights in, same outputs, states and gradients out."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from rnncourse.models import (
    GRU,
    LSTM,
    RNN,
    GRUCell,
    LSTMCell,
    RecordedStates,
    RecurrentModel,
    RNNCell,
    gru_step,
    lstm_step,
    rnn_step,
)
from rnncourse.models.recurrent_model import seeded

T, B, IN, H, OUT = 7, 3, 4, 5, 2  # sequence length, batch, input, hidden and output sizes
TOL = {"atol": 1e-5, "rtol": 1e-5}

# kind -> (our sequence module, torch's, our cell, torch's cell, extra constructor arguments)
KINDS = {
    "rnn_tanh": (RNN, nn.RNN, RNNCell, nn.RNNCell, {"nonlinearity": "tanh"}),
    "rnn_relu": (RNN, nn.RNN, RNNCell, nn.RNNCell, {"nonlinearity": "relu"}),
    "lstm": (LSTM, nn.LSTM, LSTMCell, nn.LSTMCell, {}),
    "gru": (GRU, nn.GRU, GRUCell, nn.GRUCell, {}),
}


def randn(*shape: int, seed: int, device: str) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=generator).to(device)


def as_tuple(state: torch.Tensor | tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
    return state if isinstance(state, tuple) else (state,)


def sequence_pair(kind: str, device: str, **kwargs) -> tuple[nn.Module, nn.Module]:
    """Our module (seed 0) and torch's (seed 1), with our weights copied into torch's."""
    ours_cls, torch_cls, _, _, extra = KINDS[kind]
    torch.manual_seed(0)
    ours = ours_cls(IN, H, **extra, **kwargs).to(device)
    torch.manual_seed(1)
    theirs = torch_cls(IN, H, **extra, **kwargs).to(device)
    theirs.load_state_dict(ours.state_dict(), strict=True)
    return ours, theirs


def forward_backward(module: nn.Module, x: torch.Tensor, hx, loss_seed: int = 2):
    """Outputs, final states and the gradients of a random linear loss of both."""
    x = x.detach().clone().requires_grad_()
    hx_leaves = None
    if hx is not None:
        hx_leaves = tuple(h.detach().clone().requires_grad_() for h in as_tuple(hx))
        hx = hx_leaves if isinstance(hx, tuple) else hx_leaves[0]
    output, state = module(x, hx)
    state = as_tuple(state)
    loss = (output * randn(*output.shape, seed=loss_seed, device=x.device)).sum()
    for k, s in enumerate(state):
        loss = loss + (s * randn(*s.shape, seed=loss_seed + 1 + k, device=x.device)).sum()
    loss.backward()
    gradients = {name: p.grad for name, p in module.named_parameters()}
    hx_grads = None if hx_leaves is None else tuple(h.grad for h in hx_leaves)
    return output, state, x.grad, hx_grads, gradients


def assert_same_run(ours, theirs, x, hx) -> None:
    out_a, state_a, x_grad_a, hx_grad_a, grads_a = forward_backward(ours, x, hx)
    out_b, state_b, x_grad_b, hx_grad_b, grads_b = forward_backward(theirs, x, hx)
    assert_close(out_a, out_b, **TOL)
    assert len(state_a) == len(state_b)
    for a, b in zip(state_a, state_b, strict=True):
        assert_close(a, b, **TOL)
    assert_close(x_grad_a, x_grad_b, **TOL)
    if hx is not None:
        for a, b in zip(hx_grad_a, hx_grad_b, strict=True):
            assert_close(a, b, **TOL)
    assert grads_a.keys() == grads_b.keys()
    for name in grads_a:
        assert_close(grads_a[name], grads_b[name], **TOL, msg=f"gradient of {name}")


def initial_state(kind: str, shape: tuple[int, ...], device: str):
    h0 = randn(*shape, seed=5, device=device)
    return (h0, randn(*shape, seed=6, device=device)) if kind == "lstm" else h0


# ---- sequence modules --------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, num_layers, batch_first, with_hx, bias",
    list(itertools.product(KINDS, [1, 2], [False, True], [False, True], [True, False])),
)
def test_sequence_matches_torch(device, kind, num_layers, batch_first, with_hx, bias):
    ours, theirs = sequence_pair(kind, device, num_layers=num_layers, bias=bias,
                                 batch_first=batch_first)  # fmt: skip
    x = randn(*((B, T, IN) if batch_first else (T, B, IN)), seed=3, device=device)
    hx = initial_state(kind, (num_layers, B, H), device) if with_hx else None
    assert_same_run(ours, theirs, x, hx)


@pytest.mark.parametrize(
    "kind, num_layers, batch_first, with_hx",
    list(itertools.product(KINDS, [1, 2], [False, True], [False, True])),
)
def test_unbatched_sequence_matches_torch(device, kind, num_layers, batch_first, with_hx):
    ours, theirs = sequence_pair(kind, device, num_layers=num_layers, batch_first=batch_first)
    x = randn(T, IN, seed=3, device=device)
    hx = initial_state(kind, (num_layers, H), device) if with_hx else None
    assert_same_run(ours, theirs, x, hx)
    output, state = ours(x, hx)
    assert output.shape == (T, H)
    assert all(s.shape == (num_layers, H) for s in as_tuple(state))


@pytest.mark.parametrize("kind", KINDS)
def test_state_dicts_load_both_ways(device, kind):
    ours_cls, torch_cls, _, _, extra = KINDS[kind]
    x = randn(T, B, IN, seed=3, device=device)
    torch.manual_seed(10)
    theirs = torch_cls(IN, H, num_layers=2, **extra).to(device)
    ours = ours_cls(IN, H, num_layers=2, **extra).to(device)
    ours.load_state_dict(theirs.state_dict(), strict=True)  # torch -> ours
    assert_close(ours(x)[0], theirs(x)[0], **TOL)

    torch.manual_seed(11)
    ours = ours_cls(IN, H, num_layers=2, **extra).to(device)
    theirs.load_state_dict(ours.state_dict(), strict=True)  # ours -> torch
    assert_close(ours(x)[0], theirs(x)[0], **TOL)
    assert [(n, p.shape) for n, p in ours.named_parameters()] == [
        (n, p.shape) for n, p in theirs.named_parameters()
    ]


@pytest.mark.parametrize("kind", KINDS)
def test_default_init_is_torchs(kind):
    """Same seed, same initial weights: U(-1/√H, 1/√H) drawn in torch's parameter order."""
    ours_cls, torch_cls, ours_cell, torch_cell, extra = KINDS[kind]
    for make_ours, make_theirs in [
        (lambda: ours_cls(IN, H, 2, **extra), lambda: torch_cls(IN, H, 2, **extra)),
        (lambda: ours_cell(IN, H, **extra), lambda: torch_cell(IN, H, **extra)),
    ]:
        torch.manual_seed(4)
        ours = make_ours()
        torch.manual_seed(4)
        theirs = make_theirs()
        for (name, a), (_, b) in zip(ours.named_parameters(), theirs.named_parameters(),
                                     strict=True):  # fmt: skip
            assert torch.equal(a, b), name
            assert a.abs().max() <= H**-0.5


@pytest.mark.parametrize("kind", ["rnn_tanh", "lstm", "gru"])
def test_dropout_between_layers_matches_torch(kind):
    """On the CPU torch draws its dropout masks with the same generator calls as we do."""
    ours, theirs = sequence_pair(kind, "cpu", num_layers=3, dropout=0.5)
    x = randn(T, B, IN, seed=3, device="cpu")
    torch.manual_seed(7)
    out_a, state_a = ours(x)
    torch.manual_seed(7)
    out_b, state_b = theirs(x)
    assert_close(out_a, out_b, **TOL)
    for a, b in zip(as_tuple(state_a), as_tuple(state_b), strict=True):
        assert_close(a, b, **TOL)
    plain = KINDS[kind][0](IN, H, num_layers=3, **KINDS[kind][4])
    plain.load_state_dict(ours.state_dict())
    assert not torch.allclose(out_a, plain(x)[0])  # dropout did something in training mode
    ours.eval()
    assert_close(ours(x)[0], plain(x)[0], atol=0, rtol=0)  # and nothing in eval mode


def test_dropout_with_one_layer_warns_like_torch():
    with pytest.warns(UserWarning, match="num_layers=1"):
        LSTM(IN, H, dropout=0.2)


# ---- cells and step functions ------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, batched, with_hx, bias",
    list(itertools.product(KINDS, [True, False], [False, True], [True, False])),
)
def test_cell_matches_torch(device, kind, batched, with_hx, bias):
    _, _, ours_cls, torch_cls, extra = KINDS[kind]
    torch.manual_seed(0)
    ours = ours_cls(IN, H, bias=bias, **extra).to(device)
    theirs = torch_cls(IN, H, bias=bias, **extra).to(device)
    theirs.load_state_dict(ours.state_dict(), strict=True)
    ours.load_state_dict(theirs.state_dict(), strict=True)
    batch = (B,) if batched else ()
    x = randn(*batch, IN, seed=3, device=device)
    hx = initial_state(kind, (*batch, H), device) if with_hx else None

    def run(cell: nn.Module):
        x_leaf = x.clone().requires_grad_()
        state = as_tuple(cell(x_leaf, hx))
        loss = sum((s * randn(*s.shape, seed=8 + k, device=device)).sum()
                   for k, s in enumerate(state))  # fmt: skip
        loss.backward()
        return state, x_leaf.grad, {n: p.grad for n, p in cell.named_parameters()}

    state_a, x_grad_a, grads_a = run(ours)
    state_b, x_grad_b, grads_b = run(theirs)
    for a, b in zip(state_a, state_b, strict=True):
        assert a.shape == (*batch, H)
        assert_close(a, b, **TOL)
    assert_close(x_grad_a, x_grad_b, **TOL)
    assert grads_a.keys() == grads_b.keys()
    for name in grads_a:
        assert_close(grads_a[name], grads_b[name], **TOL, msg=f"gradient of {name}")


def test_step_functions_are_the_cells():
    torch.manual_seed(0)
    x, h, c = torch.randn(B, IN), torch.randn(B, H), torch.randn(B, H)
    rnn, lstm, gru = nn.RNNCell(IN, H, nonlinearity="relu"), nn.LSTMCell(IN, H), nn.GRUCell(IN, H)

    def weights(cell):
        return cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh

    assert_close(rnn_step(x, h, *weights(rnn), nonlinearity="relu"), rnn(x, h), **TOL)
    for a, b in zip(lstm_step(x, (h, c), *weights(lstm)), lstm(x, (h, c)), strict=True):
        assert_close(a, b, **TOL)
    assert_close(gru_step(x, h, *weights(gru)), gru(x, h), **TOL)
    no_bias = nn.GRUCell(IN, H, bias=False)  # biases are optional: None means bias=False
    assert_close(gru_step(x, h, no_bias.weight_ih, no_bias.weight_hh), no_bias(x, h), **TOL)


# ---- recording hidden states -------------------------------------------------------------


def reference_state_grad(ours: nn.Module, kind: str, x: torch.Tensor, layer: int, t: int,
                         cell: bool = False) -> torch.Tensor:  # fmt: skip
    """∂L/∂h_t (or ∂L/∂c_t) of `layer`, by torch.nn, cutting that layer's sequence at step t.

    Layer `layer` runs over x[:t+1], its state at step t is detached into a leaf, and the run goes
    on from that leaf, which also stands in for output t: the leaf's gradient is the total
    derivative of the loss with respect to that state. For c_t, h_t = o_t ⊙ tanh(c_t) is rebuilt
    from the leaf, since h_t depends on c_t within the same step.
    """
    _, torch_cls, _, _, extra = KINDS[kind]
    layer_input, finals, leaf = x, [], None
    for k in range(ours.num_layers):
        single = torch_cls(IN if k == 0 else H, H, **extra).to(x.device)
        layer_k = {name: p for name, p in ours.state_dict().items() if name.endswith(f"_l{k}")}
        single.load_state_dict({name.replace(f"_l{k}", "_l0"): p for name, p in layer_k.items()})
        if k != layer:
            layer_input, state = single(layer_input)
            finals.append(as_tuple(state))
            continue
        head, state = single(layer_input[: t + 1])
        if cell:
            h_prev = head[t - 1] if t > 0 else torch.zeros_like(head[0])
            output_gate = slice(3 * H, 4 * H)  # gate order i, f, g, o
            o = torch.sigmoid(  # o_t, computed apart: it depends on h_{t-1}, not on c_t
                layer_input[t] @ single.weight_ih_l0[output_gate].T
                + single.bias_ih_l0[output_gate]
                + h_prev @ single.weight_hh_l0[output_gate].T
                + single.bias_hh_l0[output_gate]
            )
            leaf = state[1].detach().requires_grad_()
            state = ((o * torch.tanh(leaf[0]))[None], leaf)
        else:
            leaf = as_tuple(state)[0].detach().requires_grad_()
            state = (leaf, state[1].detach()) if kind == "lstm" else leaf
        pieces = [head[:t], as_tuple(state)[0]]
        if t + 1 < x.shape[0]:
            tail, state = single(layer_input[t + 1 :], state)
            pieces.append(tail)
        layer_input = torch.cat(pieces)
        finals.append(as_tuple(state))
    final = [torch.cat(parts) for parts in zip(*finals, strict=True)]
    (grad,) = torch.autograd.grad(state_loss(layer_input, final), leaf)
    return grad[0]


def state_loss(output: torch.Tensor, final) -> torch.Tensor:
    loss = (output * randn(*output.shape, seed=20, device=output.device)).sum()
    for k, s in enumerate(final):
        loss = loss + (s * randn(*s.shape, seed=21 + k, device=output.device)).sum()
    return loss


@pytest.mark.parametrize("kind, num_layers", list(itertools.product(KINDS, [1, 2])))
def test_recorded_state_gradients_are_total_derivatives(device, kind, num_layers):
    ours, _ = sequence_pair(kind, device, num_layers=num_layers)
    x = randn(T, B, IN, seed=3, device=device)
    with ours.record_hidden_states() as recorded:
        output, state = ours(x)
    state_loss(output, as_tuple(state)).backward()
    assert isinstance(recorded, RecordedStates)
    assert len(recorded.hidden) == num_layers and all(len(hs) == T for hs in recorded.hidden)
    assert (recorded.cell is not None) == (kind == "lstm")
    for layer, t in itertools.product(range(num_layers), range(T)):
        expected = reference_state_grad(ours, kind, x, layer, t)
        assert_close(recorded.hidden[layer][t].grad, expected, **TOL)
        if kind == "lstm":
            expected = reference_state_grad(ours, kind, x, layer, t, cell=True)
            assert_close(recorded.cell[layer][t].grad, expected, **TOL)
    assert_close(torch.stack(recorded.hidden[-1]), output, atol=0, rtol=0)
    assert recorded.hidden_grads(layer=0).shape == (T, B, H)


def test_recording_only_inside_the_context():
    lstm = LSTM(IN, H, batch_first=True)
    x = torch.randn(B, T, IN)
    with lstm.record_hidden_states() as recorded:
        lstm(x)
    first = recorded.hidden[0][0]
    lstm(x)  # outside: nothing new is kept
    assert recorded.hidden[0][0] is first and len(recorded.hidden[0]) == T
    assert lstm._recording is None
    with lstm.record_hidden_states() as recorded, torch.no_grad():
        lstm(x)  # states that need no grad are kept without retain_grad
    assert not recorded.hidden[0][0].requires_grad
    with pytest.raises(RuntimeError, match="no gradient recorded"):
        recorded.hidden_grads()


# ---- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "build, call, error, message",
    [
        (lambda: RNN(3, H), lambda m: m(torch.randn(T, B, 5)), ValueError,
         "input has 5 features, expected input_size=3"),
        (lambda: GRU(3, H), lambda m: m(torch.randn(3)), ValueError, r"input must have shape"),
        (lambda: GRU(3, H, batch_first=True), lambda m: m(torch.randn(1, B, T, 3)), ValueError,
         r"\(batch, seq_len, input_size\)"),
        (lambda: RNN(3, H), lambda m: m(torch.randn(0, B, 3)), ValueError, "seq_len=0"),
        (lambda: RNN(3, H, 2), lambda m: m(torch.randn(T, B, 3), torch.zeros(1, B, H)),
         ValueError, r"hx has shape \(1, 3, 5\), expected \(num_layers, batch, hidden_size\) = "
         r"\(2, 3, 5\)"),
        (lambda: GRU(3, H), lambda m: m(torch.randn(T, 3), torch.zeros(1, B, H)), ValueError,
         r"\(num_layers, hidden_size\) for unbatched input"),
        (lambda: LSTM(3, H), lambda m: m(torch.randn(T, B, 3), torch.zeros(1, B, H)), TypeError,
         r"tuple \(h_0, c_0\)"),
        (lambda: LSTM(3, H), lambda m: m(torch.randn(T, B, 3), (torch.zeros(1, B, H),
         torch.zeros(1, B, 4))), ValueError, r"c_0.*expected"),
        (lambda: LSTM(3, H), lambda m: m(torch.randn(T, B, 3, dtype=torch.float64)), TypeError,
         "dtype"),
        (lambda: LSTM(3, H), lambda m: m(torch.ones(T, B, 3, dtype=torch.long)), TypeError,
         "floating-point"),
        (lambda: LSTM(3, H), lambda m: m([[0.0] * 3]), TypeError, "input must be a torch.Tensor"),
        (lambda: RNNCell(3, H), lambda m: m(torch.randn(B, 5)), ValueError,
         "input has 5 features, expected input_size=3"),
        (lambda: GRUCell(3, H), lambda m: m(torch.randn(T, B, 3)), ValueError,
         r"\(batch, input_size\)"),
        (lambda: GRUCell(3, H), lambda m: m(torch.randn(B, 3), torch.zeros(B, 4)), ValueError,
         r"hx has shape \(3, 4\), expected \(batch, hidden_size\) = \(3, 5\)"),
        (lambda: LSTMCell(3, H), lambda m: m(torch.randn(B, 3), torch.zeros(B, H)), TypeError,
         "tuple"),
        (lambda: RecurrentModel("gru", input_size=3, hidden_size=H, output_size=OUT, device="cpu"),
         lambda m: m(torch.randn(B, T, 4)), ValueError, "x has 4 features, expected input_size=3"),
        (lambda: RecurrentModel("gru", input_size=3, hidden_size=H, output_size=OUT, device="cpu"),
         lambda m: m(torch.randn(B)), ValueError, r"\(batch, seq_len, input_size\)"),
        (lambda: RecurrentModel(input_size=3, hidden_size=H, output_size=OUT, backend="torch",
                                device="cpu"),
         lambda m: m.record_hidden_states().__enter__(), ValueError, "backend='rnncourse'"),
    ],
)  # fmt: skip
def test_bad_input_is_named(build, call, error, message):
    with pytest.raises(error, match=message):
        call(build())


@pytest.mark.parametrize(
    "build, error, message",
    [
        (lambda: RNN(0, H), ValueError, "input_size must be a positive int"),
        (lambda: LSTM(IN, -1), ValueError, "hidden_size must be a positive int"),
        (lambda: GRU(IN, H, num_layers=0), ValueError, "num_layers"),
        (lambda: GRU(2.5, H), TypeError, "input_size must be an int"),
        (lambda: LSTMCell(IN, 0), ValueError, "hidden_size"),
        (lambda: RNN(IN, H, nonlinearity="sigmoid"), ValueError, "nonlinearity must be one of"),
        (lambda: RNNCell(IN, H, nonlinearity="gelu"), ValueError, "nonlinearity"),
        (lambda: rnn_step(torch.ones(IN), torch.ones(H), torch.ones(H, IN), torch.ones(H, H),
                          nonlinearity="sin"), ValueError, "nonlinearity"),
        (lambda: LSTM(IN, H, bidirectional=True), ValueError, "bidirectional"),
        (lambda: LSTM(IN, H, proj_size=2), ValueError, "proj_size"),
        (lambda: GRU(IN, H, proj_size=2), ValueError, "torch.nn.LSTM for projected states"),
        (lambda: GRU(IN, H, 2, dropout=1.5), ValueError, "dropout"),
        (lambda: RNN(IN, H, batch_first="yes"), TypeError, "batch_first"),
        (lambda: RecurrentModel("transformer", input_size=IN, hidden_size=H, output_size=OUT),
         ValueError, "cell must be one of"),
        (lambda: RecurrentModel(input_size=IN, hidden_size=H, output_size=OUT, readout="mean"),
         ValueError, "readout"),
        (lambda: RecurrentModel(input_size=IN, hidden_size=H, output_size=OUT, backend="jax"),
         ValueError, "backend"),
        (lambda: RecurrentModel(input_size=IN, hidden_size=H, output_size=0), ValueError,
         "output_size"),
        (lambda: RecurrentModel(input_size=IN, hidden_size=H, output_size=OUT, seed=1.5), TypeError,
         "seed"),
    ],
)  # fmt: skip
def test_bad_arguments_are_named(build, error, message):
    with pytest.raises(error, match=message):
        build()


# ---- RecurrentModel ----------------------------------------------------------------------


@pytest.mark.parametrize("cell, readout", list(itertools.product(KINDS, ["last", "all"])))
def test_recurrent_model_shapes(device, cell, readout):
    model = RecurrentModel(cell, input_size=IN, hidden_size=H, output_size=OUT, num_layers=2,
                           readout=readout, device=device, seed=0)  # fmt: skip
    assert model.device.type == torch.device(device).type
    assert isinstance(model.head, nn.Linear)
    x = randn(B, T, IN, seed=3, device=device)
    expected = (B, OUT) if readout == "last" else (B, T, OUT)
    assert model(x).shape == expected
    assert model(x[0]).shape == expected[1:]  # one unbatched sequence
    output, _ = model.rnn(x)
    if readout == "last":
        assert_close(model(x), model.head(output[:, -1]), atol=0, rtol=0)


@pytest.mark.parametrize("cell", KINDS)
def test_recurrent_model_backends_agree(device, cell):
    """One seed, one initialisation: the from-scratch and torch.nn cores compute one function."""
    kwargs = {"input_size": IN, "hidden_size": H, "output_size": OUT, "num_layers": 2,
              "readout": "all", "device": device, "seed": 3}  # fmt: skip
    ours = RecurrentModel(cell, backend="rnncourse", **kwargs)
    theirs = RecurrentModel(cell, backend="torch", **kwargs)
    assert isinstance(theirs.rnn, KINDS[cell][1])
    for (name, a), (_, b) in zip(ours.state_dict().items(), theirs.state_dict().items(),
                                 strict=True):  # fmt: skip
        assert torch.equal(a, b), name
    x = randn(B, T, IN, seed=4, device=device)
    assert_close(ours(x), theirs(x), **TOL)


def test_recurrent_model_seed_is_reproducible_and_private():
    kwargs = {"input_size": IN, "hidden_size": H, "output_size": OUT, "device": "cpu"}
    torch.manual_seed(0)
    before = torch.get_rng_state()
    a = RecurrentModel("lstm", seed=1, **kwargs)
    assert torch.equal(torch.get_rng_state(), before)  # the global RNG is left alone
    b = RecurrentModel("lstm", seed=1, **kwargs)
    c = RecurrentModel("lstm", seed=2, **kwargs)
    for (name, pa), pb in zip(a.named_parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb), name
    assert not torch.equal(a.rnn.weight_hh_l0, c.rnn.weight_hh_l0)
    unseeded = [RecurrentModel("lstm", **kwargs) for _ in range(2)]
    assert not torch.equal(unseeded[0].head.weight, unseeded[1].head.weight)


def test_seeded_draws_depend_on_the_seed_alone():
    torch.manual_seed(0)
    before = torch.get_rng_state()
    with seeded(5):
        first = torch.rand(3)
    assert torch.equal(torch.get_rng_state(), before)  # the global RNG is neither read nor moved
    torch.manual_seed(1)
    with seeded(5):
        assert torch.equal(torch.rand(3), first)
    with seeded(None):  # no seed: the global RNG, as outside the block
        unseeded = torch.rand(3)
    torch.manual_seed(1)
    assert torch.equal(torch.rand(3), unseeded)


def test_seeded_leaves_every_gpu_generator_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """The seed fixes the CPU draws inside the block only: torch.manual_seed would also reseed
    every GPU's generator for the rest of the run (the same CUDA dropout masks after every model
    built with the same seed). The GPUs' reseeding functions are recorded, not run."""
    reseeded = []
    monkeypatch.setattr(torch.cuda, "manual_seed_all", lambda seed: reseeded.append("cuda"))
    monkeypatch.setattr(torch.mps, "manual_seed", lambda seed: reseeded.append("mps"))
    with seeded(5):
        RecurrentModel("lstm", input_size=IN, hidden_size=H, output_size=OUT, device="cpu")
    assert reseeded == []


def test_recurrent_model_state_passes_through():
    model = RecurrentModel("lstm", input_size=IN, hidden_size=H, output_size=OUT, num_layers=2,
                           device="cpu", seed=0)  # fmt: skip
    x = torch.randn(B, T, IN)
    prediction, (h_n, c_n) = model(x, return_state=True)
    assert h_n.shape == c_n.shape == (2, B, H)
    zeros = (torch.zeros(2, B, H), torch.zeros(2, B, H))
    assert_close(model(x, zeros), prediction, atol=0, rtol=0)
    assert not torch.allclose(model(x, (h_n, c_n)), prediction)
    # Two halves with the state carried over are the whole sequence.
    _, state = model(x[:, :3], return_state=True)
    assert_close(model(x[:, 3:], state), prediction, **TOL)


def test_recurrent_model_counts_and_records():
    model = RecurrentModel("lstm", input_size=IN, hidden_size=H, output_size=OUT, device="cpu")
    assert model.num_parameters() == 4 * H * (IN + H + 2) + H * OUT + OUT
    model.head.weight.requires_grad_(False)
    assert model.num_parameters(trainable_only=True) == 4 * H * (IN + H + 2) + OUT
    with model.record_hidden_states() as recorded:
        model(torch.randn(B, T, IN)).sum().backward()
    assert recorded.hidden_grads().shape == (T, B, H)
    assert recorded.hidden_grads()[-1].abs().sum() > 0
