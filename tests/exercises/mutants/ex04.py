"""Mutants of ex04-efficiency."""

# The mutants are code kept as strings, one statement a line where it reads best.
# ruff: noqa: E501

from mutants import Mutant, reads_the_expected_value

MEAN = "def masked_mean_loss(per_step_loss, lengths):\n"
MASK = ("    steps = per_step_loss.shape[1]\n"
        "    mask = torch.arange(steps) < lengths[:, None]\n")
LAST = "def last_valid_state(outputs, lengths):\n"
BPTT = "def truncated_bptt(model, inputs, targets, chunk_length, optimizer, loss_fn):\n"
SCAN = "def linear_scan(a, b, h0):\n"


def _bptt(carry: str = "        state = tuple(part.detach() for part in state)\n",
          step: str = "        optimizer.zero_grad()\n        loss.backward()\n        optimizer.step()\n",
          chunks: str = "chunk_length", result: str = "loss.item()") -> str:
    return (BPTT + "    state, losses = None, []\n"
            f"    for x, y in zip(inputs.split({chunks}, dim=1), targets.split({chunks}, dim=1)):\n"
            "        outputs, state = model(x, state)\n        loss = loss_fn(outputs, y)\n"
            + step + carry + f"        losses.append({result})\n    return losses")


def _doubling(start: str = "torch.cat([a[:1] * h0 + b[:1], b[1:]])") -> str:
    return (SCAN + f"    values = {start}\n    coefficients, shift = a, 1\n"
            "    while shift < a.shape[0]:\n"
            "        values = torch.cat([values[:shift], coefficients[shift:] * values[:-shift]"
            " + values[shift:]])\n"
            "        coefficients = torch.cat([coefficients[:shift], coefficients[shift:]"
            " * coefficients[:-shift]])\n"
            "        shift *= 2\n    return values")


