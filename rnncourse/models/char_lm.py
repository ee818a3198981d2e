"""`CharLanguageModel`: a character-level language model, embedding -> recurrent core -> head.

    e_t = E[x_t]                                  embedding of character id x_t, (B, T, D)
    h_t = core(e_t, h_{t-1})                      RNN, LSTM or GRU, one or more layers
    logits_t = W_out h_t + b_out                  (B, T, V): unnormalised log p(x_{t+1} | x_{≤t})

`forward(ids, state)` returns the logits and the final state, so truncated backpropagation
through time can carry the state into the next chunk (`detach_state` cuts its gradient).
`CarriedState` wraps a model so that each call continues from the previous one, which lets the
course's one fit loop (`rnncourse.training.fit`) train it unchanged.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import Tensor, nn

from rnncourse.checks import check_choice, check_positive_int
from rnncourse.models.recurrent_model import BACKENDS, CELLS, build_recurrent_core, seeded
from rnncourse.runtime import resolve_device

__all__ = ["CarriedState", "CharLanguageModel", "CharLanguageModelConfig", "detach_state"]

State = Tensor | tuple[Tensor, ...]


def detach_state(state: State | None) -> State | None:
    """The same state cut from the graph that made it: the gradient of the next chunk stops here.

    This is what makes backpropagation through time *truncated*: values flow on, gradients don't.
    """
    if state is None:
        return None
    if isinstance(state, Tensor):
        return state.detach()
    return tuple(part.detach() for part in state)


@dataclass(frozen=True)
class CharLanguageModelConfig:
    """The sizes that rebuild a `CharLanguageModel` (saved in checkpoints beside the weights)."""

    vocab_size: int
    cell: str = "lstm"
    embedding_dim: int = 32
    hidden_size: int = 128
    num_layers: int = 1
    dropout: float = 0.0
    backend: str = "torch"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class CharLanguageModel(nn.Module):
    """Embedding (V -> D), recurrent core (D -> H, `num_layers`), linear head (H -> V).

    Args:
        vocab_size: V, the number of character ids (`CharVocabulary.size`).
        cell: "rnn_tanh", "rnn_relu", "lstm" or "gru".
        embedding_dim, hidden_size, num_layers: D, H and the depth of the core.
        dropout: on the embeddings, between layers and before the head (0 for none).
        backend: "torch" (fused kernels, cuDNN on a GPU: the default here, for speed) or
            "rnncourse" (the from-scratch modules; same parameter names, same function).
        device: None picks CUDA when present. seed: the initial weights depend on it alone.
    """

    def __init__(
        self,
        vocab_size: int,
        cell: str = "lstm",
        embedding_dim: int = 32,
        hidden_size: int = 128,
        num_layers: int = 1,
        dropout: float = 0.0,
        backend: str = "torch",
        device: str | torch.device | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        check_choice("cell", cell, CELLS)
        check_choice("backend", backend, BACKENDS)
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must lie in [0, 1), got {dropout!r}")
        self.config = CharLanguageModelConfig(
            vocab_size=check_positive_int("vocab_size", vocab_size),
            cell=cell,
            embedding_dim=check_positive_int("embedding_dim", embedding_dim),
            hidden_size=check_positive_int("hidden_size", hidden_size),
            num_layers=check_positive_int("num_layers", num_layers),
            dropout=float(dropout),
            backend=backend,
        )
        target = resolve_device(device)
        with seeded(seed):  # drawn on the CPU, then moved: one seed, one model, any device
            self.embedding = nn.Embedding(vocab_size, embedding_dim)
            self.rnn = build_recurrent_core(
                cell, embedding_dim, hidden_size, num_layers, backend,
                dropout if num_layers > 1 else 0.0,
            )
            self.head = nn.Linear(hidden_size, vocab_size)
        self.dropout = nn.Dropout(dropout)
        self.to(target)

    @classmethod
    def from_config(
        cls, config: CharLanguageModelConfig | dict[str, Any],
        device: str | torch.device | None = None, seed: int | None = None,
    ) -> CharLanguageModel:
        values = config.to_dict() if isinstance(config, CharLanguageModelConfig) else dict(config)
        return cls(**values, device=device, seed=seed)

    @property
    def device(self) -> torch.device:
        return self.head.weight.device

    def num_parameters(self) -> int:
        """How many numbers the model learns."""
        return sum(p.numel() for p in self.parameters())

    def extra_repr(self) -> str:
        return f"cell={self.config.cell!r}, backend={self.config.backend!r}"

    def forward(self, ids: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """Logits (B, T, V) for character ids (B, T), and the core's final state.

        `state` is the final state of the previous chunk (None: zeros), (num_layers, B, H) or,
        for an LSTM, the pair (h, c).
        """
        if not isinstance(ids, Tensor) or ids.dtype != torch.long:
            raise TypeError("ids must be an int64 tensor of character ids (CharVocabulary.encode)")
        if ids.dim() != 2:
            raise ValueError(f"ids must have shape (batch, seq_len), got {tuple(ids.shape)}")
        embedded = self.dropout(self.embedding(ids))  # e_t = E[x_t]
        output, state = self.rnn(embedded, state)  # h_t for t = 1..T, last layer
        logits = self.head(self.dropout(output))  # W_out h_t + b_out
        return logits, state


class CarriedState(nn.Module):
    """A language model whose every call starts from the (detached) final state of the last call.

    Feeding it the chunks of `BPTTBatches` in order is truncated BPTT: `forward(inputs)` returns
    only the logits, so `rnncourse.training.fit` can train it like any model. Call `reset()` at
    the start of each pass over the data (the rows jump back to their beginnings).
    """

    def __init__(self, model: CharLanguageModel) -> None:
        super().__init__()
        self.model = model
        self.state: State | None = None

    def reset(self) -> None:
        self.state = None

    def forward(self, ids: Tensor) -> Tensor:
        logits, state = self.model(ids, self.state)
        self.state = detach_state(state)
        return logits
