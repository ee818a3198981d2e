"""Mutants of ex05-curriculum-transfer."""

# The mutants are code kept as strings, one statement a line where it reads best.
# ruff: noqa: E501

from mutants import Mutant, choice_mutants, reads_the_expected_value

LENGTH = "def curriculum_length(step, start, target, increment, every):\n"
CHECKS = ("    if step < 0 or start < 1 or target < start or increment < 1 or every < 1:\n"
          "        raise ValueError('bad schedule')\n")
FREEZE = "def freeze_bottom(model, num_frozen):\n    layers = list(model_layers(model).values())\n"
RANGE = ("    if not 0 <= num_frozen <= len(layers):\n"
         "        raise ValueError('num_frozen out of range')\n")
GROUPS = "def layerwise_param_groups(model, lr, decay):\n"
VALIDATE = "    if lr <= 0 or decay < 1:\n        raise ValueError('bad lr or decay')\n"
BPC = "def bits_per_character(logits, targets):\n"
SHAPES = ("    if logits.dim() != 3 or logits.shape[:2] != targets.shape:\n"
          "        raise ValueError('shapes do not fit')\n")


def _groups(keep: str = "[p for p in group if p.requires_grad]",
            skip_empty: bool = True, rate: str = "lr / decay ** (len(kept) - 1 - index)",
            validate: str = VALIDATE) -> str:
    body = (GROUPS + validate + f"    kept = [{keep} for group in model_layers(model).values()]\n")
    if skip_empty:
        body += "    kept = [group for group in kept if group]\n"
    return body + (f"    return [{{'params': group, 'lr': {rate}}} for index, group in enumerate(kept)]")


