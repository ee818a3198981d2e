"""The package's layout: core -> chapters -> pages and commands, no import cycles, short modules.

The import graph is read from the source (every `import` statement: at module level, inside
functions and under `TYPE_CHECKING` alike), so a cycle that only closes at run time, or only for
the type checker, fails here too.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "rnncourse"

# Not yet as they should be, each pending work of its own.
LONG_MODULES_PENDING: set[str] = set()
ALLOWED_EDGES: set[tuple[str, str]] = set()
MAX_LINES = 300  # lines of a module, blank ones not counted
ROOT_MODULES = {"__init__", "__main__", "cli", "runtime", "checks", "book"}
CORE = ("rnncourse.models", "rnncourse.data", "rnncourse.training", "rnncourse.grading",
        "rnncourse.checks", "rnncourse.runtime", "rnncourse.bench")
DRAWING = ("matplotlib", "ipywidgets", "IPython")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def imports_of(name: str) -> set[str]:
    """Every module `name` imports (rnncourse's own, resolved to modules, and third-party
    top-level names), from anywhere in its source."""
    found = set()
    package = name if is_package(name) else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(MODULES[name].read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in MODULES else base)
    return found


GRAPH = {name: {target for target in imports_of(name) if target in MODULES} for name in MODULES}


def in_layer(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def chapter_of(name: str) -> str | None:
    parts = name.split(".")
    if len(parts) > 2 and parts[1] == "chapters" and parts[2].startswith("ch"):
        return parts[2]
    return None


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import each other, directly or through others (Tarjan's
    strongly connected components with more than one member, or a module importing itself)."""
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                cycles.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_there_is_no_import_cycle() -> None:
    graph = {name: {t for t in targets if (name, t) not in ALLOWED_EDGES}
             for name, targets in GRAPH.items()}
    cycles = find_cycles(graph)
    assert not cycles, f"modules that import each other (directly or through others): {cycles}"


def test_cycles_are_found_through_other_modules_and_lazy_imports() -> None:
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert find_cycles({"a": {"a"}}) == [["a"]] and find_cycles({"a": {"b"}, "b": set()}) == []
    lazy = ast.parse("def main():\n    from rnncourse.commands.bench import run\n")
    assert any(isinstance(node, ast.ImportFrom) for node in ast.walk(lazy))
    assert "rnncourse.chapters.runner" in GRAPH["rnncourse.commands.run"], "lazy imports count"


def test_the_core_imports_no_chapter_page_or_command() -> None:
    # A package's __main__ (`python -m rnncourse.bench`) is an entry point, like the cli.
    wrong = {name: sorted(t for t in targets if not in_layer(t, CORE))
             for name, targets in GRAPH.items()
             if in_layer(name, CORE) and not name.endswith(".__main__")}
    wrong = {name: targets for name, targets in wrong.items() if targets
             and not {(name, t) for t in targets} <= ALLOWED_EDGES}
    assert not wrong, f"the core (models, data, training, ...) must not import these: {wrong}"


def test_chapters_build_on_the_core_and_never_on_each_other() -> None:
    wrong = {}
    for name, targets in GRAPH.items():
        if not name.startswith("rnncourse.chapters"):
            continue
        for target in targets:
            other = chapter_of(target)
            if in_layer(target, ("rnncourse.book", "rnncourse.cli", "rnncourse.commands")) or (
                    other is not None and other != chapter_of(name)):
                wrong.setdefault(name, []).append(target)
    assert not wrong, f"a chapter may import the core and its own folder only: {wrong}"


def test_experiments_draw_nothing() -> None:
    """A chapter's experiments return plain results; drawing is for figures, diagrams and
    widgets."""
    drawing_modules = ("figures", "remedy_figures", "speed_figures", "diagrams", "widgets", "run",
                       "plotting", "diagram_kit")
    wrong = {}
    for name in MODULES:
        if name.startswith("rnncourse.chapters") and name.rpartition(".")[2] not in (
                drawing_modules + ("__init__",)):
            drawn = {i for i in imports_of(name) if i.split(".")[0] in DRAWING}
            drawn |= {t for t in GRAPH[name] if t.rpartition(".")[2] in drawing_modules}
            if drawn:
                wrong[name] = sorted(drawn)
        elif in_layer(name, CORE):
            drawn = {i for i in imports_of(name) if i.split(".")[0] in DRAWING}
            if drawn:
                wrong[name] = sorted(drawn)
    assert not wrong, f"experiments and the core must not draw: {wrong}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_are_short(name: str) -> None:
    lines = [line for line in MODULES[name].read_text().splitlines() if line.strip()]
    if name in LONG_MODULES_PENDING:
        pytest.skip(f"{name} is waiting for its split")
    assert len(lines) <= MAX_LINES, (
        f"{name} has {len(lines)} lines (blank ones not counted); split it below {MAX_LINES}")


def test_the_root_holds_only_entry_points() -> None:
    loose = {path.stem for path in PACKAGE.glob("*.py")}
    assert loose <= ROOT_MODULES, f"modules to move into a package: {sorted(loose - ROOT_MODULES)}"


def test_every_folder_is_a_package_and_no_module_shadows_the_standard_library() -> None:
    for folder in PACKAGE.rglob("*"):
        if folder.is_dir() and any(folder.glob("*.py")):
            assert (folder / "__init__.py").is_file(), f"{folder} has no __init__.py"
    shadowing = sorted(name for name in MODULES
                       if name.rpartition(".")[2] in sys.stdlib_module_names)
    assert not shadowing, f"modules named like standard-library modules: {shadowing}"


def test_every_chapter_has_its_settings_run_figures_and_widgets() -> None:
    chapters = sorted(path for path in (PACKAGE / "chapters").glob("ch*") if path.is_dir())
    assert len(chapters) == 6
    for chapter in chapters:
        for module in ("settings", "run", "figures", "widgets"):
            assert (chapter / f"{module}.py").is_file(), f"{chapter.name} has no {module}.py"
