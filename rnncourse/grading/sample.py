"""A small exercise that needs nothing but the standard library, for trying the student and
instructor workflow in seconds (and for testing the grading tools): three parts, each a short
function with visible tests and hidden tests on fresh inputs.

    write_sample_exercise("my-course")   # my-course/solutions/ex90-sample/ex90-sample.ipynb
"""

from __future__ import annotations

from pathlib import Path

from rnncourse.grading.authoring import (
    markdown,
    setup,
    solution,
    tests,
    title,
    write_source_notebook,
)

SAMPLE_ID = "ex90-sample"

SOLUTIONS = {
    "mean": ("def mean(values):\n    \"\"\"The average of a non-empty list.\"\"\"\n",
             "    return sum(values) / len(values)\n"),
    "clip": ("def clip(x, low, high):\n    \"\"\"x limited to [low, high]; ValueError when "
             "low > high.\"\"\"\n",
             "    if low > high:\n        raise ValueError('low must not exceed high')\n"
             "    return max(low, min(x, high))\n"),
    "relative_error": ("def relative_error(estimate, exact):\n    \"\"\"|estimate - exact| / "
                       "|exact|.\"\"\"\n",
                       "    return abs(estimate - exact) / abs(exact)\n"),
}

TESTS = {
    "mean": ("assert math.isclose(mean(VALUES), 7 / 3), 'mean([1, 2, 4]) should be 7/3'\n"
             "assert isinstance(mean([1, 2]), float), 'mean should return a float'\n",
             "for n in range(1, 8):\n    values = [float(k * k - 3 * k) for k in range(n)]\n"
             "    assert abs(mean(values) - math.fsum(values) / n) < 1e-12\n"),
    "clip": ("assert clip(5, 0, 3) == 3, 'clip(5, 0, 3) should be 3'\n"
             "assert clip(-1, 0, 3) == 0, 'clip(-1, 0, 3) should be 0'\n",
             "for x in range(-5, 6):\n    assert clip(x, -2, 2) == sorted([-2, x, 2])[1]\n"
             "try:\n    clip(0, 1, -1)\nexcept ValueError:\n    pass\nelse:\n"
             "    raise AssertionError('clip should reject low > high')\n"),
    "relative_error": ("assert math.isclose(relative_error(1.1, 1.0), 0.1, rel_tol=1e-9), "
                       "'relative_error(1.1, 1.0) should be 0.1'\n",
                       "for exact in (-3.0, 0.5, 7.0):\n"
                       "    assert abs(relative_error(exact * 1.25, exact) - 0.25) < 1e-12\n"),
}
POINTS = {"mean": 2, "clip": 2, "relative_error": 1}


def sample_cells() -> list:
    """The cells of the sample exercise's source notebook."""
    cells = [
        title("# Sample exercise: three small functions\n\n| part | points |\n|---|---|\n"
              + "".join(f"| {name} | {points} |\n" for name, points in POINTS.items()), "intro"),
        setup("import math\nimport warnings\n\nwarnings.filterwarnings('ignore')\n"
              "VALUES = [1.0, 2.0, 4.0]", "setup"),
    ]
    for name, (header, body) in SOLUTIONS.items():
        visible, hidden = TESTS[name]
        cells.append(markdown(f"## {name}\n\nWrite `{name}`.", f"{name}-text"))
        cells.append(solution(f"{header}    ### BEGIN SOLUTION\n{body}    ### END SOLUTION",
                              name))
        cells.append(tests(f"{visible}### BEGIN HIDDEN TESTS\n{hidden}### END HIDDEN TESTS",
                           f"test_{name}", points=POINTS[name]))
    return cells


def write_sample_exercise(course_root: str | Path, exercise_id: str = SAMPLE_ID) -> Path:
    """Write the sample's source notebook into `course_root/solutions/EXERCISE_ID/`."""
    path = Path(course_root) / "solutions" / exercise_id / f"{exercise_id}.ipynb"
    return write_source_notebook(sample_cells(), path)
