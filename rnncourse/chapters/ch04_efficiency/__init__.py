"""Chapter 4, efficiency: mini-batches, packing, fused kernels, GPUs and TPUs, many machines,
parallel scans (book/04-efficiency.md).

    batches.py          throughput against batch size; padding, packing and bucketing
    truncated_bptt.py   carried and detached state against reset state, on delayed recall
    speed.py            the fused LSTM's backward checked; the LSTM profile; the scans' crossover
    mixed_precision.py  float32 against autocast
    data_parallel.py    DDP in several processes against one
    clock.py            CPU or wall-clock seconds
    figures.py          their figures and tables
    speed_figures.py    the LSTM profile's bars and table, the scans' speed-up and crossover
    diagrams.py         truncated BPTT's chunks, the all-reduce, the parallel scan's tree
    compilation.py      compilations over variable-length batches, with and without buckets
    widgets.py          the padding explorer
    settings.py         SETTINGS: the experiments at cpu and paper scale
    run.py              what `rnncourse run ch04` runs

The timings come from `rnncourse.bench`, which `rnncourse bench` runs at full size.
"""
