"""Text from a character language model: primed with a string, sampled at a temperature τ,

    p_τ(c) = exp(z_c / τ) / Σ_c' exp(z_c' / τ),

where τ < 1 sharpens the distribution (safer, more repetitive text), τ > 1 flattens it (more
surprising, more misspelt) and τ = 0 takes the most likely character.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rnncourse.data.vocabulary import CharVocabulary
from rnncourse.models.char_lm import CharLanguageModel
from rnncourse.runtime import resolve_device, seeded_generator

__all__ = ["sample", "sample_next"]


def sample_next(
    logits: Tensor, temperature: float = 1.0, generator: torch.Generator | None = None
) -> Tensor:
    """Draw one id per row from softmax(logits / temperature); temperature 0 takes the argmax.

    logits (B, V) -> ids (B,). Below 1 the distribution sharpens towards its mode (safer, more
    repetitive text), above 1 it flattens towards uniform (more surprising, more misspelt).
    """
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature!r}")
    if temperature == 0:
        return logits.argmax(dim=-1)
    probabilities = torch.softmax(logits.float() / temperature, dim=-1)  # p_i ∝ exp(z_i / τ)
    return torch.multinomial(probabilities, 1, generator=generator).squeeze(-1)


@torch.no_grad()
def sample(
    model: CharLanguageModel,
    vocabulary: CharVocabulary,
    prime: str = "\n",
    length: int = 200,
    temperature: float = 1.0,
    seed: int | None = 0,
    device: str | torch.device | None = None,
) -> str:
    """`length` characters generated after `prime` (which is read first and not repeated), on
    the model's device (`device`, if given, must name it)."""
    if not prime:
        raise ValueError("prime must hold at least one character (the model needs a first input)")
    if device is not None:  # the model's own device, named: anything else would mix devices
        asked = resolve_device(device)
        if asked.type != model.device.type or asked.index not in (None, model.device.index):
            raise ValueError(f"device={str(device)!r}, but the model is on {model.device}: move "
                             "it there first (model.to(device)), or leave device=None")
    device = model.device
    generator = seeded_generator(seed, device)
    was_training = model.training
    model.eval()
    logits, state = model(vocabulary.encode(prime).to(device)[None, :], None)
    generated = []
    for _ in range(length):
        next_id = sample_next(logits[:, -1, :], temperature, generator)  # (1,)
        generated.append(int(next_id))
        logits, state = model(next_id[:, None], state)
    model.train(was_training)
    return vocabulary.decode(generated)

