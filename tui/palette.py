"""The app's colours and glyphs, in one place: the colour scales cells and characters are drawn on (their values
are in engine/colours.py, which the exported figures share), the rule that keeps text on them readable, and how
characters that would not show (a newline, a tab, a space) are drawn."""

from __future__ import annotations

from rich.color import Color
from rich.style import Style
from rich.text import Text
from shakes_tui.engine import colours as scales

NEWLINE, TAB, SPACE = "⏎", "⇥", "·"
SURPRISE_TOP, LAYER_COLOURS, FAMILY_COLOURS = scales.SURPRISE_TOP, scales.LAYER_COLOURS, scales.FAMILY_COLOURS


def heat(share: float) -> Color:
    """0 -> near black, 1 -> bright amber, through deep red (engine/colours.py)."""
    return Color.from_rgb(*scales.heat(share))


def surprise_colour(nats: float) -> Color:
    return heat(nats / SURPRISE_TOP)


def weight_colour(w: float) -> Color:
    """An attention weight (0..1)."""
    return Color.from_rgb(*scales.weight_heat(w))


def cell_colour(gate: str, value: float) -> Color:
    """Sigmoid gates (0..1): black to amber. g, h and scaled C (signed): blue, black, red."""
    return Color.from_rgb(*scales.cell(gate, value))


colour, layer_colour = scales.family_colour, scales.layer_colour


def luminance(colour: Color) -> float:
    """Relative luminance (WCAG 2): 0 for black, 1 for white."""
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
              for c in (v / 255 for v in colour.get_truecolor())]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: Color, b: Color) -> float:
    """WCAG 2 contrast ratio, 1 (the same) to 21 (black on white)."""
    light, dark = sorted([luminance(a), luminance(b)], reverse=True)
    return (light + 0.05) / (dark + 0.05)


def text_colour(bg: Color) -> str:
    """Black or white (true colours: a terminal's "white" may be light grey), whichever has the higher
    contrast on bg: always at least 4.5:1."""
    return "#000000" if (luminance(bg) + 0.05) / 0.05 > 1.05 / (luminance(bg) + 0.05) else "#ffffff"


def shown(ch: str, space: bool = False) -> str:
    """A character as one visible cell: a newline as ⏎, a tab as ⇥, and a space as a middle dot when ``space``
    (where a character stands alone: a row of column labels, a quoted character)."""
    return {"\n": NEWLINE, "\t": TAB, **({" ": SPACE} if space else {})}.get(ch, ch)


def append_on(out: Text, ch: str, bg: Color | None, **style) -> None:
    """Append one character of text coloured per character: on bg in the text colour that reads on it (the
    theme's own colours where bg is None); a newline shows as ⏎ and still ends the line."""
    colour = None if bg is None else text_colour(bg)
    out.append(shown(ch) + ("\n" if ch == "\n" else ""), style=Style(bgcolor=bg, color=colour, **style))
