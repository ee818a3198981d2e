"""Chapter 4's diagrams: truncated BPTT's chunks, the data-parallel all-reduce, and the
parallel scan of a linear recurrence.

- Truncated BPTT: the state is carried from chunk to chunk and detached, h_{kK} -> detach(h_{kK})
  -> chunk k+1, so the backward pass of a chunk stops at its first step; one update per chunk.
- Data parallelism: W ranks, each on B/W examples, average their gradients with an all-reduce,
  g = (1/W) Σ_r ∇_θ L_r, and all apply the same g.
- The scan: steps of h_t = a_t h_{t-1} + b_t compose associatively,
  (a_2, b_2) ∘ (a_1, b_1) = (a_2 a_1, a_2 b_1 + b_2), so the doubling scan (Hillis and Steele)
  finds every h_t in log2 T rounds; the combines that make h_T form a binary tree.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from rnncourse.chapters.diagram_kit import (
    HIGHLIGHT,
    INK,
    MUTED,
    STATE_EDGE,
    STATE_FILL,
    arrow,
    box,
    bracket,
    canvas,
    key,
    label,
    tint,
)

__all__ = ["draw_all_reduce", "draw_parallel_scan", "draw_truncated_bptt", "scan_tree"]



def draw_truncated_bptt(chunks: int = 3, chunk_length: int = 3) -> plt.Figure:
    """A stream cut into `chunks` chunks of K = `chunk_length` steps: the forward pass runs on
    through every boundary (the state is carried), the gradient (highlighted arcs) stays within
    its chunk (the state is detached), and each chunk ends with one update."""
    if chunks < 2 or chunk_length < 2:
        raise ValueError(f"chunks and chunk_length must be at least 2, got {chunks}, "
                         f"{chunk_length}")
    step, gap, state_y, loss_y = 1.15, 2.4, 2.4, 4.6
    pitch = chunk_length * step + gap - step
    last = 1.3 + (chunks - 1) * pitch + (chunk_length - 1) * step
    figure, axes = canvas((-0.7, last + 1.6), (-0.45, 5.75))
    previous = box(axes, (0.0, state_y), "$h_0$", width=0.8, height=0.6, colour=STATE_EDGE,
                   fill=STATE_FILL)
    for chunk in range(chunks):
        start = 1.3 + chunk * pitch
        xs = [start + j * step for j in range(chunk_length)]
        if chunk:  # the boundary: carried forward through detach, the gradient cut
            cut = box(axes, ((previous.x + xs[0]) / 2, state_y), "detach", width=1.05,
                      height=0.45, size=10, colour=INK, fill="white")
            arrow(axes, previous.right, cut.left)
            arrow(axes, cut.right, (xs[0] - 0.4, state_y))
            label(axes, (cut.x, 3.15), "state\ncarried", size=10, colour=INK)
            arrow(axes, (xs[0] - 0.2, 2.1), (previous.x + 0.2, 2.1), curve=-0.2,
                  colour=MUTED, dashed=True, head=False)
            axes.plot(cut.x, 1.64, marker="x", markersize=9, markeredgewidth=2.5,
                      color=HIGHLIGHT, zorder=5)
            label(axes, (cut.x, 1.2), "gradient\ncut", size=10, colour=MUTED, va="top")
        elif previous is not None:
            arrow(axes, previous.right, (xs[0] - 0.4, state_y))
        states = []
        for j, x in enumerate(xs):
            index = chunk * chunk_length + j + 1
            states.append(box(axes, (x, state_y), f"$h_{{{index}}}$", width=0.8, height=0.6,
                              colour=STATE_EDGE, fill=STATE_FILL))
            if j:
                arrow(axes, states[j - 1].right, states[j].left)
                arrow(axes, states[j].side("bottom", -0.2), states[j - 1].side("bottom", 0.2),
                      curve=-0.3, highlight=True)
        centre = (xs[0] + xs[-1]) / 2
        loss = box(axes, (centre, loss_y), rf"$L_{{\mathrm{{chunk}}\ {chunk + 1}}}$",
                   width=1.7, height=0.55, fill="white")
        for j, state in enumerate(states):
            spread = (j - (chunk_length - 1) / 2) * 0.35
            arrow(axes, state.top, (centre + spread, loss.bottom[1]), colour=MUTED,
                  linewidth=1.0)
        label(axes, (centre, loss_y + 0.62), f"update {chunk + 1}", size=11)
        first, last_index = chunk * chunk_length + 1, (chunk + 1) * chunk_length
        bracket(axes, (xs[0] - 0.4, xs[-1] + 0.4), 1.2,
                f"chunk {chunk + 1}: steps {first}–{last_index}", size=11)
        previous = states[-1]
    arrow(axes, previous.right, (previous.x + 1.0, state_y))
    label(axes, (previous.x + 1.25, state_y), r"$\cdots$", size=14)
    key(axes, (0.0, -0.15), [("forward", {}), ("into the chunk's loss", {"colour": MUTED,
                                                                        "linewidth": 1.0}),
                             ("gradient, within its chunk only", {"highlight": True})], size=11)
    return figure


def draw_all_reduce(ranks: tuple[str, ...] = ("1", "2", "W")) -> plt.Figure:
    """Data parallelism: each rank (one per label in `ranks`, with an ellipsis before the
    last) computes the gradient of its share of the batch; an all-reduce averages them; every
    rank applies the same averaged gradient (highlighted)."""
    if len(ranks) < 2:
        raise ValueError(f"ranks must name at least two ranks, got {ranks!r}")
    pitch = 3.5
    columns = [pitch * i for i in range(len(ranks) - 1)] + [pitch * (len(ranks) - 0.25)]
    figure, axes = canvas((-1.6, columns[-1] + 2.6), (-1.0, 7.5))
    reduce_box = box(axes, ((columns[0] + columns[-1]) / 2, 2.6),
                     r"all-reduce:  $g = \dfrac{1}{W} \sum_{r=1}^{W} g_r$",
                     width=columns[-1] - columns[0] + 3.0, height=1.0, colour=HIGHLIGHT,
                     fill=tint(HIGHLIGHT, 0.12), linewidth=2.0)
    for rank, x in zip(ranks, columns, strict=True):
        label(axes, (x, 7.05), f"rank ${rank}$", size=12)
        share = box(axes, (x, 6.25), "$B/W$ examples", width=2.6, height=0.55, fill="white")
        model = box(axes, (x, 4.6), "replica of $\\theta$\nforward, backward", width=2.7,
                    height=1.15, colour=STATE_EDGE, fill=STATE_FILL, size=10)
        arrow(axes, share.bottom, model.top)
        arrow(axes, model.bottom, (x, reduce_box.top[1]))
        label(axes, (x + 0.15, 3.6), rf"$g_{{{rank}}} = \nabla_\theta L_{{{rank}}}$",
              ha="left", size=11)
        update = box(axes, (x, 0.7), r"$\theta \leftarrow \theta - \eta\, g$", width=2.6,
                     height=0.6, fill="white")
        arrow(axes, (x, reduce_box.bottom[1]), update.top, highlight=True)
        label(axes, (x + 0.2, 1.55), "$g$", colour=HIGHLIGHT, ha="left")
    dots = (columns[-2] + columns[-1]) / 2
    for y in (6.25, 4.6, 0.7):
        label(axes, (dots, y), r"$\cdots$", size=14)
    label(axes, (reduce_box.x, -0.4), "every rank applies the same $g$: the replicas stay equal",
          size=11)
    return figure


def scan_tree(length: int) -> set[tuple[int, int]]:
    """The nodes (step t, round d) of the doubling scan over `length` steps that the last
    state h_T is combined from: in round d, node t combines node t - 2^(d-1) of round d - 1
    with node t (a copy where t <= 2^(d-1)); round 0 holds the steps (a_t, b_t)."""
    rounds = (length - 1).bit_length()
    tree, frontier = set(), {(length, rounds)}
    while frontier:
        t, d = frontier.pop()
        tree.add((t, d))
        if d:
            shift = 2 ** (d - 1)
            frontier |= {(t, d - 1)} | ({(t - shift, d - 1)} if t > shift else set())
    return tree


def _scan_node(t: int, d: int, rounds: int) -> str:
    """What node t of round d holds: the step (a_t, b_t) in round 0, the composition of steps
    max(1, t - 2^d + 1) to t after round d, which after the last round is h_t."""
    first = max(1, t - 2 ** d + 1)
    if d == 0:
        return f"$(a_{{{t}}},b_{{{t}}})$"
    if d == rounds:
        return f"$h_{{{t}}}$"
    return f"{first}–{t}" if first < t else f"{t}"


def draw_parallel_scan(length: int = 8) -> plt.Figure:
    """The doubling scan of h_t = a_t h_{t-1} + b_t over `length` steps (a power of two): in
    round d every node t combines with node t - 2^(d-1), so node t of round d holds the
    composition of steps max(1, t - 2^d + 1) to t. The combines that make h_T are highlighted:
    a binary tree of depth log2 T."""
    if length < 2 or length & (length - 1):
        raise ValueError(f"length must be a power of two of at least 2, got {length}")
    rounds = (length - 1).bit_length()
    step, rise = 1.55, 1.45
    figure, axes = canvas((-3.4, step * (length - 1) + 1.0), (-1.45, rise * rounds + 1.55))
    tree = scan_tree(length)
    nodes = {}
    for d in range(rounds + 1):
        y = rise * d
        for t in range(1, length + 1):
            on_tree = (t, d) in tree
            nodes[t, d] = box(axes, (step * (t - 1), y), _scan_node(t, d, rounds), size=11,
                              width=1.3, height=0.52, colour=HIGHLIGHT if on_tree else INK,
                              fill=tint(HIGHLIGHT, 0.12) if on_tree else "white",
                              linewidth=2.0 if on_tree else 1.0,
                              gid="highlight" if on_tree else None)
        label(axes, (-1.05, y), "steps" if d == 0 else f"round {d}: $s = {2 ** (d - 1)}$",
              ha="right", size=11)
    for d in range(1, rounds + 1):
        shift = 2 ** (d - 1)
        for t in range(1, length + 1):
            below, here = nodes[t, d - 1], nodes[t, d]
            copy = t <= shift
            arrow(axes, below.top, here.bottom, highlight=(t, d) in tree and (t, d - 1) in tree,
                  colour=MUTED if copy and (t, d) not in tree else None, dashed=copy,
                  linewidth=None if (t, d) in tree else 1.0)
            if not copy:
                source = nodes[t - shift, d - 1]
                arrow(axes, source.side("top", 0.3), here.side("bottom", -0.3),
                      highlight=(t - shift, d - 1) in tree and (t, d) in tree,
                      linewidth=None if (t, d) in tree else 1.0)
    label(axes, (step * (length - 1) / 2, rise * rounds + 0.75),
          r"$(a_2, b_2) \circ (a_1, b_1) = (a_2 a_1,\ a_2 b_1 + b_2)$: "
          rf"$\log_2 T = {rounds}$ rounds for $T = {length}$ steps", size=11)
    key(axes, (-3.2, -0.95), [(f"the combines that make $h_{{{length}}}$: a binary tree",
                               {"highlight": True}),
                              ("combine", {"linewidth": 1.0}),
                              ("copy", {"colour": MUTED, "dashed": True, "linewidth": 1.0})],
        size=11)
    return figure
