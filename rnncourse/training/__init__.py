"""Training: what every chapter, exercise and command of the course reuses to train a model.

    loop.py             fit: the one fit loop; training_step: one step of it; make_optimizer
    ensemble_fit.py     fit_ensemble: fit for an Ensemble, a setting per member (chapter 2)
    clipping.py         gradient_norm, clipping by norm and by value (Pascanu et al. 2013)
    history.py          History: what fit records (loss, gradient norm, evaluations)
    checkpoints.py      save_checkpoint / load_checkpoint for fit's model, optimizer and history
    batching.py         padding, masking, packing, bucketing; truncated BPTT over long sequences
    static_shapes.py    buckets of a few fixed shapes, for compilers that specialise on shapes
    curriculum.py       length schedules and mastery curricula, ScheduledBatches for fit
    curriculum_strategies.py   Zaremba and Sutskever's none / naive / mix / combined
    transfer.py         freezing, per-layer learning rates, loading pretrained weights
    distributed.py      data parallelism with DistributedDataParallel (gloo or NCCL)
    diagnostics.py      gradient norms through time, spectral radii, the Pascanu et al. bound
    task_training.py    a model, its batches and its score for a synthetic task (data.synthetic)
    language/           character language models: corpus, training with truncated BPTT,
                        bits per character and n-gram baselines, sampling, checkpoints
    forecasting/        forecasting real series: training, errors, baselines, the study

The fit loop's names are offered here too: `from rnncourse.training import fit, History`.
"""

from rnncourse.training.checkpoints import load_checkpoint, save_checkpoint
from rnncourse.training.clipping import (
    clip_gradients_by_norm_,
    clip_gradients_by_value_,
    gradient_norm,
)
from rnncourse.training.history import History
from rnncourse.training.loop import OPTIMIZERS, StepResult, fit, make_optimizer, training_step

__all__ = [
    "OPTIMIZERS",
    "History",
    "StepResult",
    "clip_gradients_by_norm_",
    "clip_gradients_by_value_",
    "fit",
    "gradient_norm",
    "load_checkpoint",
    "make_optimizer",
    "save_checkpoint",
    "training_step",
]
