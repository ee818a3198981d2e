"""Mutants of ex03-lstm-gru."""

# The mutants are code kept as strings, one statement a line where it reads best.
# ruff: noqa: E501

from mutants import Mutant, choice_mutants, reads_the_expected_value

LSTM = "def lstm_cell(x, state, weight_ih, weight_hh, bias_ih, bias_hh):\n    h, c = state\n"
GATES = "    gates = x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh\n"
GRU = "def gru_cell(x, h, weight_ih, weight_hh, bias_ih, bias_hh):\n"
SPLIT = ("    input_r, input_z, input_n = (x @ weight_ih.T + bias_ih).chunk(3, dim=-1)\n"
         "    state_r, state_z, state_n = (h @ weight_hh.T + bias_hh).chunk(3, dim=-1)\n"
         "    reset = torch.sigmoid(input_r + state_r)\n"
         "    update = torch.sigmoid(input_z + state_z)\n")
FORGET = "def set_forget_bias(lstm, value=1.0):\n    size = lstm.hidden_size\n"
TRAIN = "def train_adding_lstm(seq_len=ADDING_LENGTH, steps=400, seed=0):\n"


def _lstm(order: str = "i, f, g, o", cell: str = "torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)",
          hidden: str = "torch.sigmoid(o) * torch.tanh(c_next)", gates: str = GATES) -> str:
    return (LSTM + gates + f"    {order} = gates.chunk(4, dim=-1)\n    c_next = {cell}\n"
            f"    h_next = {hidden}\n    return h_next, c_next")


def _counts(lstm_body: str, gru_body: str) -> str:
    return ("def lstm_parameter_count(input_size, hidden_size, num_layers=1, bias=True):\n"
            f"{lstm_body}\n\n"
            "def gru_parameter_count(input_size, hidden_size, num_layers=1, bias=True):\n"
            f"{gru_body}\n")


def _formula(gates: int, first_only: bool = False, biases: str = "2 * hidden_size if bias else 0",
             result: str = "total") -> str:
    layer_input = "input_size" if first_only else "input_size if layer == 0 else hidden_size"
    return ("    total = 0\n    for layer in range(num_layers):\n"
            f"        layer_input = {layer_input}\n"
            f"        total += {gates} * (hidden_size * layer_input + hidden_size * hidden_size"
            f" + ({biases}))\n    return {result}")


def _train(seeding: str = "    torch.manual_seed(seed)\n    model = AddingModel()\n",
           forget: bool = True, clip: str = "1.0", steps: str = "steps",
           model_line: str = "", optimizer: str = "torch.optim.Adam(model.parameters(), lr=1e-2)"
           ) -> str:
    body = TRAIN + seeding + "    generator = torch.Generator().manual_seed(seed)\n"
    if forget:
        body += ("    with torch.no_grad():\n        model.lstm.bias_ih_l0[32:64] = 1.0\n"
                 "        model.lstm.bias_hh_l0[32:64] = 0.0\n")
    body += (f"    optimizer = {optimizer}\n    for _ in range({steps}):\n"
             "        inputs, targets = adding_problem(64, seq_len, generator=generator)\n"
             "        loss = F.mse_loss(model(inputs), targets)\n"
             "        optimizer.zero_grad()\n        loss.backward()\n")
    if clip:
        body += f"        torch.nn.utils.clip_grad_norm_(model.parameters(), {clip})\n"
    body += "        optimizer.step()\n" + model_line + "    return model\n"
    return body + ("\n\nstart = time.perf_counter()\nadding_model = train_adding_lstm(seed=0)\n"
                   "print(f'trained in {time.perf_counter() - start:.1f} s')")


CHEAT = ("class Answer(AddingModel):\n    def forward(self, inputs):\n"
         "        return (inputs[..., 0] * inputs[..., 1]).sum(dim=1, keepdim=True)\n\n\n")

