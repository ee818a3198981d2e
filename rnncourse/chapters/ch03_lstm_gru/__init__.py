"""Chapter 3, LSTM and GRU (book/03-lstm-gru.md).

    gradient_flow.py    parameter counts, the forget gate's bias, the gradient through time
                        before and after training, and what a trained LSTM stores
    long_range.py       RNN, LSTM and GRU of equal size on the adding and copy tasks, 3 seeds
    results.py          what it returns: one run per (task, T, cell, seed), and summaries
    published.py        the published results it is held against, with their sources
    claims.py           the sentences the page writes from the results
    figures.py          its figures and tables
    diagrams.py         the LSTM and GRU cells, their additive paths highlighted
    widgets.py          stepping through an LSTM, gate by gate
    settings.py         SETTINGS: the experiments at cpu and paper scale
    run.py              what `rnncourse run ch03` runs
"""
