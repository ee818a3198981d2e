"""Real data that ships offline: public-domain text and real time series.

    text.py        three public-domain books (package data under data/files/), a character
                   vocabulary, contiguous train/valid/test splits, truncated-BPTT batches
    timeseries.py  yearly sunspots, Mauna Loa CO2, the Nile, El Nino sea temperatures and US
                   unemployment, from the data sets statsmodels installs; leak-free windows and a
                   scaler fitted on the training part only

Nothing here downloads: the text files are part of the package, the series are read from the
statsmodels installation (`pip install rnncourse[data]`). Each corpus and series records its
source and licence (`corpus_info(name)`, `load_series(name).source`).
"""

from rnncourse.data.text import (
    BPTTBatches,
    CharVocabulary,
    available_corpora,
    corpus_info,
    load_text,
    split_text,
)
from rnncourse.data.timeseries import (
    SeriesScaler,
    TimeSeries,
    available_series,
    load_series,
    make_windows,
    split_series,
)

__all__ = [
    "BPTTBatches",
    "CharVocabulary",
    "SeriesScaler",
    "TimeSeries",
    "available_corpora",
    "available_series",
    "corpus_info",
    "load_series",
    "load_text",
    "make_windows",
    "split_series",
    "split_text",
]
