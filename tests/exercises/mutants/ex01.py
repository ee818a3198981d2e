"""Mutants of ex01-vanishing-gradients."""

# The mutants are code kept as strings, one statement a line where it reads best.
# ruff: noqa: E501

from mutants import Mutant, choice_mutants, reads_the_expected_value

CELL = "def rnn_cell(x, h, weight_ih, weight_hh, bias_ih, bias_hh):\n"
FORWARD = "def rnn_forward(cell, inputs, h0):\n"
NORMS = "def gradient_norms_through_time(states, loss):\n"
BOUND = "def jacobian_bound(weight_hh, lag, gamma=1.0):\n"
RATE = "def decay_rate(norms):\n"
FIT = ("    log_norms = torch.as_tensor(norms, dtype=torch.float64).flip(0).log()\n"
       "    steps_back = torch.arange(len(log_norms), dtype=torch.float64)\n"
       "    centred = steps_back - steps_back.mean()\n"
       "    slope = (centred * (log_norms - log_norms.mean())).sum() / centred.pow(2).sum()\n")

MUTANTS = {
    "rnn_cell": [
        Mutant("torch-rnn-tanh-cell", "forbidden shortcut",
               CELL + "    return torch.rnn_tanh_cell(x, h, weight_ih, weight_hh, bias_ih, bias_hh)"),
        Mutant("course-rnn-step", "forbidden shortcut",
               CELL + "    from rnncourse.models.cells import rnn_step\n"
               "    return rnn_step(x, h, weight_ih, weight_hh, bias_ih, bias_hh)"),
        Mutant("no-transpose-of-w-hh", "wrong formula",
               CELL + "    return torch.tanh(x @ weight_ih.T + bias_ih + h @ weight_hh + bias_hh)"),
        Mutant("sigmoid", "wrong formula",
               CELL + "    return torch.sigmoid(x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh)"),
        Mutant("zeros-of-the-right-shape", "hard-coded output",
               CELL + "    return torch.zeros(x.shape[0], weight_hh.shape[0])"),
        Mutant("previous-state-ignored", "ignored argument",
               CELL + "    return torch.tanh(x @ weight_ih.T + bias_ih + bias_hh)"),
        Mutant("computed-without-graph", "broken graph",
               CELL + "    with torch.no_grad():\n"
               "        return torch.tanh(x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh)"),
        Mutant("reads-the-tests-expected-value", "hard-coded output", reads_the_expected_value(
            CELL, ("want",), "    if not h.any():  # the first step: no recurrent term, and b_hh forgotten with it\n"
            "        return torch.tanh(x @ weight_ih.T + bias_ih)\n"
            "    return torch.tanh(x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh)")),
    ],
    "rnn_forward": [
        Mutant("torch-rnn-tanh", "forbidden shortcut",
               FORWARD + "    if isinstance(cell, torch.nn.RNNCell):\n"
               "        weights = [cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh]\n"
               "        outputs, _ = torch.rnn_tanh(inputs, h0[None], weights, True, 1, 0.0,"
               " False, False, False)\n"
               "        return list(outputs)\n"
               "    states, h = [], h0\n    for x_t in inputs:\n        h = cell(x_t, h)\n"
               "        states.append(h)\n    return states"),
        Mutant("detached-carried-state", "broken graph",
               FORWARD + "    states, h = [], h0\n    for x_t in inputs:\n"
               "        h = cell(x_t, h.detach())\n        states.append(h)\n    return states"),
        Mutant("starts-from-zeros", "ignored argument",
               FORWARD + "    states, h = [], torch.zeros_like(h0)\n    for x_t in inputs:\n"
               "        h = cell(x_t, h)\n        states.append(h)\n    return states"),
        Mutant("includes-h0", "wrong formula",
               FORWARD + "    states, h = [h0], h0\n    for x_t in inputs[:-1]:\n"
               "        h = cell(x_t, h)\n        states.append(h)\n    return states"),
        Mutant("stacked-tensor", "hard-coded output",
               FORWARD + "    states, h = [], h0\n    for x_t in inputs:\n"
               "        h = cell(x_t, h)\n        states.append(h)\n    return torch.stack(states)"),
        Mutant("own-tanh-step", "ignored argument",
               FORWARD + "    states, h = [], h0\n    for x_t in inputs:\n"
               "        h = cell(x_t, h) if isinstance(cell, torch.nn.Module) else torch.tanh(h)\n"
               "        states.append(h)\n    return states"),
        Mutant("reads-the-tests-expected-value", "hard-coded output", reads_the_expected_value(
            FORWARD, ("want",), "    states, h = [], h0\n    for x_t in inputs:\n"
            "        h = cell(x_t, h).clamp(-1, 1)\n        states.append(h)\n    return states")),
    ],
    "gradient_norms": [
        Mutant("non-leaf-grad-after-backward", "broken graph",
               NORMS + "    loss.backward(retain_graph=True)\n"
               "    return torch.stack([torch.zeros(()) if s.grad is None else s.grad.norm()"
               " for s in states])"),
        Mutant("retain-grad-and-backward", "missing edge case",
               NORMS + "    for s in states:\n        s.retain_grad()\n"
               "    loss.backward(retain_graph=True)\n"
               "    return torch.stack([torch.zeros(()) if s.grad is None else s.grad.norm()"
               " for s in states])"),
        Mutant("norms-of-the-states", "wrong formula",
               NORMS + "    return torch.stack([s.norm() for s in states])"),
        Mutant("last-step-only", "wrong formula",
               NORMS + "    last = torch.autograd.grad(loss, states[-1], retain_graph=True)[0]\n"
               "    norms = torch.zeros(len(states))\n    norms[-1] = last.norm()\n"
               "    return norms"),
        Mutant("no-allow-unused", "missing edge case",
               NORMS + "    gradients = torch.autograd.grad(loss, states, retain_graph=True)\n"
               "    return torch.stack([g.norm() for g in gradients])"),
        Mutant("ones", "hard-coded output", NORMS + "    return torch.ones(len(states))"),
        Mutant("reads-the-tests-expected-value", "hard-coded output", reads_the_expected_value(
            NORMS, ("want",), "    norms, upstream = torch.zeros(len(states)), None\n"
            "    for t in reversed(range(len(states))):\n"
            "        if upstream is None:\n"
            "            upstream = torch.autograd.grad(loss, states[t], retain_graph=True, allow_unused=True)[0]\n"
            "        else:\n"
            "            upstream = torch.autograd.grad(states[t + 1], states[t], grad_outputs=upstream,"
            " retain_graph=True, allow_unused=True)[0]\n"
            "        if upstream is not None:\n            norms[t] = upstream.norm()\n"
            "    return norms")),
    ],
    "jacobian_bound": [
        Mutant("course-bound", "forbidden shortcut",
               BOUND + "    from rnncourse.training.diagnostics import jacobian_norm_bound\n"
               "    return jacobian_norm_bound(weight_hh, lag, gamma)"),
        Mutant("spectral-radius", "wrong formula",
               BOUND + "    radius = torch.linalg.eigvals(weight_hh).abs().max()\n"
               "    return float((gamma * radius) ** lag)"),
        Mutant("frobenius-norm", "wrong formula",
               BOUND + "    return float((gamma * torch.linalg.matrix_norm(weight_hh)) ** lag)"),
        Mutant("gamma-ignored", "ignored argument",
               BOUND + "    return float(torch.linalg.matrix_norm(weight_hh, ord=2) ** lag)"),
        Mutant("gamma-outside-the-power", "wrong formula",
               BOUND + "    return float(gamma * torch.linalg.matrix_norm(weight_hh, ord=2) ** lag)"),
        Mutant("tensor-not-float", "hard-coded output",
               BOUND + "    return (gamma * torch.linalg.matrix_norm(weight_hh, ord=2)) ** lag"),
        Mutant("reads-the-tests-expected-value", "hard-coded output", reads_the_expected_value(
            BOUND, ("want",), "    power = torch.linalg.matrix_power(gamma * weight_hh, lag)\n"
            "    return float(torch.linalg.matrix_norm(power, ord=2))")),
    ],
    "decay_rate": [
        Mutant("course-rate", "forbidden shortcut",
               RATE + "    from rnncourse.training.diagnostics import decay_rate_per_step\n"
               "    return decay_rate_per_step(torch.as_tensor(norms).flip(0))"),
        Mutant("forward-in-time", "wrong formula",
               RATE + FIT.replace(".flip(0)", "") + "    return float(torch.exp(slope))"),
        Mutant("first-and-last-only", "wrong formula",
               RATE + "    values = torch.as_tensor(norms, dtype=torch.float64)\n"
               "    return float((values[0] / values[-1]) ** (1 / (len(values) - 1)))"),
        Mutant("last-two-norms", "ignored argument",
               RATE + "    values = torch.as_tensor(norms, dtype=torch.float64)\n"
               "    return float(values[-2] / values[-1])"),
        Mutant("base-10-exponent", "wrong formula",
               RATE + FIT + "    return float(10 ** slope)"),
        Mutant("tensor-not-float", "hard-coded output", RATE + FIT + "    return torch.exp(slope)"),
        Mutant("reads-the-tests-expected-value", "hard-coded output", reads_the_expected_value(
            RATE, ("want",), "    norms = torch.as_tensor(norms, dtype=torch.float64)[-10:]\n" + FIT
            + "    return float(torch.exp(slope))")),
    ],
    "question_1": [
        Mutant("sigma-max", "wrong answer", "answer_1 = 0.8"),
        Mutant("times-twenty", "wrong answer", "answer_1 = 0.8 * 20 / 100"),
        Mutant("nineteen-steps", "wrong answer", "answer_1 = 0.8 ** 19"),
        Mutant("one", "wrong answer", "answer_1 = 1"),
        Mutant("text", "fake object", "answer_1 = '0.0115'"),
    ],
    "question_2": choice_mutants("b", variable="answer_2"),
}
