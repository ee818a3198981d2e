"""The diagrams of chapters 1, 3 and 4: each draws what its page explains, labelled in the
page's notation, with the path it is about in the highlight colour and a clean layout (no text
outside its box, no label crossed by an arrow); and each page shows it in a figure cell with a
caption, alt text and a name that its text refers to."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
from matplotlib.colors import same_color
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from matplotlib.text import Text

from rnncourse.chapters.ch01_long_term_memory.diagrams import draw_bptt_paths
from rnncourse.chapters.ch03_lstm_gru.diagrams import (
    GRU_GATE_COLOURS,
    draw_gru_cell,
    draw_lstm_cell,
)
from rnncourse.chapters.ch03_lstm_gru.figures import GATE_COLOURS
from rnncourse.chapters.ch04_efficiency.diagrams import (
    draw_all_reduce,
    draw_parallel_scan,
    draw_truncated_bptt,
    scan_tree,
)
from rnncourse.chapters.diagram_kit import HIGHLIGHT, SECOND, layout_problems, shade

BOOK = Path(__file__).resolve().parents[2] / "book"
DIAGRAMS: dict[str, Callable[[], plt.Figure]] = {
    "draw_bptt_paths": draw_bptt_paths,
    "draw_lstm_cell": draw_lstm_cell,
    "draw_gru_cell": draw_gru_cell,
    "draw_truncated_bptt": draw_truncated_bptt,
    "draw_all_reduce": draw_all_reduce,
    "draw_parallel_scan": draw_parallel_scan,
}
# Where each diagram is shown: (page, figure name).
PAGES = {
    "draw_bptt_paths": ("01-long-term-memory.md", "fig-bptt-paths"),
    "draw_lstm_cell": ("03-lstm-gru.md", "fig-lstm-cell"),
    "draw_gru_cell": ("03-lstm-gru.md", "fig-gru-cell"),
    "draw_truncated_bptt": ("04-efficiency.md", "fig-efficiency-tbptt-chunks"),
    "draw_all_reduce": ("04-efficiency.md", "fig-efficiency-all-reduce"),
    "draw_parallel_scan": ("04-efficiency.md", "fig-efficiency-scan-tree"),
}


@pytest.fixture(autouse=True)
def close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def texts(figure: plt.Figure) -> list[str]:
    return [text.get_text() for text in figure.findobj(Text) if text.get_text()]


def with_gid(figure: plt.Figure, gid: str, kind: type = FancyArrowPatch) -> list:
    return [patch for patch in figure.axes[0].patches
            if isinstance(patch, kind) and patch.get_gid() == gid]


def text_colour(figure: plt.Figure, content: str) -> object:
    return next(text.get_color() for text in figure.findobj(Text) if text.get_text() == content)


@pytest.mark.parametrize("name", DIAGRAMS)
def test_every_diagram_is_laid_out_cleanly(name: str) -> None:
    figure = DIAGRAMS[name]()
    assert isinstance(figure, plt.Figure)
    assert layout_problems(figure) == [], f"{name}: {layout_problems(figure)}"


def test_bptt_paths_show_both_gradient_terms_and_their_lengths() -> None:
    figure = draw_bptt_paths()
    written = texts(figure)
    for state in ("$h_{0}$", "$h_{k}$", "$h_{k+1}$", "$h_{k+2}$", "$h_{T-1}$", "$h_{T}$",
                  "$x_{k}$", "$x_{T}$", "$L_{k+2}$", "$L_{T}$"):
        assert state in written, f"{state} is not drawn"
    for step, before in (("k+1", "k"), ("k+2", "k+1"), ("T", "T-1")):
        jacobian = rf"$\dfrac{{\partial h_{{{step}}}}}{{\partial h_{{{before}}}}}$"
        assert jacobian in written and same_color(text_colour(figure, jacobian), HIGHLIGHT)
    assert any("$T-k$ factors" in text for text in written)
    assert any("2 factors" in text for text in written)
    assert any(r"\mathrm{diag}(\phi'(a_i))" in text for text in written)
    # From L_T: one arrow down into h_T, then one arc per step back from T to k.
    long_path = with_gid(figure, "highlight")
    assert len(long_path) == 6 and all(same_color(p.get_edgecolor(), HIGHLIGHT)
                                       for p in long_path)
    short_path = with_gid(figure, "second path")
    assert len(short_path) == 3 and all(same_color(p.get_edgecolor(), SECOND)
                                        for p in short_path)


CELLS = {
    "lstm": (draw_lstm_cell, GATE_COLOURS,
             ("$c_{t-1}$", "$c_t$", "$h_{t-1}$", "$h_t$", "$x_t$", r"$i_t \odot g_t$"),
             {"i": "input gate", "f": "forget gate", "g": "candidate", "o": "output gate"},
             (3, 2), r"\mathrm{diag}(f_t)"),
    "gru": (draw_gru_cell, GRU_GATE_COLOURS,
            ("$h_{t-1}$", "$h_t$", "$x_t$", "$1-z_t$", r"$z_t \odot h_{t-1}$",
             r"$(1-z_t) \odot n_t$"),
            {"r": "reset gate", "z": "update gate", "n": "candidate"},
            (2, 1), r"\mathrm{diag}(z_t)"),
}


@pytest.mark.parametrize("cell", CELLS)
def test_cells_name_their_gates_as_the_equations_do(cell: str) -> None:
    draw, colours, symbols, gates, (sigmoids, tanhs), jacobian = CELLS[cell]
    figure = draw()
    written = texts(figure)
    for symbol in symbols:
        assert symbol in written, f"{symbol} is not drawn"
    for gate, name in gates.items():
        assert same_color(text_colour(figure, f"${gate}_t$"), shade(colours[gate]))
        assert f"${gate}_t$ {name}" in written  # the key under the cell
    assert written.count(r"$\sigma$") == sigmoids and written.count(r"$\tanh$") == tanhs
    assert any(jacobian in text for text in written)
    # The path through time: in -> ⊙ -> + -> out, three highlighted arrows on one line.
    path = with_gid(figure, "highlight")
    assert len(path) == 3 and all(same_color(p.get_edgecolor(), HIGHLIGHT) for p in path)
    heights = {round(float(y), 6) for p in path for y in p.get_path().vertices[:2, 1]}
    assert len(heights) == 1, f"the highlighted path is not one straight line: {heights}"


def test_truncated_bptt_cuts_the_gradient_at_every_detach() -> None:
    figure = draw_truncated_bptt(chunks=3, chunk_length=3)
    written = texts(figure)
    assert written.count("detach") == 2 and written.count("gradient\ncut") == 2
    assert [f"update {n}" in written for n in (1, 2, 3)] == [True] * 3
    assert "$h_{9}$" in written and "$h_{10}$" not in written
    cuts = [text.get_position()[0] for text in figure.findobj(Text)
            if text.get_text() == "detach"]
    arcs = with_gid(figure, "highlight")
    assert len(arcs) == 3 * 2  # K - 1 steps back in each chunk
    for arc in arcs:
        assert same_color(arc.get_edgecolor(), HIGHLIGHT)
        extent = arc.get_path().get_extents()
        left, right = extent.x0, extent.x1
        assert not any(left < cut < right for cut in cuts), "a gradient crosses a detach"
    with pytest.raises(ValueError, match="chunk_length"):
        draw_truncated_bptt(chunk_length=1)


def test_all_reduce_gives_every_rank_the_same_averaged_gradient() -> None:
    figure = draw_all_reduce(("1", "2", "3", "W"))
    written = texts(figure)
    assert [f"rank ${r}$" in written for r in ("1", "2", "3", "W")] == [True] * 4
    assert r"$g_{W} = \nabla_\theta L_{W}$" in written
    assert any(r"\dfrac{1}{W} \sum_{r=1}^{W} g_r" in text for text in written)
    assert written.count(r"$\theta \leftarrow \theta - \eta\, g$") == 4
    averaged = with_gid(figure, "highlight")
    assert len(averaged) == 4 and all(same_color(p.get_edgecolor(), HIGHLIGHT)
                                      for p in averaged)
    with pytest.raises(ValueError, match="at least two ranks"):
        draw_all_reduce(("1",))


@pytest.mark.parametrize("length", [2, 4, 8, 16])
def test_the_combines_that_make_the_last_state_form_a_binary_tree(length: int) -> None:
    tree = scan_tree(length)
    rounds = length.bit_length() - 1
    assert len(tree) == 2 * length - 1  # T leaves, T - 1 combines
    assert {t for t, d in tree if d == 0} == set(range(1, length + 1))
    for t, d in tree:
        if d:
            children = {(t, d - 1), (t - 2 ** (d - 1), d - 1)}
            assert children <= tree, f"node {(t, d)} lacks a child in the tree"
    assert (length, rounds) in tree


def test_parallel_scan_draws_log2_rounds_and_highlights_the_tree() -> None:
    figure = draw_parallel_scan(8)
    written = texts(figure)
    assert [f"round {d}: $s = {2 ** (d - 1)}$" in written for d in (1, 2, 3)] == [True] * 3
    assert "$(a_{1},b_{1})$" in written and "$h_{8}$" in written and "5–8" in written
    assert any(r"(a_2, b_2) \circ (a_1, b_1) = (a_2 a_1,\ a_2 b_1 + b_2)" in text
               for text in written)
    nodes = with_gid(figure, "highlight", FancyBboxPatch)
    edges = with_gid(figure, "highlight")
    assert len(nodes) == 15 and len(edges) == 14  # a binary tree over 8 leaves
    assert all(same_color(p.get_edgecolor(), HIGHLIGHT) for p in nodes + edges)
    with pytest.raises(ValueError, match="power of two"):
        draw_parallel_scan(6)


def figure_cells(page: Path) -> dict[str, str]:
    """The code cells of a page that draw a diagram: {function name: the cell's front matter}."""
    found = {}
    for cell in re.findall(r"```\{code-cell\} ipython3\n(.*?)```", page.read_text(), re.S):
        for name in DIAGRAMS:
            if re.search(rf"\b{name}\(", cell):
                found[name] = cell
    return found


@pytest.mark.parametrize("name", DIAGRAMS)
def test_every_diagram_is_on_its_page_with_caption_alt_text_and_a_reference(name: str) -> None:
    page_name, figure_name = PAGES[name]
    page = BOOK / page_name
    cell = figure_cells(page).get(name)
    assert cell is not None, f"{page_name} has no cell that calls {name}()"
    front = cell.split("---")[1] if cell.startswith("---") else ""
    assert re.search(r"figure:\s*\n\s+caption:\s*\S", front), f"{name}: no caption"
    assert re.search(rf"name:\s*{figure_name}\s*\n", front), f"{name}: not named {figure_name}"
    assert re.search(r"image:\s*\n\s+alt:\s*\S", front), f"{name}: no alt text"
    text = page.read_text().replace(cell, "")
    assert f"{{numref}}`{figure_name}`" in text, f"{page_name} never refers to {figure_name}"
