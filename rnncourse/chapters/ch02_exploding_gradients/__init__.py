"""Chapter 2, exploding gradients: clipping, normalisation, regularisation, initialisation
(book/02-exploding-gradients.md).

    cliff.py            the loss surface of a one-unit RNN, and a step at its wall
    divergence.py       a small RNN trained with and without clipping; what clipping does to
                        the direction of an update
    remedies.py         normalised LSTMs, weight decay, initialisation
    figures.py          figures and tables of the cliff, divergence and clipping
    remedy_figures.py   figures and tables of the remedies
    widgets.py          the learning-rate and clipping explorer
    settings.py         SETTINGS: the experiments at cpu and paper scale
    run.py              what `rnncourse run ch02` runs
"""
