"""The lesson's measurements: recurrent models start from a learned state they were trained to start from, and
every model is scored with the context it can use (sliding windows for Romeo), on either split, the same way."""

import json
import math

import pytest
import torch
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from shakes_tui.engine.cli import eval_main
from shakes_tui.engine.data.batches import StreamBatches
from shakes_tui.engine.data.corpus import Corpus
from shakes_tui.engine.evaluate import split_loss
from shakes_tui.engine.models import CharModel, build_model, make_config
from shakes_tui.engine.runs import RunDir
from shakes_tui.engine.training.trainer import Trainer, carried_state, default_config
from shakes_tui.engine.weights import load_weights, save_weights

from tests.conftest import SMALL_TEXT


def tiny(family, **overrides):
    torch.manual_seed(0)
    return build_model(family, make_config(family, 20, "tiny", **overrides)).eval()


# ---- item 1: a state to start from, learned ------------------------------------------------------------------
@pytest.mark.parametrize("family", ["benvolio", "mercutio"])
def test_a_text_starts_from_the_learned_initial_state(family):
    model = tiny(family)
    with torch.no_grad():
        model.init_h.normal_()
    ids = torch.tensor([[1, 2, 3, 4]])
    from_none = model(ids)[0]
    from_start = model(ids, state=model.initial_state(1))[0]
    zero = model.initial_state(1)
    zero = torch.zeros_like(zero) if isinstance(zero, torch.Tensor) else tuple(torch.zeros_like(t) for t in zero)
    assert torch.equal(from_none, from_start)
    assert not torch.allclose(from_none, model(ids, state=zero)[0])


def test_the_gate_trace_starts_from_the_learned_state():
    model = tiny("mercutio")
    with torch.no_grad():
        model.init_h.normal_()
        model.init_c.normal_()
    ids = torch.tensor([3, 1, 4, 1, 5, 9])
    trace = model.trace(ids)
    with torch.no_grad():
        h, (_, c) = model.rnn(model.embed(ids[None]), model.initial_state(1))
    assert torch.allclose(torch.from_numpy(trace["h"][:, -1]), h[0], atol=1e-6)
    assert torch.allclose(torch.from_numpy(trace["c"][-1]), c[:, 0], atol=1e-5)


def test_a_reset_row_starts_from_the_learned_state_with_its_gradient():
    model = tiny("mercutio").train()
    with torch.no_grad():
        model.init_h.fill_(0.5)
        model.init_c.fill_(-0.25)
    carried = tuple(torch.full((2, 3, 16), 9.0) for _ in range(2))
    fresh = torch.tensor([False, True, False])
    h, c = carried_state(model, carried, fresh)
    assert torch.all(h[:, 1] == 0.5) and torch.all(c[:, 1] == -0.25)
    assert torch.all(h[:, [0, 2]] == 9.0) and torch.all(c[:, [0, 2]] == 9.0)
    (h.sum() + c.sum()).backward()
    assert model.init_h.grad.abs().sum() > 0 and model.init_c.grad.abs().sum() > 0


def test_streams_reset_at_the_rate_asked_and_read_on_from_where_they_were():
    data = torch.arange(100_000) % 50
    batches = StreamBatches(data, batch_size=64, seq_len=8, rng_seed=1, reset_prob=0.25)
    batches.next()
    resets = []
    for _ in range(200):
        before = batches.positions.clone()
        x, _, fresh = batches.next()
        resets.append(fresh.float().mean().item())
        assert torch.equal(x[:, 0], data[before])  # a reset stream reads on from where it was
    assert 0.2 < sum(resets) / len(resets) < 0.3
    quiet = StreamBatches(data, batch_size=64, seq_len=8, rng_seed=1)
    quiet.next()
    assert not any(quiet.next()[2].any() for _ in range(50))


def test_a_file_from_before_the_learned_state_loads_with_a_zero_one(tmp_path):
    vocab = Corpus.from_text(SMALL_TEXT).vocab
    model = build_model("mercutio", make_config("mercutio", len(vocab), "tiny"))
    path = tmp_path / "old.safetensors"
    save_weights(path, model, vocab)
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata()
    tensors = {k: v for k, v in load_file(str(path)).items() if not k.startswith("init_")}
    save_file(tensors, str(path), metadata=meta)
    loaded = load_weights(path)
    assert torch.all(loaded.model.init_h == 0) and torch.all(loaded.model.init_c == 0)


def test_training_with_resets_teaches_the_initial_state(tmp_path):
    corpus = Corpus.from_text(SMALL_TEXT)
    cfg = default_config("benvolio", preset="tiny", batch_size=8, seq_len=16, max_steps=40, eval_interval=40,
                         eval_batches=1, device="cpu", reset_prob=0.5, lr=1e-2, sample_chars=5)
    trainer = Trainer(cfg, corpus, RunDir(tmp_path / "run"))
    trainer.run()
    assert trainer.model.init_h.abs().sum() > 0  # it moved from zero: it was trained


