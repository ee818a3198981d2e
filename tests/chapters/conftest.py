"""Fixtures of the chapter tests: every test runs on one torch thread (they all train small
models, which one thread runs fastest), and `tiny_settings` shrinks a chapter's settings so that
`rnncourse run` can be tested in seconds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from rnncourse.chapters import chapter_module
from rnncourse.chapters.scales import Scaled, arguments


@pytest.fixture(autouse=True)
def one_thread_for_every_chapter_test(one_torch_thread: None) -> None:
    """One torch thread for every chapter test (restored afterwards)."""


@pytest.fixture
def tiny_settings(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """`tiny_settings("ch01", adding={...})`: the chapter's settings at both scales, with the
    named experiments' keyword arguments replaced, for as long as the test runs."""

    def shrink(chapter: str, **experiments: dict[str, Any]) -> None:
        module = chapter_module(chapter, "settings")
        small = replace(module.SETTINGS.cpu,
                        **{name: arguments(**values) for name, values in experiments.items()})
        monkeypatch.setattr(module, "SETTINGS", Scaled(cpu=small, paper=small))

    return shrink
