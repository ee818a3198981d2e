"""rnncourse: reference models, tasks, training and diagnostics for the course
"Training recurrent neural networks: challenges and opportunities"."""

from rnncourse.runtime import default_device, manual_seed, resolve_device

__version__ = "0.1.0"

__all__ = ["default_device", "manual_seed", "resolve_device", "__version__"]
