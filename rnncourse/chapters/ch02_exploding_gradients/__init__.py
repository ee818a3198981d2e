"""Chapter 2, exploding gradients: clipping, normalisation, regularisation, initialisation
(book/02-exploding-gradients.md).

    cliff.py            the loss surface of a one-unit RNN, and a step at its wall
    divergence.py       a small RNN trained with and without clipping; what clipping does to
                        the direction of an update
    adding_sweeps.py    the clipping and weight-decay sweep on the adding problem, every
                        setting and seed as one stacked model
    remedies.py         normalised LSTMs, initialisation
    regularization.py   dropout, variational dropout, weight drop and zoneout on a character
                        model that overfits; the published AWD-LSTM ablation
    claims.py           the page's sentences about its results, written from the numbers
    figures.py          figures and tables of the cliff, divergence and clipping
    remedy_figures.py   figures and tables of the remedies and the regularisers
    widgets.py          the learning-rate and clipping explorer
    settings.py         SETTINGS: the experiments at cpu and paper scale
    run.py              what `rnncourse run ch02` runs
"""
