"""The drawing kit of the course's diagrams (unrolled networks, cells, scans): boxes, operator
nodes, arrows and routes, labels, brackets, a key, the highlighted path, and a check that the
drawing is clean.

A diagram is drawn in data units on one axes with equal aspect (`canvas`), so that a unit is
the same length across and up, and every diagram of the book has the same text size. Colours
are the course palette (Okabe and Ito's, colour-blind safe): structure in `INK`, the path a
diagram is about in `HIGHLIGHT` (vermillion, and drawn thicker), a second path in `SECOND`
(blue). Fills are light tints, so a diagram reads on the site's light pages and on the light
panel the dark theme puts behind every figure.

`layout_problems(figure)` lists what would make a diagram unreadable: text that overflows its
box, labels that overlap, arrows or lines that cross a label, text outside the figure. The
tests of every diagram require it to be empty.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.colors import to_hex, to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path
from matplotlib.text import Text
from matplotlib.transforms import Bbox

from rnncourse.chapters.plotting import OKABE_ITO

__all__ = [
    "HIGHLIGHT", "INK", "MUTED", "SECOND", "STATE_EDGE", "STATE_FILL", "Box", "arrow", "box",
    "bracket", "canvas", "dot", "key", "label", "layout_problems", "line", "operator", "route",
    "shade", "tint",
]  # fmt: skip

INK = "#2b2b2b"  # structure and text: near black, softer than pure black on white
MUTED = "#7a7a7a"  # what the diagram is not about (copies, cut connections)
HIGHLIGHT = OKABE_ITO["vermillion"]
SECOND = OKABE_ITO["blue"]
STATE_EDGE = OKABE_ITO["sky blue"]  # the edge of a box that holds a state (h_t), and its fill
FONT_SIZE = 12
UNIT_INCHES = 0.5  # inches per data unit: every diagram's text is the same size
LINE_WIDTH = 1.3
HIGHLIGHT_WIDTH = 3.0


def tint(colour: str, share: float = 0.18) -> str:
    """`colour` mixed with white, `share` of it kept: a light fill for a box of that colour."""
    red, green, blue = to_rgb(colour)
    return to_hex((1 - share + share * red, 1 - share + share * green, 1 - share + share * blue))


def shade(colour: str, share: float = 0.7) -> str:
    """`colour` darkened (each channel times `share`): text in the hue of a light palette
    colour (orange, sky blue) that stays legible on white and on the dark theme's panel."""
    return to_hex(tuple(share * channel for channel in to_rgb(colour)))


STATE_FILL = tint(STATE_EDGE, 0.25)


@dataclass(frozen=True)
class Box:
    """Where a drawn box (or operator node) is: its centre, width and height, in data units.
    `left`, `right`, `top` and `bottom` are the midpoints of its sides, where arrows attach;
    `side("top", 0.2)` is a point on the top side, 0.2 right of its midpoint."""

    x: float
    y: float
    width: float
    height: float

    @property
    def left(self) -> tuple[float, float]:
        return (self.x - self.width / 2, self.y)

    @property
    def right(self) -> tuple[float, float]:
        return (self.x + self.width / 2, self.y)

    @property
    def top(self) -> tuple[float, float]:
        return (self.x, self.y + self.height / 2)

    @property
    def bottom(self) -> tuple[float, float]:
        return (self.x, self.y - self.height / 2)

    def side(self, name: str, offset: float = 0.0) -> tuple[float, float]:
        x, y = getattr(self, name)
        return (x + offset, y) if name in ("top", "bottom") else (x, y + offset)


def canvas(xlim: tuple[float, float], ylim: tuple[float, float]) -> tuple[Figure, Axes]:
    """A figure for a diagram drawn in data units over `xlim` by `ylim`: one axes filling the
    figure, equal aspect, no frame or ticks; `UNIT_INCHES` inches per unit."""
    width, height = xlim[1] - xlim[0], ylim[1] - ylim[0]
    if width <= 0 or height <= 0:
        raise ValueError(f"xlim and ylim must be increasing, got {xlim} and {ylim}")
    figure = plt.figure(figsize=(width * UNIT_INCHES, height * UNIT_INCHES))
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(*xlim)
    axes.set_ylim(*ylim)
    axes.set_aspect("equal")
    axes.set_axis_off()
    return figure, axes


def label(axes: Axes, xy: tuple[float, float], text: str, *, colour: str = INK,
          size: float = FONT_SIZE, ha: str = "center", va: str = "center", **kwargs) -> Text:
    """Text at `xy` (math in `$...$`), in the diagram's font size."""
    return axes.text(*xy, text, color=colour, fontsize=size, ha=ha, va=va, zorder=5, **kwargs)


