"""Chapter 5, curriculum learning and transfer learning (book/05-curriculum-transfer.md).

    length_curriculum.py  a mastery-driven length curriculum on the adding problem
    strategies.py         Zaremba and Sutskever's four strategies on multi-digit addition
    text_transfer.py      a pretrained character model fine-tuned on another book
    series_transfer.py    a forecaster pretrained on synthetic cycles, used on sunspots
    curriculum_claims.py  the page's sentences about its curriculum runs, from the results
    transfer_claims.py    the page's sentences about its transfer runs, from the results
    published.py          what the papers report, and where (for the page to set beside ours)
    tables.py             the tables (mean ± sd over seeds, or saying one seed)
    figures.py            the figures
    widgets.py            where each curriculum strategy spends its examples
    settings.py           SETTINGS: the experiments at cpu and paper scale
    run.py                what `rnncourse run ch05` runs
"""
