"""The help screen: every key, and what each view shows and how to read it."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# shakes-tui

Three character-level models of Shakespeare, side by side: **Benvolio** (a plain RNN),
**Mercutio** (an LSTM) and **Romeo** (a small Transformer).

| key | what |
|---|---|
| `F1` `F2` `F3` `F4` | the Generate, Train, Gates and Insight tabs (F1 also puts the cursor back in the seed box) |
| `?` | this help (`Esc` closes it) |
| `Ctrl+P` | the command palette: generate, train, stop, resume, gates, insight views, screenshot, ... |
| `Tab` `Shift+Tab` | the next or previous field or button |
| `Esc` | leave a text field, so that keys such as `?` reach the app |
| `Ctrl+Q` | quit; a model that is training stops with a checkpoint first |
| `x` | in the Train, Gates and Insight tabs: the chart, heatmap or view shown as a figure (below) |

New here? Take the **guided tour**: Ctrl+P, then *Tour* (or start with `shakes-tui --tour`). Eight
steps walk through why the three models differ, each opening the view that shows it, its figures
measured on the weights in use; **n** next step, **p** back, **Esc** leaves.

## Generate (F1)

Type a seed and press Enter: each model continues it, one character at a time. **temp** is the
temperature (0 always takes the most likely character; higher is bolder), **top-k** samples only among
the k likeliest characters, **length** is how many characters, **rng seed** makes a run repeatable.
Each pane's title says where its weights come from (shipped, or a training run with its step and
validation loss) and its subtitle how fast it writes. **b** on a focused pane (Tab to it) brings
back the shipped weights.

## Train (F2)

Pick a model and minutes (2 for the quick size a CPU trains), then **Start**. **Stop** writes a
checkpoint; **Resume** continues the stopped run where it stopped, on its own schedule: a run
stopped at 3 of its 10 minutes trains the remaining 7, its learning rate going on down the same
cosine (after a restart too, however it was stopped: Stop, Ctrl+Q, a crash). **+ time** is the
other choice: it trains the last run on for the minutes set, on a longer schedule whose learning
rate rises again before it decays (the status line says from what to what). With **from shipped**
on, Start fine-tunes the shipped weights (with the full-size settings, at a third of the learning
rate) instead of starting from random ones. With **live weights** on, each checkpoint (every 30
seconds of training) replaces that model in the Generate, Gates and Insight tabs and its text is
written again, so you watch it improve. The chart draws the training loss of the latest batches
(line) and the validation loss (dots) in nats per character: lower is better. A diamond marks the
best validation loss. With the chart focused, **z** zooms to the latest half of the steps.
The table's **train est.** and **val est.** come from the same evaluation, by the same method:
random windows of the training and of the validation text, each read from a fresh start, with
dropout off. So a gap between them is overfitting (the model has begun to memorise its training
text) and nothing else. Both usually sit above `shakes-eval`'s figure for the same weights, which
reads the whole split with the most context (the README's table).

## Gates (F3)

Mercutio's insides over the seed and its continuation: characters run left to right, units top to
bottom. **g** cycles the forget, input, candidate and output gates, the cell state C and the hidden
state h; **l** the layer; **s** the order of the units (most active, most saturated, most variable,
by index); arrows or a click move the cursor. The colour scale is under the heatmap: a forget gate
near 1 keeps the cell's memory, near 0 erases it; the cell state is drawn per unit against its own
range. The strip below colours the text by the cursor's unit: units that track quotes, line length
or the speaker show up there. **c** finds them for you: it cycles six features of the text (inside
quotes, inside brackets, position in the line, a speaker's name line, a word's start, after a
sentence's end) and puts the cursor on the unit of C or h that follows the feature best, with its
correlation r (the same ranking as `shakes-inspect cells`). Only the first 1,000 characters are traced.

## Insight (F4)

Why the three models differ, measured on the seed (**t** switches to a passage of the validation
text; the memory span is always measured on validation text).
**1 surprise**: the text once per model, each character on the colour of its loss (dark: the
model expected it; bright: it was surprised); arrows move the cursor and the line below shows each
model's five likeliest guesses there. **2 memory span**: each model's loss when it may read only the
last k characters, and how much the character k back still changes its guess: the curve an LSTM keeps
flat far longer than the RNN. **3 attention**: where each of Romeo's queries looks (**l** layer, **h**
head, **L**/**H** back). **4 saturation**: how often each of Mercutio's gate units is nearly shut
(< 0.1) or wide open (> 0.9). **5 compare**: the memory experiment. Text A (the seed) and
text B (the seed with one early word replaced; edit either, Enter measures): along the ending they
share, how much each model's prediction still moves (KL between its two predictions), character by
character after the difference. The RNN's difference should die within a few characters.
After each generation the pane titles show the longest stretch the
model copied from its training text. Layers, heads and units are numbered from 1 here and
everywhere, as `shakes-inspect --layer 1 --head 1` counts them.

## Figures for slides (x)

**x** writes the Train tab's loss chart, the Gates heatmap (with its colour scale) or the Insight view
shown as CSV (the numbers), PNG (1600x900 px at 200 dpi) and SVG into `shakes-figures/` in the directory
the app was started in; a notice names the files. The pictures need matplotlib
(`pip install -e '.[plots]'`); without it the CSV is still written and the notice says so.
`shakes-inspect ... --plot FILE --csv FILE` draws the same figures from the command line.
"""


class HelpScreen(ModalScreen):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen VerticalScroll { width: 90%; max-width: 100; height: 90%; border: round $accent;
                                background: $surface; padding: 0 1; }
    """
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Markdown(HELP)

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()