MUTANTS = {
    "masked_mean_loss": [
        Mutant("course-masked-mean", "forbidden shortcut",
               MEAN + "    from rnncourse.training.batching import masked_mean\n"
               "    return masked_mean(per_step_loss, lengths)"),
        Mutant("multiplied-by-the-mask", "missing edge case",
               MEAN + MASK + "    return (per_step_loss * mask).sum() / mask.sum()"),
        Mutant("divided-by-b-times-t", "wrong formula",
               MEAN + MASK + "    return torch.where(mask, per_step_loss, 0.0).sum() / mask.numel()"),
        Mutant("mean-of-sequence-means", "wrong formula",
               MEAN + MASK + "    sums = torch.where(mask, per_step_loss, 0.0).sum(dim=1)\n"
               "    return (sums / lengths).mean()"),
        Mutant("lengths-ignored", "ignored argument", MEAN + "    return per_step_loss.mean()"),
        Mutant("one-step-too-many", "wrong formula",
               MEAN + "    mask = torch.arange(per_step_loss.shape[1]) <= lengths[:, None]\n"
               "    return torch.where(mask, per_step_loss, 0.0).sum() / mask.sum()"),
        Mutant("value-without-graph", "broken graph",
               MEAN + MASK + "    return torch.tensor(float(torch.where(mask, per_step_loss, 0.0).sum()"
               " / mask.sum()))"),
        Mutant("padding-zeroed-in-place", "mutated input",
               MEAN + MASK + "    per_step_loss[~mask] = 0.0\n    return per_step_loss.sum() / mask.sum()"),
    ],
    "last_valid_state": [
        Mutant("course-last-valid", "forbidden shortcut",
               LAST + "    from rnncourse.training.batching import last_valid\n"
               "    return last_valid(outputs, lengths)"),
        Mutant("end-of-the-tensor", "ignored argument", LAST + "    return outputs[:, -1]"),
        Mutant("loop-over-the-batch", "wrong formula",
               LAST + "    return torch.stack([outputs[b, int(lengths[b]) - 1]"
               " for b in range(outputs.shape[0])])"),
        Mutant("index-lengths-not-minus-one", "wrong formula",
               LAST + "    rows = torch.arange(outputs.shape[0])\n"
               "    return outputs[rows, lengths.clamp(max=outputs.shape[1] - 1)]"),
        Mutant("detached-copy", "broken graph",
               LAST + "    rows = torch.arange(outputs.shape[0])\n"
               "    return outputs[rows, lengths - 1].detach().clone()"),
        Mutant("first-step", "hard-coded output", LAST + "    return outputs[:, 0]"),
        Mutant("reads-the-tests-expected-value", "hard-coded output", reads_the_expected_value(
            LAST, ("want",), "    index = (lengths - 1).view(-1, 1, 1).expand(-1, 1, outputs.shape[2])\n"
            "    return outputs.gather(1, index).squeeze()")),
    ],
    "truncated_bptt": [
        Mutant("course-epoch", "forbidden shortcut",
               BPTT + "    from rnncourse.training.batching import truncated_bptt_epoch\n"
               "    optimizer.param_groups = [{'params': optimizer.parameters}]\n"
               "    return truncated_bptt_epoch(model, inputs, targets, chunk_length=chunk_length,"
               " loss_fn=loss_fn, optimizer=optimizer)"),
        Mutant("state-not-detached", "broken graph", _bptt(carry="")),
        Mutant("state-not-carried", "ignored argument", _bptt(carry="        state = None\n")),
        Mutant("no-zero-grad", "wrong formula",
               _bptt(step="        loss.backward()\n        optimizer.step()\n")),
        Mutant("chunk-length-ignored", "ignored argument", _bptt(chunks="inputs.shape[1]")),
        Mutant("tensor-losses", "hard-coded output", _bptt(result="loss.detach()")),
        Mutant("state-detached-to-zeros", "wrong formula",
               _bptt(carry="        state = tuple(torch.zeros_like(part) for part in state)\n")),
        Mutant("loss-arguments-swapped", "wrong formula", _bptt().replace("loss_fn(outputs, y)", "loss_fn(y, outputs)")),
        Mutant("runs-the-tests-reference", "hard-coded output", BPTT + (
            "    import sys\n    frame = sys._getframe(1)\n    while frame is not None:\n"
            "        if 'reference_bptt' in frame.f_locals:\n"
            "            return frame.f_locals['reference_bptt'](model, inputs, targets, chunk_length,"
            " optimizer, loss_fn)\n        frame = frame.f_back\n")
            + _bptt().replace("loss_fn(outputs, y)", "loss_fn(y, outputs)").split("\n", 1)[1]),
    ],
    "linear_scan": [
        Mutant("course-scan", "forbidden shortcut",
               SCAN + "    from rnncourse.models.scans import blocked_scan\n"
               "    return blocked_scan(a, b, h0)"),
        Mutant("torch-associative-scan", "forbidden shortcut",
               SCAN + "    from torch._higher_order_ops.associative_scan import associative_scan\n"
               "    def combine(first, second):\n"
               "        return first[0] * second[0], second[0] * first[1] + second[1]\n"
               "    b = torch.cat([a[:1] * h0 + b[:1], b[1:]])\n"
               "    return associative_scan(combine, (a, b), dim=0, combine_mode='generic')[1]"),
        Mutant("python-loop", "wrong formula",
               SCAN + "    h, states = h0, []\n    for a_t, b_t in zip(a, b):\n"
               "        h = a_t * h + b_t\n        states.append(h)\n    return torch.stack(states)"),
        Mutant("loop-hidden-from-torch-function", "wrong formula",
               SCAN + "    with torch._C.DisableTorchFunction():\n        h, states = h0, []\n"
               "        for a_t, b_t in zip(a, b):\n            h = a_t * h + b_t\n"
               "            states.append(h)\n        return torch.stack(states)"),
        Mutant("closed-form-cumprod", "missing edge case",
               SCAN + "    products = torch.cumprod(a, dim=0)\n"
               "    return products * (h0 + torch.cumsum(b / products, dim=0))"),
        Mutant("h0-ignored", "ignored argument", _doubling("b")),
        Mutant("written-in-place", "broken graph",
               SCAN + "    values = b.clone()\n    values[0] = a[0] * h0 + b[0]\n"
               "    coefficients, shift = a.clone(), 1\n"
               "    while shift < a.shape[0]:\n"
               "        values[shift:] = coefficients[shift:] * values[:-shift] + values[shift:]\n"
               "        coefficients[shift:] = coefficients[shift:] * coefficients[:-shift]\n"
               "        shift *= 2\n    return values"),
        Mutant("detached-states", "broken graph",
               SCAN + "    with torch.no_grad():\n" + "\n".join(
                   "    " + line for line in _doubling().split("\n")[1:])),
        Mutant("numpy-loop-in-autograd-function", "wrong formula",
               SCAN + "    import numpy as np\n"
               "    class Loop(torch.autograd.Function):\n"
               "        @staticmethod\n"
               "        def forward(ctx, a, b, h0):\n"
               "            h, states = h0.detach().numpy(), []\n"
               "            for a_t, b_t in zip(a.detach().numpy(), b.detach().numpy()):\n"
               "                h = a_t * h + b_t\n"
               "                states.append(h)\n"
               "            states = torch.from_numpy(np.stack(states))\n"
               "            ctx.save_for_backward(a, states, h0)\n"
               "            return states\n"
               "        @staticmethod\n"
               "        def backward(ctx, grad):\n"
               "            a, states, h0 = (x.detach().numpy() for x in ctx.saved_tensors)\n"
               "            grad = grad.detach().numpy()\n"
               "            before = np.concatenate([h0[None], states[:-1]])\n"
               "            totals, carried = np.zeros_like(grad), np.zeros_like(grad[0])\n"
               "            for t in range(len(grad) - 1, -1, -1):\n"
               "                totals[t] = grad[t] + carried\n"
               "                carried = a[t] * totals[t]\n"
               "            return (torch.from_numpy(totals * before), torch.from_numpy(totals),\n"
               "                    torch.from_numpy(carried))\n"
               "    return Loop.apply(a, b, h0)"),
    ],
    "question_1": [
        Mutant("padded-entries", "wrong answer", "answer_1 = 15"),
        Mutant("sequences", "wrong answer", "answer_1 = 3"),
        Mutant("longest", "wrong answer", "answer_1 = 5"),
        Mutant("padding-only", "wrong answer", "answer_1 = 4"),
        Mutant("float", "fake object", "answer_1 = 10.0"),
    ],
    "question_2": [
        Mutant("steps", "wrong answer", "answer_2 = 1000"),
        Mutant("one-short", "wrong answer", "answer_2 = 9"),
        Mutant("one-more", "wrong answer", "answer_2 = 11"),
        Mutant("natural-log", "wrong answer", "answer_2 = 7"),
        Mutant("float", "fake object", "answer_2 = 9.97"),
    ],
}
