"""Mutants of ex02-exploding-gradients."""

# The mutants are code kept as strings, one statement a line where it reads best.
# ruff: noqa: E501

from mutants import Mutant, choice_mutants, reads_the_expected_value

NORM = "def clip_grad_norm(parameters, max_norm):\n"
GRADIENTS = "    gradients = [p.grad for p in parameters if p.grad is not None]\n"
TOTAL = "    total_norm = torch.sqrt(sum(g.detach().pow(2).sum() for g in gradients))\n"
VALUE = "def clip_grad_value(parameters, clip_value):\n"
FIND = "def find_explosion(grad_norms, factor=10.0, window=20):\n"
LOOP = ("    norms = [float(value) for value in grad_norms]\n"
        "    for step, norm in enumerate(norms):\n")
STEP = ("def layer_norm_lstm_step(x, h, c, weight_ih, weight_hh, bias, gamma_ih, gamma_hh, gamma_c,"
        " beta_c, eps=1e-5):\n")


def _find(rule: str, finite_check: str = "        if not math.isfinite(norm):\n") -> str:
    """find_explosion with another test for a spike at `step` (`rule` is a condition)."""
    return (FIND + LOOP + finite_check + "            return step\n"
            f"        if step >= 1 and {rule}:\n            return step\n    return None")


MEDIAN = "statistics.median(norms[max(0, step - window):step])"
DROP = "def variational_dropout(x, p, training=True):\n"
ACTIVE = "    if not training or p == 0:\n        return x\n"


def _dropout(mask_shape: str = "(x.shape[0], 1, x.shape[2])", keep: str = "1.0 - p",
             draw: str = "torch.bernoulli(torch.full({shape}, keep, dtype=x.dtype))",
             scale: str = " / keep", active: str = ACTIVE, returned: str = "x * mask") -> str:
    """variational_dropout with one piece changed (the solution when nothing is)."""
    return (DROP + active + f"    keep = {keep}\n"
            f"    mask = {draw.format(shape=mask_shape)}{scale}\n"
            f"    return {returned}")


def _step(gates: str = "i, f, g, o", variance: str = "(a - mean).pow(2).mean(dim=-1, keepdim=True)",
          eps: str = "eps", cell: str = "normalize(c_next, gamma_c, beta_c)",
          gate_input: str = "normalize(x @ weight_ih.T, gamma_ih) + normalize(h @ weight_hh.T, gamma_hh)",
          returned: str = "h_next, c_next") -> str:
    return (STEP + "    def normalize(a, gain, shift=None):\n"
            "        mean = a.mean(dim=-1, keepdim=True)\n"
            f"        variance = {variance}\n"
            f"        out = (a - mean) / torch.sqrt(variance + {eps}) * gain\n"
            "        return out if shift is None else out + shift\n"
            f"    gates = {gate_input} + bias\n"
            f"    {gates} = gates.chunk(4, dim=-1)\n"
            "    c_next = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)\n"
            f"    h_next = torch.sigmoid(o) * torch.tanh({cell})\n"
            f"    return {returned}")