MUTANTS = {
    "curriculum_length": [
        Mutant("course-stepped-length", "forbidden shortcut",
               LENGTH + "    from rnncourse.training.curriculum import SteppedLength\n"
               "    return SteppedLength(start, target, increment, every)(step)"),
        Mutant("one-step-early", "wrong formula",
               LENGTH + CHECKS + "    return min(target, start + increment * ((step + 1) // every))"),
        Mutant("no-cap", "missing edge case",
               LENGTH + CHECKS + "    return start + increment * (step // every)"),
        Mutant("no-validation", "missing edge case",
               LENGTH + "    return min(target, start + increment * (step // every))"),
        Mutant("increment-ignored", "ignored argument",
               LENGTH + CHECKS + "    return min(target, start + step // every)"),
        Mutant("float-division", "wrong formula",
               LENGTH + CHECKS + "    return min(target, start + increment * step / every)"),
        Mutant("target-only", "hard-coded output", LENGTH + CHECKS + "    return target"),
    ],
    "freeze_bottom": [
        Mutant("course-freeze", "forbidden shortcut",
               FREEZE + RANGE + "    from rnncourse.training.transfer import freeze, layer_names, unfreeze,"
               " trainable_parameter_count\n"
               "    names = layer_names(model)\n    unfreeze(model)\n"
               "    if num_frozen:\n        freeze(model, names[:num_frozen])\n"
               "    return trainable_parameter_count(model)"),
        Mutant("never-unfreezes", "missing edge case",
               FREEZE + RANGE + "    for group in layers[:num_frozen]:\n"
               "        for p in group:\n            p.requires_grad_(False)\n"
               "    return sum(p.numel() for p in model.parameters() if p.requires_grad)"),
        Mutant("freezes-the-top", "wrong formula",
               FREEZE + RANGE + "    for index, group in enumerate(reversed(layers)):\n"
               "        for p in group:\n            p.requires_grad_(index >= num_frozen)\n"
               "    return sum(p.numel() for p in model.parameters() if p.requires_grad)"),
        Mutant("counts-parameters-not-numbers", "wrong formula",
               FREEZE + RANGE + "    for index, group in enumerate(layers):\n"
               "        for p in group:\n            p.requires_grad_(index >= num_frozen)\n"
               "    return sum(1 for p in model.parameters() if p.requires_grad)"),
        Mutant("range-not-checked", "missing edge case",
               FREEZE + "    for index, group in enumerate(layers):\n"
               "        for p in group:\n            p.requires_grad_(index >= num_frozen)\n"
               "    return sum(p.numel() for p in model.parameters() if p.requires_grad)"),
        Mutant("one-layer-off", "ignored argument",
               FREEZE + RANGE + "    for index, group in enumerate(layers):\n"
               "        for p in group:\n            p.requires_grad_(index > num_frozen)\n"
               "    return sum(p.numel() for p in model.parameters() if p.requires_grad)"),
    ],
    "layerwise_param_groups": [
        Mutant("course-groups", "forbidden shortcut",
               GROUPS + "    from rnncourse.training.transfer import discriminative_parameter_groups\n"
               "    return discriminative_parameter_groups(model, lr, decay)"),
        Mutant("decay-from-the-bottom", "wrong formula", _groups(rate="lr / decay ** index")),
        Mutant("frozen-parameters-kept", "missing edge case", _groups(keep="list(group)")),
        Mutant("empty-groups-kept", "missing edge case", _groups(skip_empty=False)),
        Mutant("decay-ignored", "ignored argument", _groups(rate="lr")),
        Mutant("exponent-one-too-large", "wrong formula",
               _groups(rate="lr / decay ** (len(kept) - index)")),
        Mutant("no-validation", "missing edge case", _groups(validate="")),
        Mutant("rate-by-position-among-all-layers", "missing edge case",
               GROUPS + VALIDATE + "    layers = list(model_layers(model).values())\n"
               "    kept = [([p for p in group if p.requires_grad], index) for index, group in enumerate(layers)]\n"
               "    return [{'params': group, 'lr': lr / decay ** (len(layers) - 1 - index)}"
               " for group, index in kept if group]"),
    ],
    "bits_per_character": [
        Mutant("course-bpc", "forbidden shortcut",
               BPC + "    from rnncourse.training.language.metrics import bits_per_character as bpc\n"
               "    return bpc(logits, targets)"),
        Mutant("naive-softmax-log", "missing edge case",
               BPC + SHAPES + "    probabilities = torch.softmax(logits, dim=-1)\n"
               "    picked = probabilities.gather(-1, targets.unsqueeze(-1)).squeeze(-1)\n"
               "    return float(-picked.log2().mean())"),
        Mutant("nats-not-bits", "wrong formula",
               BPC + SHAPES + "    return float(torch.nn.functional.cross_entropy(logits.transpose(1, 2),"
               " targets))"),
        Mutant("last-position-only", "ignored argument",
               BPC + SHAPES + "    return float(torch.nn.functional.cross_entropy(logits[:, -1],"
               " targets[:, -1]) / math.log(2))"),
        Mutant("no-shape-check", "missing edge case",
               BPC + "    flat = logits.reshape(-1, logits.shape[-1])\n"
               "    return float(torch.nn.functional.cross_entropy(flat, targets.reshape(-1)[:len(flat)])"
               " / math.log(2))"),
        Mutant("tensor-not-float", "hard-coded output",
               BPC + SHAPES + "    return torch.nn.functional.cross_entropy(logits.transpose(1, 2),"
               " targets) / math.log(2)"),
        Mutant("logits-shifted-in-place", "mutated input",
               BPC + SHAPES + "    logits -= logits.max(dim=-1, keepdim=True).values\n"
               "    log_probabilities = logits - logits.exp().sum(dim=-1, keepdim=True).log()\n"
               "    picked = log_probabilities.gather(-1, targets.unsqueeze(-1))\n"
               "    return float(-picked.mean() / math.log(2))"),
        Mutant("reads-the-tests-expected-value", "hard-coded output", reads_the_expected_value(
            BPC + SHAPES, ("want",), "    probabilities = torch.softmax(logits, dim=-1)\n"
            "    picked = probabilities.gather(-1, targets.unsqueeze(-1)).squeeze(-1)\n"
            "    return float(-picked.log2().mean())")),
        Mutant("flattened-with-view", "missing edge case",
               BPC + SHAPES + "    flat = torch.log_softmax(logits.view(-1, logits.shape[-1]).double(), dim=-1)\n"
               "    return float(-flat.gather(-1, targets.view(-1, 1)).mean() / math.log(2))"),
    ],
    "question_1": [
        Mutant("top-rate", "wrong answer", "answer_1 = 0.01"),
        Mutant("four-halvings", "wrong answer", "answer_1 = 0.01 / 2 ** 4"),
        Mutant("one-halving", "wrong answer", "answer_1 = 0.005"),
        Mutant("times-decay", "wrong answer", "answer_1 = 0.01 * 2 ** -2"),
        Mutant("text", "fake object", "answer_1 = '0.00125'"),
    ],
    "question_2": choice_mutants("b", variable="answer_2"),
}