def box(axes: Axes, xy: tuple[float, float], text: str, *, width: float = 1.0,
        height: float = 0.6, colour: str = INK, fill: str | None = None,
        size: float = FONT_SIZE, linewidth: float = LINE_WIDTH, rounding: float = 0.12,
        text_colour: str = INK, zorder: float = 3, gid: str | None = None) -> Box:
    """A rounded box centred at `xy` with `text` in its middle; edge in `colour`, filled with
    `fill` (default: a light tint of `colour`). A panel behind other boxes: `zorder=1`."""
    x, y = xy
    patch = FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                           boxstyle=f"round,pad=0,rounding_size={rounding}",
                           edgecolor=colour, facecolor=fill or tint(colour), linewidth=linewidth,
                           zorder=zorder, gid=gid)
    axes.add_patch(patch)
    if text:
        label(axes, xy, text, colour=text_colour, size=size)
    return Box(x, y, width, height)


def operator(axes: Axes, xy: tuple[float, float], symbol: str, *, radius: float = 0.27,
             colour: str = INK, fill: str = "white", size: float = FONT_SIZE,
             linewidth: float = LINE_WIDTH) -> Box:
    """A round node at `xy` for an element-wise operation: `symbol` is "+", r"$\\odot$", ..."""
    axes.add_patch(Circle(xy, radius, edgecolor=colour, facecolor=fill, linewidth=linewidth,
                          zorder=3))
    label(axes, xy, symbol, colour=colour, size=size)
    return Box(xy[0], xy[1], 2 * radius, 2 * radius)


def dot(axes: Axes, xy: tuple[float, float], *, colour: str = INK, radius: float = 0.07) -> None:
    """A junction: where a line branches or two lines join."""
    axes.add_patch(Circle(xy, radius, color=colour, zorder=4.5))


def _stroke(axes: Axes, geometry: dict, *, colour: str | None, highlight: bool, dashed: bool,
            head: bool, linewidth: float | None, gid: str | None) -> FancyArrowPatch:
    """An arrow (or, without `head`, a line) with the given geometry (posA and posB and a
    connection style, or a path), in the kit's style: `highlight` makes it `HIGHLIGHT` (unless
    `colour` says otherwise), thicker, with gid "highlight" (unless `gid` is given)."""
    if highlight:
        colour, linewidth = colour or HIGHLIGHT, linewidth or HIGHLIGHT_WIDTH
    patch = FancyArrowPatch(**geometry, arrowstyle="-|>" if head else "-",
                            mutation_scale=10 + 2 * (linewidth or LINE_WIDTH),
                            color=colour or INK, linewidth=linewidth or LINE_WIDTH,
                            linestyle="--" if dashed else "-", joinstyle="miter",
                            capstyle="butt", zorder=4,
                            gid=gid or ("highlight" if highlight else None))
    axes.add_patch(patch)
    return patch


def arrow(axes: Axes, start: tuple[float, float], end: tuple[float, float], *,
          colour: str | None = None, highlight: bool = False, curve: float = 0.0,
          dashed: bool = False, head: bool = True, linewidth: float | None = None,
          gid: str | None = None) -> FancyArrowPatch:
    """An arrow from `start` to `end`: straight, or an arc bending by `curve` (the sagitta over
    the chord, positive to the right of the direction of travel). `highlight` draws it in
    `HIGHLIGHT`, thicker, with gid "highlight" unless `gid` is given."""
    geometry = {"posA": start, "posB": end, "connectionstyle": f"arc3,rad={2 * curve}",
                "shrinkA": 0, "shrinkB": 0}
    return _stroke(axes, geometry, colour=colour, highlight=highlight, dashed=dashed, head=head,
                   linewidth=linewidth, gid=gid)


def route(axes: Axes, points: Sequence[tuple[float, float]], *, colour: str | None = None,
          highlight: bool = False, dashed: bool = False, head: bool = True,
          linewidth: float | None = None, gid: str | None = None) -> FancyArrowPatch:
    """An arrow along the polyline through `points` (right-angled routes between boxes)."""
    if len(points) < 2:
        raise ValueError(f"a route needs at least two points, got {len(points)}")
    return _stroke(axes, {"path": Path(list(points))}, colour=colour, highlight=highlight,
                   dashed=dashed, head=head, linewidth=linewidth, gid=gid)


def line(axes: Axes, points: Sequence[tuple[float, float]], **style) -> FancyArrowPatch:
    """A line with no arrow head through `points` (a bus, or a branch an arrow leaves from)."""
    return route(axes, points, head=False, **style)