# ---- item 2: every model scored with the context it can use ---------------------------------------------------
class LastCharacter(CharModel):
    """A windowed model that sees only the last character: its loss at a target does not depend on the context,
    so a split's mean equals the mean over targets exactly when each target is scored once."""

    family = "romeo"

    def __init__(self, vocab: int = 7, block: int = 8) -> None:
        super().__init__(None)
        torch.manual_seed(3)
        self.table = torch.nn.Parameter(torch.randn(vocab, vocab))
        self.block = block

    def max_context(self) -> int:
        return self.block

    def forward(self, idx, targets=None, state=None):
        assert idx.size(1) <= self.block
        logits = self.table[idx]
        return logits, self.loss_of(logits, targets), None


def per_target_mean(model: LastCharacter, ids: torch.Tensor) -> float:
    return F.cross_entropy(model.table[ids[:-1]], ids[1:]).item()


@pytest.mark.parametrize("n", [2, 5, 8, 9, 31, 64, 65, 101])
@pytest.mark.parametrize("stride", [1, 2, 3, 8])
def test_every_character_is_scored_exactly_once(n, stride):
    model = LastCharacter()
    ids = torch.randint(0, 7, (n,), generator=torch.Generator().manual_seed(n))
    with torch.no_grad():
        assert math.isclose(split_loss(model, ids, stride=stride), per_target_mean(model, ids), rel_tol=1e-6)


def consecutive_windows(model, ids, block):
    total = 0.0
    for start in range(0, ids.numel() - 1, block):
        window = ids[start:start + block + 1]
        logits = model(window[None, :-1])[0]
        total += F.cross_entropy(logits[0], window[1:], reduction="sum").item()
    return total / (ids.numel() - 1)


@pytest.mark.parametrize("n", [33, 40, 57])
def test_stride_equal_to_the_block_is_consecutive_windows(n):
    model = tiny("romeo")  # block 32
    ids = torch.randint(0, 20, (n,), generator=torch.Generator().manual_seed(1))
    expected = consecutive_windows(model, ids, 32)
    assert math.isclose(split_loss(model, ids, stride=32), expected, rel_tol=1e-5)
    assert math.isclose(split_loss(model, ids, windows=True), expected, rel_tol=1e-5)


def test_stride_one_is_each_character_predicted_from_its_last_block():
    model = tiny("romeo")
    ids = torch.randint(0, 20, (50,), generator=torch.Generator().manual_seed(2))
    losses = []
    with torch.no_grad():
        for j in range(ids.numel() - 1):
            context = ids[max(0, j + 1 - 32):j + 1]
            logits = model(context[None])[0][0, -1]
            losses.append(F.cross_entropy(logits[None], ids[j + 1:j + 2]).item())
    assert math.isclose(split_loss(model, ids, stride=1), sum(losses) / len(losses), rel_tol=1e-5)


def test_sliding_and_consecutive_windows_are_different_figures():
    model = tiny("romeo")
    ids = torch.randint(0, 20, (200,), generator=torch.Generator().manual_seed(4))
    assert split_loss(model, ids) != split_loss(model, ids, windows=True)  # different contexts, different figures


def test_a_recurrent_model_ignores_the_stride():
    model = tiny("mercutio")
    ids = torch.randint(0, 20, (100,), generator=torch.Generator().manual_seed(5))
    assert split_loss(model, ids, stride=3) == split_loss(model, ids) == split_loss(model, ids, windows=True)


# ---- item 3: both splits measured alike -----------------------------------------------------------------------
def test_shakes_eval_gives_both_figures_on_either_split(tmp_path, capsys, small_text_file):
    corpus = Corpus.from_text(small_text_file.read_text())
    paths = {}
    for family in ("mercutio", "romeo"):
        paths[family] = tmp_path / f"{family}.safetensors"
        save_weights(paths[family], tiny_on(family, len(corpus.vocab)), corpus.vocab)
    argv = ["--data", str(small_text_file), "--json", "--weights", *map(str, paths.values())]
    with pytest.raises(SystemExit) as exit_:
        eval_main(argv)
    assert exit_.value.code == 0
    val = json.loads(capsys.readouterr().out)
    with pytest.raises(SystemExit):
        eval_main([*argv, "--split", "train"])
    train = json.loads(capsys.readouterr().out)
    lstm, gpt = (val[str(paths[f])] for f in ("mercutio", "romeo"))
    assert lstm["val_loss_windows"] is None and gpt["val_loss_windows"] is not None
    assert gpt["stride"] == 8 and gpt["chars"] == corpus.val.numel()
    t_gpt = train[str(paths["romeo"])]
    assert t_gpt["chars"] == corpus.val.numel() and "train_loss" in t_gpt and "train_loss_windows" in t_gpt
    model = load_weights(paths["romeo"]).model
    assert math.isclose(t_gpt["train_loss"], split_loss(model, corpus.train[-corpus.val.numel():]), abs_tol=1e-4)
    assert math.isclose(gpt["val_loss_windows"], split_loss(model, corpus.val, windows=True), abs_tol=1e-4)


def tiny_on(family, vocab_size):
    torch.manual_seed(0)
    return build_model(family, make_config(family, vocab_size, "tiny"))
