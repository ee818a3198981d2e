"""`EncoderDecoder`: an LSTM encoder and an LSTM decoder, with or without attention.

The encoder reads the source x_1..x_S into annotations h_j; the decoder writes y_1..y_T, one
symbol after the other, from its own state s_i and a context vector c_i:

    h_j = LSTM(E_x[x_j], h_{j-1}),  h_0 = 0                     encoder, j = 1..S
    s_i = LSTM(E_y[y_{i-1}], s_{i-1}),  s_0 = h_S,  y_0 = BOS   decoder, i = 1..T
    c_i = h_S                                     no attention: one vector for every i
    α_i = softmax_j(s_i^T W_a h_j),  c_i = Σ_j α_ij h_j          attention (Luong et al. 2015)
    p(y_i | y_<i, x) = softmax(W_s tanh(W_c [c_i; s_i]))        the same read-out for both

Without attention, all the decoder knows of the source passes through the fixed-size h_S (and
the LSTM's cell state c_S), as in the encoder-decoders of Sutskever et al. (2014) and Cho et al.
(2014). With attention, every output step looks back at all the annotations. This is the
"global attention" of Luong, Pham and Manning (2015) with their "general" score s^T W_a h:
the context is computed from the state *after* the decoder's step, so the decoder's recurrence
does not depend on it. Teacher-forced training then runs the decoder as one call of torch's
fused LSTM and the attention of all T output steps as one batched matrix product. Bahdanau,
Cho and Bengio (2015) score with the state *before* the step, v^T tanh(W s_{i-1} + U h_j), and
feed c_i into the step, so their decoder must be run one step at a time.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnncourse.checks import check_bool, check_positive_int
from rnncourse.models.recurrent_model import seeded
from rnncourse.runtime import resolve_device

__all__ = ["EncoderDecoder", "luong_attention"]

State = tuple[Tensor, Tensor]


def luong_attention(queries: Tensor, annotations: Tensor,
                    weight: Tensor) -> tuple[Tensor, Tensor]:
    """Luong's global attention with the "general" score, for T queries at once:

        e_ij = s_i^T W_a h_j,   α_ij = softmax_j(e_ij),   c_i = Σ_j α_ij h_j

    queries s (B, T, H), annotations h (B, S, H), weight W_a (H, H). Returns the contexts c
    (B, T, H) and the weights α (B, T, S), each row of α summing to 1.
    """
    scores = queries @ F.linear(annotations, weight).transpose(1, 2)  # e_ij = s_i · (W_a h_j)
    weights = torch.softmax(scores, dim=-1)  # α_ij = exp(e_ij) / Σ_k exp(e_ik)
    return weights @ annotations, weights  # c_i = Σ_j α_ij h_j


class EncoderDecoder(nn.Module):
    """LSTM encoder-decoder over symbol ids (the module docstring gives the equations).

    Args:
        source_vocab: number of source symbols (ids 0..source_vocab-1).
        target_vocab: number of target symbols the decoder writes; id `target_vocab` is the start
            symbol BOS, which the decoder only ever reads.
        embedding_dim, hidden_size: sizes of the embeddings and of both LSTMs' states.
        attention: True for Luong's global attention, False for the fixed context c_i = h_S.
        device, seed: where the model lives; the initial weights depend on `seed` alone.
    """

    def __init__(
        self,
        source_vocab: int,
        target_vocab: int,
        embedding_dim: int = 32,
        hidden_size: int = 64,
        attention: bool = True,
        device: str | torch.device | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        self.source_vocab = check_positive_int("source_vocab", source_vocab)
        self.target_vocab = check_positive_int("target_vocab", target_vocab)
        check_positive_int("embedding_dim", embedding_dim)
        hidden = self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.attention = check_bool("attention", attention)
        with seeded(seed):  # drawn on the CPU, then moved: one seed, one model, any device
            self.source_embedding = nn.Embedding(source_vocab, embedding_dim)
            self.target_embedding = nn.Embedding(target_vocab + 1, embedding_dim)  # + BOS
            self.encoder = nn.LSTM(embedding_dim, hidden, batch_first=True)
            self.decoder = nn.LSTM(embedding_dim, hidden, batch_first=True)
            if attention:
                self.score = nn.Linear(hidden, hidden, bias=False)  # W_a
            self.combine = nn.Linear(2 * hidden, hidden)  # W_c
            self.head = nn.Linear(hidden, target_vocab)  # W_s
        self.to(resolve_device(device))

    @property
    def bos(self) -> int:
        """The id of the start symbol the decoder reads first."""
        return self.target_vocab

    def num_parameters(self) -> int:
        """How many numbers the model learns."""
        return sum(parameter.numel() for parameter in self.parameters())

    def extra_repr(self) -> str:
        return f"attention={self.attention}"

    def encode(self, source: Tensor) -> tuple[Tensor, State]:
        """Annotations h_1..h_S (B, S, H) of source ids (B, S), and the final state (h_S, c_S)."""
        _check_ids("source", source, self.source_vocab)
        return self.encoder(self.source_embedding(source))

    def read_out(self, states: Tensor, annotations: Tensor) -> tuple[Tensor, Tensor | None]:
        """Logits (B, T, target_vocab) from decoder states s (B, T, H), and the attention
        weights α (B, T, S) (None without attention)."""
        if self.attention:
            contexts, weights = luong_attention(states, annotations, self.score.weight)
        else:  # c_i = h_S for every i
            contexts, weights = annotations[:, -1:].expand_as(states), None
        attentional = torch.tanh(self.combine(torch.cat([contexts, states], dim=-1)))
        return self.head(attentional), weights  # W_s tanh(W_c [c_i; s_i])

    def forward(self, pair: tuple[Tensor, Tensor]) -> Tensor:
        """Teacher-forced logits (B, T, target_vocab) for `pair` = (source (B, S), decoder
        inputs (B, T)): the decoder reads BOS and the true target without its last symbol.

        One argument, the pair, so that `rnncourse.training.fit` trains the model unchanged.
        """
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise TypeError("forward takes one pair (source ids, decoder input ids)")
        source, decoder_inputs = pair
        _check_ids("decoder_inputs", decoder_inputs, self.target_vocab + 1)
        annotations, final = self.encode(source)
        states, _ = self.decoder(self.target_embedding(decoder_inputs), final)  # s_0 = h_S
        return self.read_out(states, annotations)[0]

    @torch.no_grad()
    def translate(self, source: Tensor, length: int) -> tuple[Tensor, Tensor | None]:
        """Greedy decoding of `length` symbols: each is the most likely one given the symbols
        the decoder wrote before it (never the true ones). Returns the ids (B, length) and the
        attention weights (B, length, S) (None without attention)."""
        check_positive_int("length", length)
        annotations, state = self.encode(source)
        previous = source.new_full((source.shape[0], 1), self.bos)  # y_0 = BOS
        written, weights = [], []
        for _ in range(length):
            output, state = self.decoder(self.target_embedding(previous), state)
            logits, alpha = self.read_out(output, annotations)
            previous = logits.argmax(dim=-1)  # (B, 1)
            written.append(previous)
            weights.append(alpha)
        alphas = torch.cat(weights, dim=1) if self.attention else None
        return torch.cat(written, dim=1), alphas


def _check_ids(name: str, ids: object, vocab: int) -> None:
    if not isinstance(ids, Tensor) or ids.dtype != torch.long or ids.dim() != 2:
        raise TypeError(f"{name} must be an int64 tensor of ids of shape (batch, length)")
    if ids.shape[1] < 1:
        raise ValueError(f"{name} must hold at least one symbol per row, got shape "
                         f"{tuple(ids.shape)}")
    if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= vocab):
        raise ValueError(f"{name} ids must lie in [0, {vocab}), got ids from {int(ids.min())} "
                         f"to {int(ids.max())}")