def bracket(axes: Axes, x_range: tuple[float, float], y: float, text: str, *,
            below: bool = True, colour: str = INK, depth: float = 0.2,
            size: float = FONT_SIZE) -> Text:
    """A square bracket over `x_range` at height `y`, opening up (`below=True`: it sits under
    what it measures) or down, with `text` centred beyond it."""
    tip = y - depth if below else y + depth
    line(axes, [(x_range[0], y), (x_range[0], tip), (x_range[1], tip), (x_range[1], y)],
         colour=colour, linewidth=1.0)
    return label(axes, ((x_range[0] + x_range[1]) / 2, tip - 0.12 if below else tip + 0.12),
                 text, colour=colour, size=size, va="top" if below else "bottom")


def key(axes: Axes, xy: tuple[float, float], entries: Sequence[tuple[str, dict | str]], *,
        spacing: float = 0.6, sample: float = 0.8, size: float = FONT_SIZE - 1) -> float:
    """A key in one row from `xy` (left end). Each entry is (text, style): a short arrow drawn
    with `style` (the keyword arguments of `arrow`) before the text, or, where style is a
    colour, the text alone in that colour. Returns the x where the row ends."""
    x, y = xy
    for text, style in entries:
        if isinstance(style, dict):
            arrow(axes, (x, y), (x + sample, y), **{"gid": "key", **style})
            x += sample + 0.15
        written = label(axes, (x, y), text, size=size, ha="left",
                        colour=style if isinstance(style, str) else INK)
        x += _width_in_units(axes, written) + spacing
    return x - spacing


def _width_in_units(axes: Axes, text: Text) -> float:
    renderer = axes.figure.canvas.get_renderer()
    extent = text.get_window_extent(renderer).transformed(axes.transData.inverted())
    return extent.width


# ----------------------------------------------------------------------------------------------
# The check: nothing overflows, overlaps or crosses a label.


def _crosses(stroke: FancyArrowPatch | Line2D, extent: Bbox) -> bool:
    """Whether the drawn stroke (curves flattened to polylines, in pixels) meets `extent`."""
    drawn = stroke.get_transform().transform_path(stroke.get_path())
    return any(Path(piece).intersects_bbox(extent, filled=False)
               for piece in drawn.to_polygons(closed_only=False))


def _area(path: Path) -> float:
    extent = path.get_extents()
    return extent.width * extent.height


def _inside(path: Path, extent: Bbox) -> bool:
    corners = [(extent.x0, extent.y0), (extent.x0, extent.y1), (extent.x1, extent.y0),
               (extent.x1, extent.y1)]
    return bool(path.contains_points(corners).all())


def layout_problems(figure: Figure, margin: float = 1.0) -> list[str]:
    """What is wrong with a drawn diagram, as sentences (an empty list for a clean one):

    - text that starts inside a box or node but does not fit in the innermost one (`margin`
      pixels inside: a label in a panel must fit the panel, a name in a box the box);
    - text that overlaps a box or node it does not start in;
    - two pieces of text that overlap;
    - an arrow or line that crosses a piece of text;
    - text that leaves the figure.
    """
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    texts = [text for text in figure.findobj(Text)
             if text.get_visible() and text.get_text().strip() and text.axes is not None]
    shapes = [patch for axes in figure.axes for patch in axes.patches
              if isinstance(patch, (FancyBboxPatch, Circle))]
    strokes = [patch for axes in figure.axes for patch in axes.patches
               if isinstance(patch, FancyArrowPatch)]
    strokes += [drawn for axes in figure.axes for drawn in axes.lines]
    outlines = [shape.get_transform().transform_path(shape.get_path()) for shape in shapes]
    extents = {text: text.get_window_extent(renderer).padded(margin)
               for text in texts}
    problems = []
    for text, extent in extents.items():
        name = repr(text.get_text())
        anchor = text.get_transform().transform(text.get_position())
        holders = [outline for outline in outlines if outline.contains_point(anchor)]
        innermost = min(holders, key=_area, default=None)
        if innermost is not None and not _inside(innermost, extent):
            problems.append(f"text {name} overflows its box")
        if any(outline.intersects_bbox(extent, filled=True) for outline in outlines
               if not any(outline is holder for holder in holders)):
            problems.append(f"text {name} overlaps a box")
        if not figure.bbox.contains(extent.x0, extent.y0) or not figure.bbox.contains(
                extent.x1, extent.y1):
            problems.append(f"text {name} leaves the figure")
        for stroke in strokes:
            if _crosses(stroke, extent):
                problems.append(f"a line crosses text {name}")
                break
    ordered = list(extents.items())
    for i, (first, first_extent) in enumerate(ordered):
        for second, second_extent in ordered[i + 1:]:
            if first_extent.overlaps(second_extent):
                problems.append(f"texts {first.get_text()!r} and {second.get_text()!r} overlap")
    return problems
