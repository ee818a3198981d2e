"""Character-level language models on real text: the case study of chapter 6, the pretraining and
fine-tuning of chapter 5, and `rnncourse train language` / `rnncourse pretrain language`.

    corpus.py       CorpusSplits, prepare_corpus; batches: carried chunks, random windows
    train.py        train_language_model (truncated BPTT through the fit loop), its settings
    metrics.py      bits per character, n-gram baselines with add-k smoothing
    sampling.py     sample text at a temperature
    checkpoints.py  save_language_model / load_language_model (float16 to ship small)
    pretraining.py  a fixed ASCII alphabet, pretraining and re-verifying a shipped checkpoint

The model itself is `rnncourse.models.CharLanguageModel`.
"""

from rnncourse.training.language.checkpoints import (
    LoadedLanguageModel,
    load_language_model,
    round_weights_to_half,
    save_language_model,
)
from rnncourse.training.language.corpus import (
    CorpusSplits,
    carried_chunks,
    prepare_corpus,
    random_window_batches,
)
from rnncourse.training.language.metrics import (
    LN2,
    bits_per_character,
    evaluate_bits_per_character,
    ngram_baselines,
    ngram_bits_per_character,
)
from rnncourse.training.language.pretraining import (
    ascii_vocabulary,
    pretrain_language_model,
    save_pretrained,
    verify_checkpoint,
)
from rnncourse.training.language.sampling import sample, sample_next
from rnncourse.training.language.train import (
    LanguageModelRun,
    LanguageModelSettings,
    next_character_loss,
    train_language_model,
)

__all__ = [
    "LN2",
    "CorpusSplits",
    "LanguageModelRun",
    "LanguageModelSettings",
    "LoadedLanguageModel",
    "ascii_vocabulary",
    "bits_per_character",
    "carried_chunks",
    "evaluate_bits_per_character",
    "load_language_model",
    "ngram_baselines",
    "ngram_bits_per_character",
    "next_character_loss",
    "prepare_corpus",
    "pretrain_language_model",
    "random_window_batches",
    "round_weights_to_half",
    "sample",
    "sample_next",
    "save_language_model",
    "save_pretrained",
    "train_language_model",
    "verify_checkpoint",
]
