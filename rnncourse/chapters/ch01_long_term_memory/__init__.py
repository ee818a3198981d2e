"""Chapter 1, the long-term memory problem and vanishing gradients (book/01-long-term-memory.md).

    text_dependencies.py  how far back a model must remember: quotation spans in a novel
    gradient_decay.py     ‖∂L/∂h_t‖ against the lag for six initialisations of W_hh and several
                          seeds, beside the bound (γ σ_max)^k
    task_runs.py          one model trained on a synthetic task, beside its memoryless baseline
    memory_tasks.py       the adding problem (tanh RNN against LSTM) and copy-memory capacity
    claims.py             the page's sentences about its own results, written from them
    scale_differences.py  how a run's setting differs from the paper's, written from it
    figures.py            their figures and tables
    diagrams.py           the unrolled RNN and the paths BPTT's gradient follows
    widgets.py            the gradient-decay explorer
    settings.py           SETTINGS: the experiments at cpu and paper scale
    run.py                what `rnncourse run ch01` runs
"""
