"""Chapter 1, the long-term memory problem and vanishing gradients (book/01-long-term-memory.md).

    gradient_decay.py   ‖∂L/∂h_t‖ against the lag for six initialisations of W_hh, beside the
                        bound (γ σ_max)^k; quotation spans in a novel
    task_runs.py        one model trained on a synthetic task, beside its memoryless baseline
    memory_tasks.py     the adding problem (tanh RNN against LSTM) and copy-memory capacity
    figures.py          their figures and tables
    diagrams.py         the unrolled RNN and the paths BPTT's gradient follows
    widgets.py          the gradient-decay explorer
    settings.py         SETTINGS: the experiments at cpu and paper scale
    run.py              what `rnncourse run ch01` runs
"""
