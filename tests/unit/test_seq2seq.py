"""The encoder-decoder of chapter 6 (`rnncourse.models.seq2seq`) and its task
(`rnncourse.data.transliteration`): shapes, the attention's algebra, teacher forcing against
greedy decoding, bad input, and a short training run that must learn."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from rnncourse.data.transliteration import GREEK, LATIN, TransliterationTask
from rnncourse.models.seq2seq import EncoderDecoder, luong_attention
from rnncourse.training.loop import fit

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_task_targets_are_the_sources_and_decoder_inputs_are_shifted() -> None:
    task = TransliterationTask(6)
    (source, decoder_inputs), target = task.sample(5, 7, seed=3)
    assert source.shape == decoder_inputs.shape == target.shape == (5, 7)
    assert source.dtype == torch.long and int(source.max()) < 6 and int(source.min()) >= 0
    assert torch.equal(target, source)
    assert torch.all(decoder_inputs[:, 0] == task.bos)
    assert torch.equal(decoder_inputs[:, 1:], target[:, :-1])
    again = task.sample(5, 7, seed=3)
    assert torch.equal(again[0][0], source)  # one seed, the same words
    assert task.source_text([2, 0, 1]) == "cab" and task.target_text([2, 0, 1]) == "γαβ"
    assert task.chance_accuracy == pytest.approx(1 / 6)
    assert len(LATIN) == len(GREEK) == 24


@pytest.mark.parametrize("size", [1, 25])
def test_task_refuses_alphabets_it_cannot_write(size: int) -> None:
    with pytest.raises(ValueError, match="alphabet_size"):
        TransliterationTask(size)


def test_task_refuses_bad_sizes() -> None:
    with pytest.raises(ValueError, match="length"):
        TransliterationTask(4).sample(2, 0, seed=0)
    with pytest.raises(ValueError, match="batch_size"):
        TransliterationTask(4).sample(0, 3, seed=0)


def test_luong_attention_is_a_weighted_average_of_the_annotations() -> None:
    generator = torch.Generator().manual_seed(0)
    queries = torch.randn(2, 3, 4, generator=generator)
    annotations = torch.randn(2, 5, 4, generator=generator)
    weight = torch.randn(4, 4, generator=generator)
    contexts, weights = luong_attention(queries, annotations, weight)
    assert contexts.shape == (2, 3, 4) and weights.shape == (2, 3, 5)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 3))
    scores = torch.einsum("bth,hk,bsk->bts", queries, weight, annotations)  # s_i^T W_a h_j
    torch.testing.assert_close(weights, torch.softmax(scores, -1))
    torch.testing.assert_close(contexts, torch.einsum("bts,bsh->bth", weights, annotations))


def test_a_dominant_score_selects_one_annotation() -> None:
    annotations = torch.eye(3).unsqueeze(0)  # h_j = e_j
    queries = 50 * torch.eye(3).unsqueeze(0)  # s_i = 50 e_i: e_ij = 50 [i == j] with W_a = I
    contexts, weights = luong_attention(queries, annotations, torch.eye(3))
    torch.testing.assert_close(weights[0], torch.eye(3), atol=1e-6, rtol=0)
    torch.testing.assert_close(contexts, annotations, atol=1e-6, rtol=0)


@pytest.mark.parametrize("attention", [False, True])
def test_shapes_and_greedy_decoding_agrees_with_teacher_forcing(attention: bool,
                                                                device: str) -> None:
    model = EncoderDecoder(7, 5, embedding_dim=6, hidden_size=8, attention=attention,
                           device=device, seed=0).eval()
    source = torch.randint(7, (3, 4), generator=torch.Generator().manual_seed(1)).to(device)
    written, weights = model.translate(source, 6)
    assert written.shape == (3, 6) and int(written.max()) < 5
    assert (weights is None) == (not attention)
    if attention:
        assert weights.shape == (3, 6, 4)
        torch.testing.assert_close(weights.sum(-1), torch.ones(3, 6, device=device))
    # Fed the symbols greedy decoding wrote, teacher forcing must score them highest again.
    decoder_inputs = torch.cat([torch.full_like(written[:, :1], model.bos), written[:, :-1]], 1)
    with torch.no_grad():
        logits = model((source, decoder_inputs))
    assert logits.shape == (3, 6, 5)
    assert torch.equal(logits.argmax(-1), written)


def test_without_attention_the_output_depends_on_the_source_only_through_its_end_state() -> None:
    model = EncoderDecoder(4, 4, embedding_dim=5, hidden_size=6, attention=False, seed=2,
                           device="cpu").eval()  # where the states below are
    source = torch.tensor([[0, 1, 2, 3]])
    annotations, final = model.encode(source)
    torch.testing.assert_close(annotations[:, -1], final[0][0])  # h_S is the last annotation
    logits, weights = model.read_out(torch.zeros(1, 2, 6), annotations)
    scrambled = torch.cat([annotations[:, :-1].flip(1) * 3, annotations[:, -1:]], dim=1)
    torch.testing.assert_close(model.read_out(torch.zeros(1, 2, 6), scrambled)[0], logits)
    assert weights is None


def test_one_seed_one_model_and_both_variants_share_encoder_and_decoder() -> None:
    first = EncoderDecoder(5, 5, attention=True, seed=4)
    again = EncoderDecoder(5, 5, attention=True, seed=4)
    plain = EncoderDecoder(5, 5, attention=False, seed=4)
    for name, value in first.state_dict().items():
        torch.testing.assert_close(again.state_dict()[name], value)
    for part in ("source_embedding", "target_embedding", "encoder", "decoder"):
        for name, value in getattr(first, part).state_dict().items():
            torch.testing.assert_close(getattr(plain, part).state_dict()[name], value)
    assert first.num_parameters() - plain.num_parameters() == 64 * 64  # W_a


def test_bad_input_is_refused_with_the_argument_named() -> None:
    model = EncoderDecoder(4, 3, hidden_size=8, seed=0)
    source = torch.zeros(2, 3, dtype=torch.long)
    with pytest.raises(TypeError, match="pair"):
        model(source)
    with pytest.raises(TypeError, match="source"):
        model((source.float(), source))
    with pytest.raises(ValueError, match="source ids must lie in"):
        model((source + 4, source))
    with pytest.raises(ValueError, match="decoder_inputs ids must lie in"):
        model((source, source + 4))  # 3 is BOS, 4 is nothing
    with pytest.raises(ValueError, match="at least one symbol"):
        model.translate(source[:, :0], 2)
    with pytest.raises(ValueError, match="length"):
        model.translate(source, 0)
    with pytest.raises(ValueError, match="hidden_size"):
        EncoderDecoder(4, 3, hidden_size=0)


def test_training_learns_to_transliterate_short_words() -> None:
    task = TransliterationTask(5)
    model = EncoderDecoder(5, 5, embedding_dim=8, hidden_size=16, attention=True, seed=0)
    generator = torch.Generator().manual_seed(0)

    def loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1))

    (source, _), target = task.sample(200, 3, seed=99)
    before = float((model.translate(source, 3)[0] == target).float().mean())
    history = fit(model, lambda step: task.sample(32, 3, generator=generator), loss, steps=150,
                  lr=1e-2, clip_norm=1.0, device="cpu", seed=0, progress=False)
    after = float((model.translate(source, 3)[0] == target).float().mean())
    assert history.loss[-1] < 0.5 * history.loss[0]
    assert after > 0.9 > before
