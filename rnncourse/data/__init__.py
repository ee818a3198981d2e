"""Data: synthetic tasks built to isolate one difficulty, and real data that ships offline.

    synthetic.py   the adding problem and copy memory (`AddingTask`, `CopyTask`), each with the
                   loss of its memoryless baseline
    arithmetic.py  multi-digit addition written as characters (`AdditionTask`), for curricula
    digits.py      scikit-learn's 8x8 digits read pixel by pixel (sequential MNIST in small)
    transliteration.py  random Latin words to Greek letters (`TransliterationTask`), for
                   encoder-decoders
    text.py        three public-domain books (package data under data/files/), contiguous
                   train/valid/test splits, truncated-BPTT batches
    vocabulary.py  `CharVocabulary`: characters <-> ids
    timeseries.py  yearly sunspots, Mauna Loa CO2, the Nile, El Nino sea temperatures and US
                   unemployment, from the data sets statsmodels installs
    windows.py     leak-free splits and windows of a series, a scaler fitted on training only

Nothing here downloads: the text files are part of the package, the series are read from the
statsmodels installation (`pip install rnncourse[data]`). Each corpus and series records its
source and licence (`corpus_info(name)`, `load_series(name).source`).
"""

from rnncourse.data.arithmetic import AdditionTask, addition_problem
from rnncourse.data.synthetic import (
    AddingTask,
    CopyTask,
    adding_baseline_mse,
    adding_problem,
    copy_memory,
    copy_memory_baseline_loss,
)
from rnncourse.data.text import (
    BPTTBatches,
    available_corpora,
    corpus_info,
    load_text,
    split_text,
)
from rnncourse.data.timeseries import TimeSeries, available_series, load_series
from rnncourse.data.vocabulary import CharVocabulary
from rnncourse.data.windows import SeriesScaler, make_windows, split_series

__all__ = [
    "AddingTask",
    "AdditionTask",
    "BPTTBatches",
    "CharVocabulary",
    "CopyTask",
    "SeriesScaler",
    "TimeSeries",
    "adding_baseline_mse",
    "adding_problem",
    "addition_problem",
    "available_corpora",
    "available_series",
    "copy_memory",
    "copy_memory_baseline_loss",
    "corpus_info",
    "load_series",
    "load_text",
    "make_windows",
    "split_series",
    "split_text",
]