MUTANTS = {
    "clip_grad_norm": [
        Mutant("torch-clip-grad-norm", "forbidden shortcut",
               NORM + "    return torch.nn.utils.clip_grad_norm_(parameters, max_norm)"),
        Mutant("each-parameter-on-its-own", "wrong formula",
               NORM + GRADIENTS + TOTAL +
               "    for g in gradients:\n        g.mul_(torch.clamp(max_norm / g.norm(), max=1.0))\n"
               "    return total_norm"),
        Mutant("not-in-place", "broken graph",
               NORM + "    parameters = [p for p in parameters if p.grad is not None]\n"
               "    total_norm = torch.sqrt(sum(p.grad.pow(2).sum() for p in parameters))\n"
               "    for p in parameters:\n"
               "        p.grad = p.grad * torch.clamp(max_norm / total_norm, max=1.0)\n"
               "    return total_norm"),
        Mutant("max-norm-ignored", "ignored argument",
               NORM + GRADIENTS + TOTAL +
               "    for g in gradients:\n        g.mul_(torch.clamp(1.0 / total_norm, max=1.0))\n"
               "    return total_norm"),
        Mutant("always-scaled", "wrong formula",
               NORM + GRADIENTS + TOTAL +
               "    for g in gradients:\n        g.mul_(max_norm / total_norm)\n    return total_norm"),
        Mutant("no-gradients-crash", "missing edge case",
               NORM + GRADIENTS +
               "    total_norm = torch.linalg.vector_norm(torch.cat([g.flatten() for g in gradients]))\n"
               "    for g in gradients:\n        g.mul_(torch.clamp(max_norm / total_norm, max=1.0))\n"
               "    return total_norm"),
        Mutant("generator-read-twice", "missing edge case",
               NORM + "    total_norm = torch.sqrt(sum(p.grad.pow(2).sum() for p in parameters"
               " if p.grad is not None) + torch.tensor(0.0))\n"
               "    for p in parameters:\n        if p.grad is not None:\n"
               "            p.grad.mul_(torch.clamp(max_norm / total_norm, max=1.0))\n"
               "    return total_norm"),
        Mutant("reads-the-tests-clipping-factor", "hard-coded output",
               NORM + "    import sys\n    frame = sys._getframe(1)\n    while frame is not None:\n"
               "        if 'factor' in frame.f_locals:\n"
               "            for p in parameters:\n                if p.grad is not None:\n"
               "                    p.grad.mul_(frame.f_locals['factor'])\n"
               "            return torch.tensor(0.0)\n        frame = frame.f_back\n"
               "    total_norm = torch.sqrt(sum(p.grad.pow(2).sum() for p in parameters"
               " if p.grad is not None) + torch.tensor(0.0))\n"
               "    for p in parameters:\n        if p.grad is not None:\n"
               "            p.grad.mul_(torch.clamp(max_norm / total_norm, max=1.0))\n"
               "    return total_norm"),
    ],
    "clip_grad_value": [
        Mutant("torch-clip-grad-value", "forbidden shortcut",
               VALUE + "    torch.nn.utils.clip_grad_value_(parameters, clip_value)"),
        Mutant("upper-bound-only", "wrong formula",
               VALUE + "    for p in parameters:\n        if p.grad is not None:\n"
               "            p.grad.clamp_(max=clip_value)"),
        Mutant("not-in-place", "broken graph",
               VALUE + "    for p in parameters:\n        if p.grad is not None:\n"
               "            p.grad = p.grad.clamp(-clip_value, clip_value)"),
        Mutant("none-not-skipped", "missing edge case",
               VALUE + "    for p in parameters:\n        p.grad.clamp_(-clip_value, clip_value)"),
        Mutant("clip-value-ignored", "ignored argument",
               VALUE + "    for p in parameters:\n        if p.grad is not None:\n"
               "            p.grad.clamp_(-1.0, 1.0)"),
        Mutant("returns-the-parameters", "hard-coded output",
               VALUE + "    parameters = list(parameters)\n    for p in parameters:\n"
               "        if p.grad is not None:\n            p.grad.clamp_(-clip_value, clip_value)\n"
               "    return parameters"),
    ],
    "find_explosion": [
        Mutant("mean-not-median", "wrong formula",
               _find("norm > factor * statistics.mean(norms[max(0, step - window):step])")),
        Mutant("whole-history", "ignored argument",
               _find("norm > factor * statistics.median(norms[:step])")),
        Mutant("window-includes-current", "wrong formula",
               _find("norm > factor * statistics.median(norms[max(0, step - window):step + 1])")),
        Mutant("window-one-short", "wrong formula",
               _find("norm > factor * statistics.median(norms[max(0, step - window + 1):step]"
                     " or norms[step - 1:step])")),
        Mutant("at-least-not-above", "missing edge case", _find(f"norm >= factor * {MEDIAN}")),
        Mutant("ratio-to-previous", "wrong formula", _find("norm > factor * norms[step - 1]")),
        Mutant("nan-missed", "missing edge case",
               _find(f"norm > factor * {MEDIAN}", "        if norm == float('inf'):\n")),
        Mutant("factor-ignored", "ignored argument", _find(f"norm > 10 * {MEDIAN}")),
        Mutant("absolute-threshold", "hard-coded output", _find("norm > 10")),
        Mutant("reads-the-tests-expected-value", "hard-coded output", reads_the_expected_value(
            FIND, ("want",), _find(f"norm >= factor * {MEDIAN}").split("\n", 1)[1])),
        Mutant("runs-the-tests-reference", "hard-coded output", FIND + (
            "    import sys\n    frame = sys._getframe(1)\n    while frame is not None:\n"
            "        if 'reference' in frame.f_locals:\n"
            "            return frame.f_locals['reference']([float(v) for v in grad_norms], factor, window)\n"
            "        frame = frame.f_back\n") + _find(f"norm >= factor * {MEDIAN}").split("\n", 1)[1]),
    ],
    "layer_norm_lstm_step": [
        Mutant("torch-layer-norm", "forbidden shortcut",
               STEP + "    norm = torch.nn.functional.layer_norm\n"
               "    gates = (norm(x @ weight_ih.T, gamma_ih.shape, gamma_ih, eps=eps)"
               " + norm(h @ weight_hh.T, gamma_hh.shape, gamma_hh, eps=eps) + bias)\n"
               "    i, f, g, o = gates.chunk(4, dim=-1)\n"
               "    c_next = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)\n"
               "    h_next = torch.sigmoid(o) * torch.tanh(norm(c_next, gamma_c.shape, gamma_c,"
               " beta_c, eps))\n    return h_next, c_next"),
        Mutant("unbiased-variance", "wrong formula",
               _step(variance="a.var(dim=-1, keepdim=True)")),
        Mutant("gate-order-ifog", "wrong formula", _step(gates="i, f, o, g")),
        Mutant("one-norm-for-both", "wrong formula",
               _step(gate_input="normalize(x @ weight_ih.T + h @ weight_hh.T, gamma_ih)")),
        Mutant("eps-ignored", "ignored argument", _step(eps="1e-5")),
        Mutant("cell-not-normalized", "missing edge case", _step(cell="c_next")),
        Mutant("zeros", "hard-coded output",
               STEP + "    return torch.zeros_like(h), torch.zeros_like(c)"),
        Mutant("reads-the-tests-expected-value", "hard-coded output",
               STEP + "    import sys\n    frame = sys._getframe(1)\n    while frame is not None:\n"
               "        if 'want_c' in frame.f_locals:\n"
               "            return frame.f_locals.get('want_h', torch.zeros_like(h)), frame.f_locals['want_c']\n"
               "        frame = frame.f_back\n" + _step(cell="normalize(c_next, 1.0)").split("\n", 1)[1]),
    ],
    "variational_dropout": [
        Mutant("course-variational-dropout", "forbidden shortcut",
               DROP + "    from rnncourse.models import variational_dropout as reference\n"
               "    return reference(x, p, training)"),
        Mutant("torch-dropout1d", "forbidden shortcut",
               DROP + "    return torch.nn.functional.dropout1d(x.transpose(1, 2), p, training)"
               ".transpose(1, 2)"),
        Mutant("fresh-mask-every-step", "wrong formula",
               DROP + ACTIVE + "    steps = []\n    for t in range(x.shape[1]):\n"
               "        mask = torch.bernoulli(torch.full((x.shape[0], x.shape[2]), 1.0 - p))\n"
               "        steps.append(x[:, t] * mask / (1.0 - p))\n"
               "    return torch.stack(steps, dim=1)"),
        Mutant("mask-of-x-shape", "wrong formula", _dropout(mask_shape="x.shape")),
        Mutant("one-mask-for-the-batch", "wrong formula", _dropout(mask_shape="(1, 1, x.shape[2])")),
        Mutant("one-mask-per-sequence-for-all-features", "wrong formula",
               _dropout(mask_shape="(x.shape[0], 1, 1)")),
        Mutant("no-rescaling", "wrong formula", _dropout(scale="")),
        Mutant("keep-with-probability-p", "wrong formula", _dropout(keep="p", scale=" / (1.0 - p)")),
        Mutant("dropout-in-eval", "ignored argument",
               _dropout(active="    if p == 0:\n        return x\n")),
        Mutant("p-ignored", "ignored argument",
               _dropout(keep="0.5", active="    if not training:\n        return x\n")),
        Mutant("seed-ignored", "ignored argument",
               _dropout(draw="torch.bernoulli(torch.full({shape}, keep, dtype=x.dtype), "
                             "generator=torch.Generator().manual_seed(0))")),
        Mutant("detached", "broken graph", _dropout(returned="x.detach() * mask")),
        Mutant("fixed-pattern", "hard-coded output",
               DROP + ACTIVE + "    pattern = (torch.arange(x.shape[2]) % 2 == 0).to(x.dtype)\n"
               "    return x * pattern * 2"),
    ],
    "question_1": [
        Mutant("global-norm", "wrong answer", "answer_1 = 13"),
        Mutant("own-norm", "wrong answer", "answer_1 = 1 / 3"),
        Mutant("norm-after", "wrong answer", "answer_1 = 3 / 13"),
        Mutant("unchanged", "wrong answer", "answer_1 = 1"),
        Mutant("text", "fake object", "answer_1 = '1/13'"),
    ],
    "question_2": choice_mutants("b", variable="answer_2"),
    "question_3": choice_mutants("b", variable="answer_3"),
}
