"""Chapter 5 widget: where each curriculum strategy spends its training examples."""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt

from rnncourse.chapters.ch05_curriculum_transfer.figures import plot_difficulty_schedules

__all__ = ["difficulty_schedule_explorer"]


def difficulty_schedule_explorer(
    target: int = 5, mix_fraction: float = 0.5, steps_per_level: int = 200
) -> widgets.interactive:
    """Sliders for the target difficulty D, the share λ of uniform examples in "combined", and
    how many steps the naive level takes per difficulty; the four strategies' p(d) over
    training redraw. It opens on the given values, so its saved state shows a figure."""

    def draw(target: int, mix_fraction: float, steps_per_level: int) -> None:
        plot_difficulty_schedules(target, mix_fraction, steps_per_level)
        plt.show()

    style = {"description_width": "initial"}
    return widgets.interactive(
        draw,
        target=widgets.IntSlider(value=target, min=2, max=10, description="target digits D",
                                 continuous_update=False, style=style),
        mix_fraction=widgets.FloatSlider(value=mix_fraction, min=0.0, max=1.0, step=0.1,
                                         description="combined: share λ drawn uniformly",
                                         continuous_update=False, style=style),
        steps_per_level=widgets.IntSlider(value=steps_per_level, min=50, max=600, step=50,
                                          description="naive: steps per level",
                                          continuous_update=False, style=style),
    )
