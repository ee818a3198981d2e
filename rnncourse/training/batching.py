"""Batches of sequences of different lengths, and long sequences cut into chunks.

Variable lengths. A batch is a rectangle (B, T_max, ...): shorter sequences are padded. Three
ways to keep the padding from changing the result:

* masking: run over the padding, then ignore it: a per-step loss is averaged over valid steps
  only, Σ_{b,t} m_{bt} ℓ_{bt} / Σ_{b,t} m_{bt} with m_{bt} = [t < L_b] (`masked_mean`), and a
  per-sequence readout takes the last valid state h_{L_b} (`last_valid`);
* packing: `torch.nn.utils.rnn.pack_padded_sequence` lets torch.nn's RNNs skip the padding
  altogether (`packed_run`);
* bucketing: batch sequences of similar length together, so there is little padding to begin
  with (`bucket_batches`; `padding_fraction` measures what is left).

Long sequences. Truncated backpropagation through time (Williams and Peng 1990) cuts a long
sequence into chunks of K steps and updates after each; the state is carried into the next chunk
but detached, so gradients flow back at most K steps (`truncated_bptt_epoch`; `detach_state`
comes from `rnncourse.models.char_lm`, where chapter 6's language model uses it the same way).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

from rnncourse.models.char_lm import detach_state

__all__ = [
    "bucket_batches",
    "detach_state",
    "last_valid",
    "length_mask",
    "masked_mean",
    "packed_run",
    "pad_batch",
    "padding_fraction",
    "random_batches",
    "truncated_bptt_epoch",
]

State = Tensor | tuple[Tensor, ...] | None


def _check_lengths(lengths: Tensor | Sequence[int], max_length: int | None = None) -> Tensor:
    """`lengths` as a 1-D int64 CPU tensor of positive values (≤ max_length when given)."""
    lengths = torch.as_tensor(lengths)
    if lengths.dim() != 1 or lengths.is_floating_point() or lengths.is_complex():
        raise TypeError(
            f"lengths must be a 1-D sequence of ints, got dtype {lengths.dtype} "
            f"and shape {tuple(lengths.shape)}"
        )
    if len(lengths) and int(lengths.min()) < 1:
        raise ValueError(f"every length must be at least 1, got min {int(lengths.min())}")
    if max_length is not None and len(lengths) and int(lengths.max()) > max_length:
        raise ValueError(
            f"a length {int(lengths.max())} exceeds the padded length {max_length} of the batch"
        )
    # On the CPU also when they came with their batch from a GPU: packing needs them there.
    return lengths.to("cpu", torch.int64)


def pad_batch(sequences: Sequence[Tensor], padding_value: float = 0.0) -> tuple[Tensor, Tensor]:
    """Stack sequences of shapes (L_b, ...) into (B, max L_b, ...), batch first, and their lengths.

    Returns (padded, lengths), lengths an int64 tensor of shape (B,) on the CPU.
    """
    if not sequences:
        raise ValueError("sequences is empty; need at least one sequence to pad")
    lengths = torch.tensor([len(sequence) for sequence in sequences], dtype=torch.int64)
    _check_lengths(lengths)
    return pad_sequence(list(sequences), batch_first=True, padding_value=padding_value), lengths


def length_mask(lengths: Tensor | Sequence[int], max_length: int | None = None) -> Tensor:
    """m_{bt} = [t < L_b]: a bool mask of shape (B, max_length), True on the valid steps."""
    lengths = _check_lengths(lengths, max_length)
    max_length = int(lengths.max()) if max_length is None else max_length
    return torch.arange(max_length).unsqueeze(0) < lengths.unsqueeze(1)


def masked_mean(values: Tensor, lengths: Tensor | Sequence[int]) -> Tensor:
    """Mean of per-step `values` (B, T, ...) over the valid steps only:

        Σ_{b,t} m_{bt} v_{bt} / Σ_{b,t} m_{bt},   m_{bt} = [t < L_b]

    Trailing dimensions (features) are averaged too. Every sequence step counts once, so a
    batch's loss does not depend on how much padding it carries.
    """
    if values.dim() < 2:
        raise ValueError(f"values must have shape (batch, seq_len, ...), got {tuple(values.shape)}")
    mask = length_mask(lengths, values.shape[1]).to(values.device)
    if mask.shape[0] != values.shape[0]:
        raise ValueError(f"got {mask.shape[0]} lengths for a batch of {values.shape[0]}")
    weights = mask.reshape(*mask.shape, *([1] * (values.dim() - 2))).to(values.dtype)
    per_step = values[0, 0].numel()
    return (values * weights).sum() / (weights.sum() * per_step)


def last_valid(outputs: Tensor, lengths: Tensor | Sequence[int]) -> Tensor:
    """h_{L_b} of every sequence: outputs (B, T, H) -> (B, H), step L_b − 1 of row b."""
    if outputs.dim() != 3:
        raise ValueError(
            f"outputs must have shape (batch, seq_len, hidden), got {tuple(outputs.shape)}"
        )
    lengths = _check_lengths(lengths, outputs.shape[1])
    if len(lengths) != outputs.shape[0]:
        raise ValueError(f"got {len(lengths)} lengths for a batch of {outputs.shape[0]}")
    rows = torch.arange(outputs.shape[0], device=outputs.device)
    return outputs[rows, lengths.to(outputs.device) - 1]


def packed_run(
    rnn: nn.Module, padded: Tensor, lengths: Tensor | Sequence[int], hx: State = None
) -> tuple[Tensor, State]:
    """Run a batch-first torch.nn RNN/LSTM/GRU over a padded batch without computing the padding.

    Returns (outputs (B, T, H) with zeros on the padding, final state): the final state holds
    h_{L_b} for every sequence, its own last valid step.
    """
    lengths = _check_lengths(lengths, padded.shape[1])
    packed = pack_padded_sequence(padded, lengths, batch_first=True, enforce_sorted=False)
    packed_outputs, state = rnn(packed, hx)
    outputs, _ = pad_packed_sequence(packed_outputs, batch_first=True, total_length=padded.shape[1])
    return outputs, state


def random_batches(num_items: int, batch_size: int, *, seed: int | None = None) -> list[list[int]]:
    """Indices 0..num_items-1 shuffled and cut into batches of `batch_size` (the last smaller)."""
    _check_batch_arguments(num_items, batch_size)
    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    order = torch.randperm(num_items, generator=generator).tolist()
    return [order[start : start + batch_size] for start in range(0, num_items, batch_size)]


def bucket_batches(
    lengths: Tensor | Sequence[int], batch_size: int, *, seed: int | None = None
) -> list[list[int]]:
    """Batches of sequences of similar length: sort by length, cut, shuffle the batch order.

    Ties are broken at random (seeded), and the order of the batches is shuffled, so an epoch
    does not run from the shortest sequences to the longest.
    """
    lengths = _check_lengths(lengths)
    _check_batch_arguments(len(lengths), batch_size)
    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    shuffled = torch.randperm(len(lengths), generator=generator)
    by_length = shuffled[torch.argsort(lengths[shuffled], stable=True)].tolist()
    starts = range(0, len(by_length), batch_size)
    batches = [by_length[start : start + batch_size] for start in starts]
    order = torch.randperm(len(batches), generator=generator).tolist()
    return [batches[i] for i in order]


def padding_fraction(lengths: Tensor | Sequence[int], batches: Sequence[Sequence[int]]) -> float:
    """Share of computed steps that are padding when each batch is padded to its longest:

        1 − Σ_b L_b / Σ_batches (batch size × longest length in the batch)
    """
    lengths = _check_lengths(lengths)
    computed = sum(len(batch) * int(lengths[list(batch)].max()) for batch in batches if batch)
    useful = sum(int(lengths[list(batch)].sum()) for batch in batches if batch)
    return 1.0 - useful / computed if computed else 0.0


def _check_batch_arguments(num_items: int, batch_size: int) -> None:
    for name, value in (("num_items", num_items), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")


def truncated_bptt_epoch(
    model: Callable[[Tensor, State], tuple[Tensor, State]],
    inputs: Tensor,
    targets: Tensor,
    *,
    chunk_length: int,
    loss_fn: Callable[[Tensor, Tensor], Tensor],
    optimizer: torch.optim.Optimizer,
    carry_state: bool = True,
    clip_norm: float | None = None,
) -> list[float]:
    """One pass of truncated BPTT over long sequences (B, T, ...), one update per chunk.

    `model(chunk, state) -> (outputs, state)` runs a chunk (B, K, ...) from `state` (None: zeros).
    For each chunk: forward, loss, backward, (clip), step; then the final state is detached and
    carried into the next chunk (`carry_state=True`), or dropped (every chunk starts from zeros).
    Returns the loss of every chunk.
    """
    if isinstance(chunk_length, bool) or not isinstance(chunk_length, int) or chunk_length < 1:
        raise ValueError(f"chunk_length must be a positive int, got {chunk_length!r}")
    if inputs.shape[:2] != targets.shape[:2]:
        raise ValueError(
            f"inputs {tuple(inputs.shape)} and targets {tuple(targets.shape)} must share "
            "(batch, seq_len)"
        )
    parameters = [p for group in optimizer.param_groups for p in group["params"]]
    state: State = None
    losses = []
    for chunk_inputs, chunk_targets in zip(
        inputs.split(chunk_length, dim=1), targets.split(chunk_length, dim=1), strict=True
    ):
        outputs, final_state = model(chunk_inputs, state)
        loss = loss_fn(outputs, chunk_targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()  # gradients reach back to the start of this chunk, no further
        if clip_norm is not None:
            nn.utils.clip_grad_norm_(parameters, clip_norm)
        optimizer.step()
        state = detach_state(final_state) if carry_state else None
        losses.append(float(loss.detach()))
        if not math.isfinite(losses[-1]):
            break
    return losses
