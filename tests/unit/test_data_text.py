"""Shipped corpora, the character vocabulary, contiguous splits and truncated-BPTT batches."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
import torch

import rnncourse
from rnncourse.data.text import BPTTBatches, available_corpora, corpus_info, load_text, split_text
from rnncourse.data.vocabulary import CharVocabulary

FILES = Path(rnncourse.__file__).parent / "data" / "files"


def test_at_least_two_corpora_of_different_domains() -> None:
    names = available_corpora()
    assert len(names) >= 2
    infos = [corpus_info(name) for name in names]
    assert len({info.domain for info in infos}) == len(infos)
    for info in infos:
        assert "public domain" in info.licence
        assert info.source and info.title and info.author


@pytest.mark.parametrize("name", available_corpora())
def test_corpus_loads_offline_with_its_recorded_size(name: str) -> None:
    info = corpus_info(name)
    text = load_text(name)
    assert len(text) == info.size == info.characters
    assert len(text) > 100_000
    assert load_text(name) is text  # cached
    assert load_text(name, max_characters=50) == text[:50]


def test_corpus_files_are_small_and_compressed() -> None:
    total = 0
    for name in available_corpora():
        path = FILES / corpus_info(name).file
        data = path.read_bytes()
        assert data[:2] == b"\x1f\x8b", f"{path.name} is not gzip"
        assert len(data) < 5_000_000
        total += len(data)
        gzip.decompress(data).decode("utf-8")
    assert total < 4_000_000


def test_sizes_differ_for_pretraining_and_fine_tuning() -> None:
    sizes = sorted(corpus_info(name).size for name in available_corpora())
    assert sizes[-1] > 5 * sizes[0]


def test_known_openings() -> None:
    assert load_text("kjv").startswith("Genesis 1\n\n1 In the beginning God created")
    assert "It is a truth universally acknowledged" in load_text("pride_and_prejudice")[:500]
    assert "ABASEMENT, n." in load_text("devils_dictionary")


def test_bad_corpus_name_and_arguments() -> None:
    with pytest.raises(ValueError, match="name must be one of"):
        load_text("no such book")
    with pytest.raises(ValueError, match="max_characters"):
        load_text("kjv", max_characters=0)
    with pytest.raises(TypeError, match="max_characters"):
        load_text("kjv", max_characters=2.5)


# ----------------------------------------------------------------------------------------------
# Vocabulary


def test_vocabulary_round_trip_and_order() -> None:
    vocabulary = CharVocabulary.from_text("hello world")
    assert vocabulary.characters[:-1] == sorted(set("hello world"))
    assert vocabulary.size == len(vocabulary) == len(set("hello world")) + 1  # + unknown
    ids = vocabulary.encode("hello world")
    assert ids.dtype == torch.long and ids.shape == (11,)
    assert vocabulary.decode(ids) == "hello world"
    assert vocabulary.decode(ids.tolist()) == "hello world"
    assert vocabulary.decode(ids.view(1, 11)) == "hello world"


def test_vocabulary_unknown_handling() -> None:
    vocabulary = CharVocabulary.from_text("abc")
    ids = vocabulary.encode("abz")
    assert ids[2].item() == vocabulary.unknown_id
    assert vocabulary.decode(ids) == "ab\ufffd"
    strict = CharVocabulary.from_text("abc", unknown=None)
    assert strict.size == 3 and strict.unknown_id is None
    with pytest.raises(ValueError, match="not in the vocabulary"):
        strict.encode("abz")


def test_vocabulary_min_count_and_state_dict() -> None:
    vocabulary = CharVocabulary.from_text("aaab", min_count=2)
    assert "a" in vocabulary and "b" not in vocabulary
    assert vocabulary.encode("b").item() == vocabulary.unknown_id
    again = CharVocabulary.from_state_dict(vocabulary.state_dict())
    assert again == vocabulary
    assert torch.equal(again.encode("abba"), vocabulary.encode("abba"))


def test_vocabulary_on_a_whole_corpus() -> None:
    text = load_text("pride_and_prejudice")
    vocabulary = CharVocabulary.from_text(text)
    ids = vocabulary.encode(text)
    assert len(ids) == len(text)
    assert vocabulary.decode(ids[:1000]) == text[:1000]
    assert int(ids.max()) < vocabulary.size
    assert not (ids == vocabulary.unknown_id).any()


def test_vocabulary_bad_input() -> None:
    with pytest.raises(ValueError, match="single characters"):
        CharVocabulary(["ab"])
    with pytest.raises(ValueError, match="repeat"):
        CharVocabulary(["a", "a"])
    with pytest.raises(ValueError, match="ids must lie"):
        CharVocabulary.from_text("ab").decode([0, 7])
    with pytest.raises(ValueError, match="ids must lie"):
        CharVocabulary.from_text("ab").decode([-1])
    with pytest.raises(TypeError, match="text must be a str"):
        CharVocabulary.from_text("ab").encode([1, 2])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="min_count"):
        CharVocabulary.from_text("ab", min_count=0)


# ----------------------------------------------------------------------------------------------
# Splits


def test_split_is_contiguous_and_covers_everything() -> None:
    stream = torch.arange(1000)
    train, valid, test = split_text(stream)
    assert (len(train), len(valid), len(test)) == (900, 50, 50)
    assert torch.equal(torch.cat([train, valid, test]), stream)
    text_parts = split_text("abcdefghij" * 10, fractions=(0.5, 0.5))
    assert "".join(text_parts) == "abcdefghij" * 10


def test_split_bad_fractions() -> None:
    with pytest.raises(ValueError, match="sum to 1"):
        split_text(torch.arange(100), fractions=(0.5, 0.2))
    with pytest.raises(ValueError, match="positive"):
        split_text(torch.arange(100), fractions=(1.2, -0.2))
    with pytest.raises(ValueError, match="too short"):
        split_text(torch.arange(10), fractions=(0.9, 0.05, 0.05))
    with pytest.raises(ValueError, match="1-D"):
        split_text(torch.zeros(3, 3))


# ----------------------------------------------------------------------------------------------
# Truncated-BPTT batches


def test_bptt_targets_are_the_next_ids() -> None:
    stream = torch.arange(103)
    batches = BPTTBatches(stream, batch_size=4, seq_len=7)
    assert batches.row_length == 25 and len(batches) == 4 and batches.num_targets == 100
    chunks = list(batches)
    assert [x.shape for x, _ in chunks] == [(4, 7), (4, 7), (4, 7), (4, 4)]
    for inputs, targets in chunks:
        assert torch.equal(targets, inputs + 1)  # the stream counts up by one


def test_bptt_rows_continue_across_chunks() -> None:
    stream = torch.randint(0, 50, (1001,), generator=torch.Generator().manual_seed(0))
    batches = BPTTBatches(stream, batch_size=5, seq_len=30)
    inputs = torch.cat([x for x, _ in batches], dim=1)
    targets = torch.cat([y for _, y in batches], dim=1)
    row_length = 1000 // 5
    for row in range(5):  # row b is one contiguous stretch of the stream
        start = row * row_length
        assert torch.equal(inputs[row], stream[start:start + row_length])
        assert torch.equal(targets[row], stream[start + 1:start + row_length + 1])


def test_bptt_offset_and_reiteration() -> None:
    stream = torch.arange(50)
    shifted = BPTTBatches(stream, batch_size=2, seq_len=5, offset=3)
    first_inputs, _ = next(iter(shifted))
    assert first_inputs[0, 0].item() == 3
    assert len(list(shifted)) == len(list(shifted)) == len(shifted)


def test_bptt_bad_arguments() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        BPTTBatches(torch.arange(10), batch_size=0, seq_len=3)
    with pytest.raises(ValueError, match="seq_len"):
        BPTTBatches(torch.arange(10), batch_size=2, seq_len=0)
    with pytest.raises(ValueError, match="too short"):
        BPTTBatches(torch.arange(5), batch_size=8, seq_len=3)
    with pytest.raises(ValueError, match="1-D"):
        BPTTBatches(torch.zeros(2, 5, dtype=torch.long), batch_size=1, seq_len=3)


def test_bptt_on_device(device: str) -> None:
    batches = BPTTBatches(torch.arange(100), batch_size=3, seq_len=8, device=device)
    inputs, targets = next(iter(batches))
    assert inputs.device.type == targets.device.type == device
