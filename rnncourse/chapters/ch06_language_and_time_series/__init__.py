"""Chapter 6, case studies on real data: language and time series
(book/06-language-and-time-series.md).

The language-model and forecasting experiments are the core's, which the command line shares
(`rnncourse.training.language`, `rnncourse.training.forecasting`); this folder holds

    cell_comparison.py      tanh RNN, GRU and LSTM language models, several seeds each
    translation.py          encoder-decoders with and without attention, against length
    claims.py               the sentences the page writes from its results
    figures.py              cell comparison, long runs, bits per character, forecasts,
                            accuracy against length with and without attention
    widgets.py              the sampling temperature
    settings.py             SETTINGS: the experiments at cpu and paper scale
    run.py                  what `rnncourse run ch06` runs
"""
