"""Mutants of ex06-language-and-time-series."""

# The mutants are code kept as strings, one statement a line where it reads best.
# ruff: noqa: E501

from mutants import Mutant, choice_mutants, reads_the_expected_value

WINDOWS = "def make_windows(series, input_length, horizon):\n"
COUNT = ("    count = len(series) - input_length - horizon + 1\n"
         "    if count < 1:\n        raise ValueError('no window fits')\n")
SAMPLE = "def sample_with_temperature(logits, temperature, generator=None):\n"
CHECK_T = ("    if temperature < 0:\n        raise ValueError('negative temperature')\n"
           "    if temperature == 0:\n        return logits.argmax(dim=-1)\n")
NAIVE = "def seasonal_naive(history, horizon, season_length):\n"
SHORT = ("    if len(history) < season_length:\n"
         "        raise ValueError('history shorter than a season')\n")
MASE = "def mase(forecast, truth, train, season_length=1):\n"
SAME = ("    if forecast.shape != truth.shape:\n"
        "        raise ValueError('shapes differ')\n")


def _windows(inputs: str = "series[i:i + input_length]",
             targets: str = "series[i + input_length:i + input_length + horizon]",
             count: str = COUNT, starts: str = "range(count)") -> str:
    return (WINDOWS + count + f"    starts = {starts}\n"
            f"    inputs = torch.stack([{inputs} for i in starts])\n"
            f"    targets = torch.stack([{targets} for i in starts])\n    return inputs, targets")


def _mase(error: str = "(forecast - truth).abs().mean()",
          scale: str = "(train[season_length:] - train[:-season_length]).abs().mean()",
          check: str = SAME, result: str = "float(error / scale)") -> str:
    return (MASE + check + f"    error = {error}\n    scale = {scale}\n    return {result}")


