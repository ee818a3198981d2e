"""Chapter 6, case studies on real data: language and time series
(book/06-language-and-time-series.md).

The chapter's experiments are the core's, which the command line shares
(`rnncourse.training.language`, `rnncourse.training.forecasting`); this folder holds

    figures.py          training curves, bits per character, forecasts
    widgets.py          the sampling temperature
    settings.py         SETTINGS: the experiments at cpu and paper scale
    run.py              what `rnncourse run ch06` runs
"""
