"""The app's own commands in the command palette (Ctrl+P), beside Textual's."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from shakes_tui.engine.models import display_name
from shakes_tui.tui.insight.pane import VIEWS, InsightPane
from shakes_tui.tui.widgets.gate_heatmap import GateHeatmap
from shakes_tui.tui.widgets.help_screen import HelpScreen
from shakes_tui.tui.widgets.training_pane import TrainingPane
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.widgets import Button, TabbedContent


def save_screenshot(app) -> None:
    """An SVG of the screen in the current folder, and a notice that says where."""
    try:
        path = Path(app.save_screenshot(path=str(Path.cwd()))).resolve()
    except OSError as exc:
        app.notify(f"could not save the screenshot: {exc}", severity="error", markup=False)
        return
    app.notify(f"screenshot saved: {path}", timeout=8, markup=False)


def _gates(app, action: str) -> None:
    app.query_one(TabbedContent).active = "gates"
    getattr(app.query_one(GateHeatmap), f"action_{action}")()


def _insight(app, view: str) -> None:
    app.query_one(TabbedContent).active = "insight"
    app.query_one(InsightPane).action_view(view)


def _train(app, action: str, model: str) -> None:
    app.query_one(TabbedContent).active = "train"
    app.query_one(TrainingPane).request(action, model)


def app_commands(app) -> list[tuple[str, Callable[[], object], str]]:
    """(name, callback, help) for every command; the names read as what a person wants done."""
    commands = [
        ("Generate", lambda: app.query_one("#generate", Button).press(), "continue the seed with every model"),
        ("Help: keys and how to read each view", lambda: app.push_screen(HelpScreen()), "also ?"),
        ("Tour: the lesson, a step at a time", app.action_start_tour,
         "each step opens the view that shows it; n next, p back, Esc leaves (also shakes-tui --tour)"),
        ("Screenshot (SVG, saved in the current folder)", lambda: app.call_later(save_screenshot, app),
         "the notice says where"),
        ("Gates: next gate", lambda: _gates(app, "next_gate"), "forget, input, candidate, output, C, h"),
        ("Gates: next layer", lambda: _gates(app, "next_layer"), "the layers of the model with gates"),
        ("Gates: next order of the units", lambda: _gates(app, "next_mode"), "most active, saturated, variable"),
    ]
    commands += [(f"Insight: {label[2:]}", lambda v=view: _insight(app, v), f"key {label[0]} in the Insight tab")
                 for view, label in VIEWS.items()]
    for model in app.names:
        commands += [
            (f"Train {display_name(model)}", lambda m=model: _train(app, "start", m), "a new run, minutes as set"),
            (f"Stop training {display_name(model)}", lambda m=model: _train(app, "stop", m), "writes a checkpoint"),
            (f"Resume training {display_name(model)}", lambda m=model: _train(app, "resume", m),
             "continues the stopped run where it stopped, on its own schedule"),
            (f"More time for {display_name(model)}", lambda m=model: _train(app, "more-time", m),
             "trains the last run on for the minutes set, on a longer schedule (+ time)"),
            (f"Fine-tune {display_name(model)} from the shipped weights", lambda m=model: _train(app, "fine-tune", m),
             "a new run that starts from them"),
            (f"Back to shipped weights: {display_name(model)}", lambda m=model: app.action_back_to_shipped(m),
             "undoes live weights in its Generate pane (also b on the pane)"),
        ]
    return commands


class ShakesCommands(Provider):
    async def discover(self) -> Hits:
        for name, callback, text in app_commands(self.app):
            yield DiscoveryHit(name, callback, help=text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, text in app_commands(self.app):
            if (score := matcher.match(name)) > 0:
                yield Hit(score, matcher.highlight(name), callback, help=text)
