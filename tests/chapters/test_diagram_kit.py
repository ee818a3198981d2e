"""The diagram kit: boxes know their sides, colours are the palette's, and `layout_problems`
finds each kind of fault it promises to find (and none in a clean drawing)."""

from __future__ import annotations

from collections.abc import Iterator

import matplotlib.pyplot as plt
import pytest
from matplotlib.colors import to_hex

from rnncourse.chapters.diagram_kit import (
    HIGHLIGHT,
    Box,
    arrow,
    box,
    bracket,
    canvas,
    key,
    label,
    layout_problems,
    operator,
    route,
    shade,
    tint,
)
from rnncourse.chapters.plotting import OKABE_ITO


@pytest.fixture(autouse=True)
def close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def test_a_box_knows_where_its_sides_are() -> None:
    drawn = Box(2.0, 1.0, 1.0, 0.5)
    assert (drawn.left, drawn.right) == ((1.5, 1.0), (2.5, 1.0))
    assert (drawn.top, drawn.bottom) == ((2.0, 1.25), (2.0, 0.75))
    assert drawn.side("top", 0.2) == (2.2, 1.25) and drawn.side("left", -0.1) == (1.5, 0.9)


def test_tints_mix_a_palette_colour_with_white_and_shades_darken_it() -> None:
    assert tint(HIGHLIGHT, 1.0) == to_hex(OKABE_ITO["vermillion"]).lower()
    assert tint(HIGHLIGHT, 0.0) == "#ffffff"
    assert HIGHLIGHT == OKABE_ITO["vermillion"]
    assert shade(OKABE_ITO["orange"], 1.0) == to_hex(OKABE_ITO["orange"]).lower()
    assert shade("#ffffff", 0.5) == "#808080" and shade(OKABE_ITO["orange"], 0.0) == "#000000"


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="xlim and ylim"):
        canvas((1, 0), (0, 1))
    _, axes = canvas((0, 4), (0, 2))
    with pytest.raises(ValueError, match="at least two points"):
        route(axes, [(0, 0)])


def test_a_clean_drawing_has_no_problems() -> None:
    figure, axes = canvas((0, 8), (-1.5, 2))
    first = box(axes, (1, 1), "$h_t$")
    node = operator(axes, (4, 1), "$+$")
    arrow(axes, first.right, node.left, highlight=True)
    label(axes, (2.5, 1.3), "$f_t$", va="bottom")
    bracket(axes, (0.5, 4.5), 0.3, "two steps")
    key(axes, (0.2, -1.2), [("forward", {}), ("a colour", OKABE_ITO["blue"])])
    assert layout_problems(figure) == []


def test_text_too_long_for_its_box_is_found() -> None:
    figure, axes = canvas((0, 6), (0, 2))
    box(axes, (3, 1), "a label far too long for this box", width=1.0)
    assert any("overflows its box" in problem for problem in layout_problems(figure))


def test_overlapping_labels_are_found() -> None:
    figure, axes = canvas((0, 6), (0, 2))
    label(axes, (3, 1), "first label")
    label(axes, (3.2, 1.05), "second label")
    assert any("overlap" in problem for problem in layout_problems(figure))


def test_a_label_on_a_box_it_does_not_belong_to_is_found() -> None:
    figure, axes = canvas((0, 6), (0, 2))
    box(axes, (3, 1), "", width=1.0)
    label(axes, (2.2, 1), "beside", ha="left")
    assert any("overlaps a box" in problem for problem in layout_problems(figure))


def test_an_arrow_through_a_label_is_found() -> None:
    figure, axes = canvas((0, 6), (0, 2))
    label(axes, (3, 1), "$W_{hh}$")
    arrow(axes, (1, 1), (5, 1))
    assert any("crosses text" in problem for problem in layout_problems(figure))


def test_a_curved_arrow_is_checked_along_its_curve() -> None:
    figure, axes = canvas((0, 6), (0, 3))
    label(axes, (3, 0.9), "under the chord")
    arrow(axes, (1, 1.5), (5, 1.5), curve=0.2)  # bends to the right of travel: down
    assert any("crosses text" in problem for problem in layout_problems(figure))
    figure, axes = canvas((0, 6), (0, 3))
    label(axes, (3, 0.9), "under the chord")
    arrow(axes, (1, 1.5), (5, 1.5), curve=-0.2)  # bends up, away from the label
    assert layout_problems(figure) == []


def test_text_leaving_the_figure_is_found() -> None:
    figure, axes = canvas((0, 2), (0, 1))
    label(axes, (1.9, 0.5), "a label that runs off the right edge", ha="left")
    assert any("leaves the figure" in problem for problem in layout_problems(figure))
