"""What the app does when a model's weights change: a checkpoint of a live run, or the shipped weights again."""

from __future__ import annotations

from shakes_tui.tui import workers
from shakes_tui.tui.bank import run_source
from shakes_tui.tui.insight.pane import InsightPane
from shakes_tui.tui.messages import CheckpointLoaded, while_running
from shakes_tui.tui.widgets.generation_pane import GenerationPane
from shakes_tui.tui.widgets.seed_bar import SeedBar
from shakes_tui.tui.widgets.training_pane import TrainingPane


class LiveWeights:
    """Part of ShakesApp (its bank, panes and generation rounds). Its handlers are found by name, as Textual
    finds ``on_*`` methods along the class's MRO."""

    def on_training_pane_new_weights(self, event: TrainingPane.NewWeights) -> None:
        source = run_source(event.path, event.step, event.val_loss, event.val_step)
        self.run_in_thread(workers.reload_checkpoint, self.bank, event.model, event.path, source,
                           group=f"reload-{event.model}")

    def action_back_to_shipped(self, model: str) -> None:
        """Undo live weights: the model's pane (and its text) return to the weights shipped with the app."""
        if self.bank.get(model).source == "shipped":
            self.notify(f"{model.capitalize()} already has the shipped weights", timeout=3)
            return
        self.run_in_thread(workers.reload_shipped, self.bank, model, group=f"reload-{model}")

    @while_running
    def on_checkpoint_loaded(self, event: CheckpointLoaded) -> None:
        if event.error is not None:
            self.notify(event.error, title=f"{event.model.capitalize()}: weights not loaded", severity="error",
                        markup=False)
            return
        self.query_one(InsightPane).model_changed(event.model)
        if self.request is None:  # nothing generated yet: the pane's title says where its weights are from
            self.query_one(f"#gen-{event.model}", GenerationPane).set_slot(self.bank.get(event.model))
            if event.model == self.gated:
                self.retrace(self.query_one(SeedBar).seed_text)
        else:
            self.generate_one(event.model)  # the same seed and settings, written by the new weights
