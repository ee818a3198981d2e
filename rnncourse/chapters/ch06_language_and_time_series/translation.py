"""The memory problem of encoder-decoders, measured: accuracy against sequence length, with and
without attention, on the transliteration task (`rnncourse.data.transliteration`).

For each variant and seed, an `EncoderDecoder` is trained with teacher forcing on words of
random lengths in [min_length, max_length] (one length per batch, so no padding), then writes
a fixed test set of each length by greedy decoding. Every model of every variant sees the same
test words; the seeds change the initial weights and the order of the training words.

    accuracy(L) = share of the symbols of the test words of length L written right
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from rnncourse.data.transliteration import TransliterationTask
from rnncourse.models.seq2seq import EncoderDecoder
from rnncourse.runtime import resolve_device, seeded_generator
from rnncourse.training.loop import fit

__all__ = ["VARIANTS", "AttentionStudy", "run_attention_study", "sequence_loss"]

# Label -> whether the model has attention.
VARIANTS = {"no attention": False, "attention": True}


def sequence_loss(logits: Tensor, targets: Tensor) -> Tensor:
    """Mean cross-entropy (nats) of the target symbols: logits (B, T, V), targets (B, T)."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


@dataclass
class AttentionStudy:
    """What `run_attention_study` measured.

    `accuracy[variant]` has shape (seeds, lengths): the share of symbols right at each test
    length; `position_accuracy[variant]` (seeds, max_length): the share right at each output
    position of the longest test words; `loss[variant]` (seeds, steps): the training loss.
    `example` holds one test word of the longest length, each variant's output for it (first
    seed) and the attention weights (length, length) of the first attention model.
    """

    task: TransliterationTask
    lengths: list[int]
    seeds: list[int]
    accuracy: dict[str, np.ndarray]
    position_accuracy: dict[str, np.ndarray]
    loss: dict[str, np.ndarray]
    parameters: dict[str, int]
    example: dict[str, object] = field(default_factory=dict)
    settings: dict[str, object] = field(default_factory=dict)

    def mean(self, variant: str) -> np.ndarray:
        """Accuracy at each length, mean over seeds."""
        return self.accuracy[variant].mean(axis=0)

    def spread(self, variant: str) -> np.ndarray:
        """Accuracy at each length, standard deviation over seeds (0 for one seed)."""
        return self.accuracy[variant].std(axis=0, ddof=1) if len(self.seeds) > 1 else \
            np.zeros(len(self.lengths))


def _training_batches(task: TransliterationTask, batch_size: int, min_length: int,
                      max_length: int, seed: int, device: torch.device):
    """step -> batch of one random length in [min_length, max_length] (bucketed: no padding)."""
    generator = seeded_generator(seed, torch.device("cpu"))

    def next_batch(step: int):
        length = int(torch.randint(min_length, max_length + 1, (1,), generator=generator))
        batch = task.sample(batch_size, length, generator=generator)
        return ((batch[0][0].to(device), batch[0][1].to(device)), batch[1].to(device))

    return next_batch


def run_attention_study(
    *,
    alphabet_size: int = 10,
    embedding_dim: int = 32,
    hidden_size: int = 64,
    min_length: int = 3,
    max_length: int = 24,
    test_lengths: list[int] | None = None,
    test_words: int = 200,
    steps: int = 150,
    batch_size: int = 64,
    lr: float = 1e-2,
    clip_norm: float = 1.0,
    seeds: int = 3,
    device: str | torch.device | None = None,
    seed: int = 0,
) -> AttentionStudy:
    """Train `seeds` encoder-decoders per variant (`VARIANTS`) and measure their accuracy at
    each test length (every length from min_length to max_length by default).

    Adam at `lr`, gradients clipped to norm `clip_norm`; model k of each variant starts from
    seed `seed + k` (the same initial encoder and decoder weights in both variants).
    """
    if not 1 <= min_length <= max_length:
        raise ValueError(f"need 1 <= min_length <= max_length, got {min_length}, {max_length}")
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ValueError(f"seeds must be a positive int, got {seeds!r}")
    device = resolve_device(device)
    task = TransliterationTask(alphabet_size)
    lengths = list(test_lengths or range(min_length, max_length + 1))
    longest = max(lengths)
    test_sets = {length: task.sample(test_words, length, seed=10_000 + length, device=device)
                 for length in lengths}
    member_seeds = [seed + k for k in range(seeds)]
    study = AttentionStudy(task, lengths, member_seeds, {}, {}, {}, {},
                           settings=dict(alphabet_size=alphabet_size, hidden_size=hidden_size,
                                         embedding_dim=embedding_dim, steps=steps,
                                         batch_size=batch_size, lr=lr, min_length=min_length,
                                         max_length=max_length, test_words=test_words))
    example_source = test_sets[longest][0][0][:1]
    study.example = {"source": example_source[0].cpu(), "target": test_sets[longest][1][0].cpu()}
    for label, attention in VARIANTS.items():
        accuracy, positions, losses = [], [], []
        for k, member_seed in enumerate(member_seeds):
            model = EncoderDecoder(alphabet_size, alphabet_size, embedding_dim, hidden_size,
                                   attention=attention, device=device, seed=member_seed)
            history = fit(model, _training_batches(task, batch_size, min_length, max_length,
                                                   member_seed, device),
                          sequence_loss, steps=steps, lr=lr, clip_norm=clip_norm,
                          device=device, seed=member_seed, progress=False)
            losses.append(history.loss)
            model.eval()
            row = []
            for length in lengths:
                (source, _), target = test_sets[length]
                written, _ = model.translate(source, length)
                right = (written == target).float()
                row.append(float(right.mean()))
                if length == longest:
                    positions.append(right.mean(dim=0).cpu().numpy())
            accuracy.append(row)
            if k == 0:
                written, weights = model.translate(example_source, longest)
                study.example[label] = written[0].cpu()
                if weights is not None:
                    study.example["weights"] = weights[0].cpu().numpy()
        study.accuracy[label] = np.array(accuracy)
        study.position_accuracy[label] = np.array(positions)
        study.loss[label] = np.array(losses)
        study.parameters[label] = model.num_parameters()
    return study
