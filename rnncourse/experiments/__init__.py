"""Experiments behind the chapters, one module per chapter.

Each experiment is a function that takes its sizes, a `device` (default: CUDA when present) and
a `seed`, and returns plain results (dataclasses, dicts of floats or tensors). Plotting lives in
`rnncourse.plots`; a chapter cell reads `result = run_x(...)`, then `plot_x(result)`.
"""
