"""What the grading guard (`rnncourse.grading.guard`) protects in a notebook, read from the code
of its locked cells (set-up and tests) before any cell runs: the packages they import, the names
those imports bind, the names each cell binds at its top level, and the builtins each cell uses
that student globals could shadow. `rnncourse.grading.execution` hands this to the guard.

IPython `%magic` and `!shell` lines are read as `pass`; a cell that does not parse protects
nothing of its own (the kernel reports its syntax error).
"""

from __future__ import annotations

import ast
import builtins

from nbgrader import utils

# Modules the checks (`rnncourse.grading.checks`) and test cells compare with, protected even
# where no locked cell imports them: `math.isclose = lambda *a, **k: True` must not pass a test.
ALWAYS_PROTECTED = ("math", "cmath", "statistics", "operator", "functools", "itertools",
                    "numbers", "threading", "linecache", "warnings")


def parse_cell(source: str) -> ast.Module | None:
    """The cell's code as a syntax tree (IPython `%magic` and `!shell` lines read as `pass`)."""
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        indent = line[:len(line) - len(stripped)]
        lines.append(indent + "pass" if stripped.startswith(("%", "!")) else line)
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def _bound_names(tree: ast.Module) -> set[str]:
    """Every name the code assigns, defines, imports or takes as an argument."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.alias):
            names.add(node.asname or node.name.partition(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return names


def top_level_names(tree: ast.Module | None) -> list[str]:
    """The names a cell binds at its top level (not inside its functions or classes)."""
    names: list[str] = []

    def visit(statements: list) -> None:
        for node in statements:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.append(node.name)
                continue
            if isinstance(node, ast.Import | ast.ImportFrom):
                names.extend(alias.asname or alias.name.partition(".")[0] for alias in node.names
                             if alias.name != "*")
                continue
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
                    names.append(child.id)
                elif isinstance(child, ast.Tuple | ast.List | ast.Starred):
                    names.extend(item.id for item in ast.walk(child)
                                 if isinstance(item, ast.Name) and isinstance(item.ctx, ast.Store))
            for field in ("body", "orelse", "finalbody", "handlers"):
                visit(getattr(node, field, []))

    visit(tree.body if tree is not None else [])
    return list(dict.fromkeys(names))


def guard_plan(cells: list) -> tuple[list[str], dict[str, str], dict[int, list[str]]]:
    """What the guard protects, from the locked code cells (set-up and tests).

    Returns the packages they import, the names those imports bind (`{"np": "numpy"}`), and for
    each locked cell the builtins it uses that no locked cell defines (student globals with
    these names are hidden while the cell runs).
    """
    trees = {index: parse_cell(cell.source) for index, cell in enumerate(cells)
             if cell.cell_type == "code" and utils.is_locked(cell)}
    packages, bindings, defined = set(), {}, set()
    for tree in filter(None, trees.values()):
        defined |= _bound_names(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    packages.add(alias.name)
                    top = alias.name.partition(".")[0]
                    bindings[alias.asname or top] = alias.name if alias.asname else top
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                    and node.module != "__future__":
                packages.add(node.module)
                for alias in node.names:
                    if alias.name != "*":
                        bindings[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    hide = {}
    for index, tree in trees.items():
        used = {node.id for node in ast.walk(tree or ast.Module(body=[], type_ignores=[]))
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
        hide[index] = sorted(name for name in used - defined
                             if hasattr(builtins, name) and not name.startswith("__"))
    return sorted(packages | set(ALWAYS_PROTECTED)), bindings, hide