MUTANTS = {
    "make_windows": [
        Mutant("course-windows", "forbidden shortcut",
               WINDOWS + "    from rnncourse.data import make_windows as windows\n"
               "    return windows(series, input_length, horizon)"),
        Mutant("targets-overlap-inputs", "wrong formula",
               _windows(targets="series[i + input_length - 1:i + input_length - 1 + horizon]")),
        Mutant("last-window-missing", "missing edge case",
               _windows(count=COUNT + "    count = max(count - 1, 1)\n")),
        Mutant("every-other-window", "ignored argument", _windows(starts="range(0, count, 2)")),
        Mutant("horizon-of-one", "ignored argument",
               _windows(targets="series[i + input_length:i + input_length + 1]")),
        Mutant("no-error", "missing edge case",
               _windows(count="    count = max(len(series) - input_length - horizon + 1, 1)\n")),
        Mutant("float32-copy", "missing edge case",
               _windows(inputs="series[i:i + input_length].float()",
                        targets="series[i + input_length:i + input_length + horizon].float()")),
        Mutant("reads-the-tests-expected-value", "hard-coded output", reads_the_expected_value(
            WINDOWS, ("want_inputs", "want_targets"), COUNT
            + "    inputs = torch.stack([series[i:i + input_length].float() for i in range(count)])\n"
            "    targets = torch.stack([series[i + input_length:i + input_length + horizon].float()"
            " for i in range(count)])\n    return inputs, targets")),
        Mutant("strides-assumed-contiguous", "missing edge case",
               WINDOWS + COUNT + "    windows = torch.as_strided(series, (count, input_length + horizon), (1, 1))\n"
               "    return windows[:, :input_length].clone(), windows[:, input_length:].clone()"),
    ],
    "sample_with_temperature": [
        Mutant("course-sampler", "forbidden shortcut",
               SAMPLE + CHECK_T + "    from rnncourse.training.language import sample_next\n"
               "    return sample_next(logits, temperature, generator)"),
        Mutant("temperature-ignored", "ignored argument",
               SAMPLE + CHECK_T + "    probabilities = torch.softmax(logits, dim=-1)\n"
               "    return torch.multinomial(probabilities, 1, generator=generator).squeeze(-1)"),
        Mutant("multiplied-by-temperature", "wrong formula",
               SAMPLE + CHECK_T + "    probabilities = torch.softmax(logits * temperature, dim=-1)\n"
               "    return torch.multinomial(probabilities, 1, generator=generator).squeeze(-1)"),
        Mutant("generator-ignored", "ignored argument",
               SAMPLE + CHECK_T + "    probabilities = torch.softmax(logits / temperature, dim=-1)\n"
               "    return torch.multinomial(probabilities, 1).squeeze(-1)"),
        Mutant("always-the-argmax", "hard-coded output",
               SAMPLE + CHECK_T + "    return logits.argmax(dim=-1)"),
        Mutant("zero-not-handled", "missing edge case",
               SAMPLE + "    if temperature < 0:\n        raise ValueError('negative temperature')\n"
               "    probabilities = torch.softmax(logits / max(temperature, 1e-3), dim=-1)\n"
               "    return torch.multinomial(probabilities, 1, generator=generator).squeeze(-1)"),
        Mutant("float-ids", "hard-coded output",
               SAMPLE + CHECK_T + "    probabilities = torch.softmax(logits / temperature, dim=-1)\n"
               "    return torch.multinomial(probabilities, 1, generator=generator).squeeze(-1)"
               ".float()"),
        Mutant("squeezed-to-a-scalar", "missing edge case",
               SAMPLE + CHECK_T + "    probabilities = torch.softmax(logits / temperature, dim=-1)\n"
               "    return torch.multinomial(probabilities, 1, generator=generator).squeeze()"),
        Mutant("divided-in-place", "mutated input",
               SAMPLE + CHECK_T + "    logits /= temperature\n"
               "    probabilities = torch.softmax(logits, dim=-1)\n"
               "    return torch.multinomial(probabilities, 1, generator=generator).squeeze(-1)"),
        Mutant("exponentials-overflow", "missing edge case",
               SAMPLE + CHECK_T + "    weights = torch.exp(logits / temperature)\n"
               "    probabilities = weights / weights.sum(dim=-1, keepdim=True)\n"
               "    return torch.multinomial(probabilities, 1, generator=generator).squeeze(-1)"),
    ],
    "seasonal_naive": [
        Mutant("course-forecast", "forbidden shortcut",
               NAIVE + SHORT + "    from rnncourse.training.forecasting import"
               " seasonal_naive_forecasts\n"
               "    return torch.as_tensor(seasonal_naive_forecasts(history[None, :], horizon,"
               " season_length)[0], dtype=history.dtype)"),
        Mutant("last-value-only", "ignored argument",
               NAIVE + SHORT + "    return history[-1].repeat(horizon)"),
        Mutant("no-cycle", "missing edge case",
               NAIVE + SHORT + "    last = history[len(history) - season_length:]\n"
               "    return torch.cat([last, last[-1:].repeat(max(horizon - season_length, 0))])"
               "[:horizon]"),
        Mutant("season-off-by-one", "wrong formula",
               NAIVE + SHORT + "    last = history[len(history) - season_length - 1:-1]"
               " if len(history) > season_length else history\n"
               "    return last[torch.arange(horizon) % season_length]"),
        Mutant("no-error", "missing edge case",
               NAIVE + "    last = history[max(len(history) - season_length, 0):]\n"
               "    return last[torch.arange(horizon) % max(len(last), 1)] if len(last)"
               " else torch.zeros(horizon)"),
        Mutant("list-not-tensor", "hard-coded output",
               NAIVE + SHORT + "    last = history[len(history) - season_length:]\n"
               "    return [float(last[h % season_length]) for h in range(horizon)]"),
        Mutant("float32-forecasts", "missing edge case",
               NAIVE + SHORT + "    last = history[len(history) - season_length:].tolist()\n"
               "    return torch.tensor([last[h % season_length] for h in range(horizon)])"),
        Mutant("reads-the-tests-expected-value", "hard-coded output", reads_the_expected_value(
            NAIVE + SHORT, ("want",), "    last = history[len(history) - season_length:].tolist()\n"
            "    return torch.tensor([last[h % season_length] for h in range(horizon)])")),
    ],
    "mase": [
        Mutant("course-mase", "forbidden shortcut",
               MASE + SAME + "    from rnncourse.training.forecasting import mase as course_mase\n"
               "    return course_mase(forecast, truth, train, season_length)"),
        Mutant("season-ignored-in-scale", "ignored argument",
               _mase(scale="(train[1:] - train[:-1]).abs().mean()")),
        Mutant("squared-errors", "wrong formula", _mase(error="(forecast - truth).pow(2).mean()")),
        Mutant("scaled-by-the-truth", "wrong formula",
               _mase(scale="(truth.flatten()[season_length:] - truth.flatten()[:-season_length])"
                           ".abs().mean()")),
        Mutant("shapes-not-checked", "missing edge case",
               _mase(check="", error="(forecast.flatten() - truth.flatten()[:forecast.numel()])"
                                     ".abs().mean()")),
        Mutant("tensor-not-float", "hard-coded output", _mase(result="error / scale")),
        Mutant("forecast-changed-in-place", "mutated input",
               _mase(error="forecast.sub_(truth).abs().mean()")),
    ],
    "question_1": [
        Mutant("the-scale", "wrong answer", "answer_1 = 4"),
        Mutant("difference", "wrong answer", "answer_1 = -2"),
        Mutant("mae", "wrong answer", "answer_1 = 2"),
        Mutant("one", "wrong answer", "answer_1 = 1"),
        Mutant("text", "fake object", "answer_1 = '0.5'"),
    ],
    "question_2": choice_mutants("b", variable="answer_2"),
}