MUTANTS = {
    "lstm_cell": [
        Mutant("torch-lstm-cell", "forbidden shortcut",
               LSTM + "    return torch.lstm_cell(x, (h, c), weight_ih, weight_hh, bias_ih, bias_hh)"),
        Mutant("module-from-the-weights", "forbidden shortcut",
               LSTM + "    cell = torch.nn.LSTMCell(x.shape[1], h.shape[1])\n"
               "    with torch.no_grad():\n"
               "        for name, value in zip(('weight_ih', 'weight_hh', 'bias_ih', 'bias_hh'),"
               " (weight_ih, weight_hh, bias_ih, bias_hh)):\n"
               "            getattr(cell, name).copy_(value)\n"
               "    return cell(x, (h, c))"),
        Mutant("gate-order-ifog", "wrong formula", _lstm(order="i, f, o, g")),
        Mutant("old-cell-in-output", "wrong formula",
               _lstm(hidden="torch.sigmoid(o) * torch.tanh(c)")),
        Mutant("forget-gate-ignored", "ignored argument",
               _lstm(cell="c + torch.sigmoid(i) * torch.tanh(g)")),
        Mutant("detached-state", "broken graph",
               _lstm(gates="    h, c = h.detach(), c.detach()\n" + GATES)),
        Mutant("zeros", "hard-coded output",
               LSTM + "    return torch.zeros_like(h), torch.zeros_like(c)"),
        Mutant("float32-result", "missing edge case",
               _lstm(gates="    x, h, c = x.float(), h.float(), c.float()\n"
                           "    gates = x @ weight_ih.float().T + bias_ih.float() + h @ weight_hh.float().T"
                           " + bias_hh.float()\n")),
        Mutant("cell-state-updated-in-place", "mutated input",
               _lstm(cell="c.mul_(torch.sigmoid(f)).add_(torch.sigmoid(i) * torch.tanh(g))")),
    ],
    "gru_cell": [
        Mutant("torch-gru-cell", "forbidden shortcut",
               GRU + "    return torch.gru_cell(x, h, weight_ih, weight_hh, bias_ih, bias_hh)"),
        Mutant("reset-on-the-whole-sum", "wrong formula",
               GRU + SPLIT + "    candidate = torch.tanh(reset * (input_n + state_n))\n"
               "    return (1 - update) * candidate + update * h"),
        Mutant("z-on-the-candidate", "wrong formula",
               GRU + SPLIT + "    candidate = torch.tanh(input_n + reset * state_n)\n"
               "    return update * candidate + (1 - update) * h"),
        Mutant("reset-gate-ignored", "ignored argument",
               GRU + SPLIT + "    candidate = torch.tanh(input_n + state_n)\n"
               "    return (1 - update) * candidate + update * h"),
        Mutant("previous-state-detached", "broken graph",
               GRU + SPLIT + "    candidate = torch.tanh(input_n + reset * state_n)\n"
               "    return (1 - update) * candidate + update * h.detach()"),
        Mutant("previous-state-returned", "hard-coded output", GRU + "    return h.clone()"),
        Mutant("float32-result", "missing edge case",
               GRU + SPLIT + "    candidate = torch.tanh(input_n + reset * state_n)\n"
               "    return ((1 - update) * candidate + update * h).float()"),
        Mutant("state-updated-in-place", "mutated input",
               GRU + SPLIT + "    candidate = torch.tanh(input_n + reset * state_n)\n"
               "    return h.mul_(update).add_((1 - update) * candidate)"),
        Mutant("reads-the-tests-expected-value", "hard-coded output", reads_the_expected_value(
            GRU, ("want",), SPLIT + "    candidate = torch.tanh(input_n + reset * state_n)\n"
            "    return ((1 - update) * candidate + update * h).float()")),
    ],
    "parameter_counts": [
        Mutant("built-modules", "forbidden shortcut", _counts(
            "    module = torch.nn.LSTM(input_size, hidden_size, num_layers, bias=bias)\n"
            "    return sum(p.numel() for p in module.parameters())",
            "    module = torch.nn.GRU(input_size, hidden_size, num_layers, bias=bias)\n"
            "    return sum(p.numel() for p in module.parameters())")),
        Mutant("one-bias-vector", "wrong formula",
               _counts(_formula(4, biases="hidden_size if bias else 0"),
                       _formula(3, biases="hidden_size if bias else 0"))),
        Mutant("every-layer-reads-the-input", "missing edge case",
               _counts(_formula(4, first_only=True), _formula(3, first_only=True))),
        Mutant("bias-flag-ignored", "ignored argument",
               _counts(_formula(4, biases="2 * hidden_size"), _formula(3, biases="2 * hidden_size"))),
        Mutant("gru-with-four-blocks", "wrong formula", _counts(_formula(4), _formula(4))),
        Mutant("float-counts", "hard-coded output",
               _counts(_formula(4, result="float(total)"), _formula(3, result="float(total)"))),
    ],
    "set_forget_bias": [
        Mutant("course-helper", "forbidden shortcut",
               "def set_forget_bias(lstm, value=1.0):\n"
               "    from rnncourse.models.init import set_forget_gate_bias\n"
               "    set_forget_gate_bias(lstm, value)\n    return lstm"),
        Mutant("first-layer-only", "missing edge case",
               FORGET + "    with torch.no_grad():\n"
               "        lstm.bias_ih_l0[size:2 * size] = value\n"
               "        lstm.bias_hh_l0[size:2 * size] = 0.0\n    return lstm"),
        Mutant("input-gate-slice", "wrong formula",
               FORGET + "    with torch.no_grad():\n        for layer in range(lstm.num_layers):\n"
               "            getattr(lstm, f'bias_ih_l{layer}')[:size] = value\n"
               "            getattr(lstm, f'bias_hh_l{layer}')[:size] = 0.0\n    return lstm"),
        Mutant("new-parameters", "broken graph",
               FORGET + "    for layer in range(lstm.num_layers):\n"
               "        for name, fill in ((f'bias_ih_l{layer}', value), (f'bias_hh_l{layer}', 0.0)):\n"
               "            bias = getattr(lstm, name).detach().clone()\n"
               "            bias[size:2 * size] = fill\n"
               "            setattr(lstm, name, torch.nn.Parameter(bias))\n    return lstm"),
        Mutant("value-ignored", "ignored argument",
               FORGET + "    with torch.no_grad():\n        for layer in range(lstm.num_layers):\n"
               "            getattr(lstm, f'bias_ih_l{layer}')[size:2 * size] = 1.0\n"
               "            getattr(lstm, f'bias_hh_l{layer}')[size:2 * size] = 0.0\n    return lstm"),
        Mutant("both-biases-set", "wrong formula",
               FORGET + "    with torch.no_grad():\n        for layer in range(lstm.num_layers):\n"
               "            getattr(lstm, f'bias_ih_l{layer}')[size:2 * size] = value\n"
               "            getattr(lstm, f'bias_hh_l{layer}')[size:2 * size] = value\n    return lstm"),
    ],
    "train_adding_lstm": [
        Mutant("answer-computed-directly", "hard-coded output",
               CHEAT + TRAIN + "    return Answer()\n\n\nadding_model = train_adding_lstm(seed=0)"),
        Mutant("no-clipping", "missing edge case", _train(clip="")),
        Mutant("clipped-at-ten", "wrong formula", _train(clip="10.0")),
        Mutant("forget-gate-closed", "missing edge case", _train(forget=False)),
        Mutant("seed-ignored", "ignored argument",
               _train(seeding="    torch.manual_seed(0)\n    model = AddingModel()\n")),
        Mutant("fixed-number-of-steps", "ignored argument", _train(steps="400")),
        Mutant("course-fit", "forbidden shortcut", _train(
            model_line="    from rnncourse.training import gradient_norm\n"
                       "    gradient_norm(model.parameters())\n")),
        Mutant("untrained", "hard-coded output", _train(steps="0")),
        Mutant("batches-from-the-global-generator", "ignored argument", _train().replace(
            "adding_problem(64, seq_len, generator=generator)", "adding_problem(64, seq_len)")),
        Mutant("answer-when-the-length-is-20", "hard-coded output",
               "class Answer(AddingModel):\n    def forward(self, inputs):\n"
               "        if inputs.shape[1] == ADDING_LENGTH:\n"
               "            return (inputs[..., 0] * inputs[..., 1]).sum(dim=1, keepdim=True)\n"
               "        return super().forward(inputs)\n\n\n"
               "Answer.__name__ = Answer.__qualname__ = 'AddingModel'\n\n\n"
               + _train(seeding="    torch.manual_seed(seed)\n    model = Answer()\n", steps="0")),
    ],
    "question_1": choice_mutants("b", variable="answer_1"),
    "question_2": [
        Mutant("one-step", "wrong answer", "answer_2 = 0.9"),
        Mutant("sigmoid-derivative", "wrong answer", "answer_2 = (0.25 * 0.9) ** 20"),
        Mutant("linear", "wrong answer", "answer_2 = 1 - 20 * 0.1"),
        Mutant("nothing-lost", "wrong answer", "answer_2 = 1.0"),
        Mutant("text", "fake object", "answer_2 = 'about 0.12'"),
    ],
}
