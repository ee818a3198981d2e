"""Chapter 3, LSTM and GRU (book/03-lstm-gru.md).

    gradient_flow.py    parameter counts, the forget gate's bias, the gradient through time
                        before and after training, and what a trained LSTM stores
    long_range.py       RNN, LSTM and GRU of equal size on the adding and copy tasks
    figures.py          their figures and tables
    diagrams.py         the LSTM and GRU cells, their additive paths highlighted
    widgets.py          stepping through an LSTM, gate by gate
    settings.py         SETTINGS: the experiments at cpu and paper scale
    run.py              what `rnncourse run ch03` runs
"""
