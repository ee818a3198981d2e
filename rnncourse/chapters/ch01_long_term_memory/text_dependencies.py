"""Chapter 1: how far back the information a model needs can lie, measured in real text.

`quotation_spans` measures, in a novel that ships with the course, how many characters each
quotation runs: a character-level model has to remember for that long that a quotation is open.
"""

from __future__ import annotations

__all__ = ["quotation_spans"]


def quotation_spans(text: str, mark: str = '"') -> list[int]:
    """How many characters each quotation runs, from its opening mark to its closing one.

    A character-level model that is to close a quotation has to remember, for that many steps,
    that one is open. Marks are paired in order within each paragraph (text between blank
    lines); a paragraph with an odd number of marks (a speech that carries on into the next
    paragraph, whose pairing is ambiguous) is left out.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    if not isinstance(mark, str) or len(mark) != 1:
        raise ValueError(f"mark must be a single character, got {mark!r}")
    spans = []
    for paragraph in text.split("\n\n"):
        positions = [index for index, character in enumerate(paragraph) if character == mark]
        if len(positions) % 2 == 0:  # openings and closings alternate
            pairs = zip(positions[::2], positions[1::2], strict=True)
            spans += [close - opening for opening, close in pairs]
    return spans
