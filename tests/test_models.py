import numpy as np
import pytest
import torch
from shakes_tui.engine.models import build_model, family_names, make_config
from shakes_tui.engine.models.lstm import cell_recurrence
from shakes_tui.engine.models.rotary import rotary_table, rotate
from shakes_tui.engine.models.transformer import RomeoState
from torch import nn


def tiny(family, **overrides):
    torch.manual_seed(0)
    return build_model(family, make_config(family, 20, "tiny", **overrides))


@pytest.mark.parametrize("family", list(family_names()))
def test_one_interface_for_all_three(family):
    model = tiny(family)
    idx = torch.randint(20, (3, 12))
    logits, loss, state = model(idx, targets=idx)
    assert logits.shape == (3, 12, 20) and loss.ndim == 0 and loss.item() > 0
    logits, loss, state = model(idx)
    assert loss is None and state is not None
    logits, _, _ = model(idx[:, :1], state=state)
    assert logits.shape == (3, 1, 20)


def test_default_sizes_are_the_documented_ones():
    sizes = {f: build_model(f, make_config(f, 65)).num_params() for f in family_names()}
    assert 400_000 <= sizes["benvolio"] <= 600_000
    assert sizes["mercutio"] > 5_000_000 and sizes["romeo"] > 6_000_000


# ---- Mercutio's trace --------------------------------------------------------------------------
def reference_trace(model, idx):
    """A per-step loop with the write-up's equations, from the same weights."""
    x = model.embed(idx[None])[0]
    out = {k: [] for k in "figoch"}
    L, H = model.config.n_layer, model.config.n_hidden
    for layer_no in range(L):
        p = model.layer_params(layer_no)
        h, c, hs = torch.zeros(H), torch.zeros(H), []
        for t in range(x.size(0)):
            pre = p["weight_ih_l0"] @ x[t] + p["weight_hh_l0"] @ h + p["bias_ih_l0"] + p["bias_hh_l0"]
            i, f, g, o = pre.split(H)
            i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
            c = f * c + i * g
            h = o * c.tanh()
            for k, v in zip("figoch", (f, i, g, o, c, h), strict=True):
                out[k].append(v)
            hs.append(h)
        x = torch.stack(hs)
    T = idx.numel()
    return {k: torch.stack(v).reshape(L, T, -1).transpose(0, 1) for k, v in out.items()}


@torch.no_grad()
def test_trace_matches_nn_lstm_and_the_equations():
    model = tiny("mercutio", n_hidden=24).eval()
    idx = torch.randint(20, (200,))
    trace = {k: torch.from_numpy(v) for k, v in model.trace(idx).items()}
    assert trace["c"].shape == (200, 2, 24)
    # h and C equal what the model's fused multi-layer nn.LSTM computes
    out, (h_last, c_last) = model.rnn(model.embed(idx[None]))
    assert isinstance(model.rnn, nn.LSTM) and model.rnn.num_layers == 2
    assert torch.allclose(trace["h"][:, -1], out[0], atol=1e-5)
    assert torch.allclose(trace["h"][-1], h_last[:, 0], atol=1e-5)
    assert torch.allclose(trace["c"][-1], c_last[:, 0], atol=1e-5)
    # the gates obey C_t = f*C_{t-1} + i*g and h_t = o*tanh(C_t)
    c_prev = torch.cat([torch.zeros(1, 2, 24), trace["c"][:-1]])
    assert torch.allclose(trace["c"], trace["f"] * c_prev + trace["i"] * trace["g"], atol=1e-5)
    assert torch.allclose(trace["h"], trace["o"] * torch.tanh(trace["c"]), atol=1e-6)
    # and every value equals a step-by-step loop over time
    ref = reference_trace(model, idx)
    for k in "figoch":
        assert torch.allclose(trace[k], ref[k], atol=1e-5), k


def test_the_cell_recurrence_equals_the_equation():
    rng = np.random.default_rng(1)
    f, b = rng.random((37, 2, 5), dtype=np.float32), rng.standard_normal((37, 2, 5), dtype=np.float32)
    c, expected = np.zeros((2, 5), np.float32), []
    for t in range(37):
        c = f[t] * c + b[t]
        expected.append(c)
    out = np.full_like(f, np.nan)
    assert cell_recurrence(f, b, out=out) is out
    np.testing.assert_allclose(out, np.stack(expected), atol=1e-6)


# ---- Romeo's key/value cache -------------------------------------------------------------------
@pytest.mark.parametrize("rope", [False, True])
@torch.no_grad()
def test_cached_steps_equal_the_full_sequence(rope):
    model = tiny("romeo", rope=rope).eval()
    idx = torch.randint(20, (2, 30))
    full, _, _ = model(idx, targets=idx)
    logits, _, state = model(idx[:, :7])  # a prefill of several tokens ...
    steps = [logits]
    logits, _, state = model(idx[:, 7:12], state=state)  # ... several more after the cache ...
    steps.append(logits)
    for t in range(12, 30):  # ... then one at a time
        logits, _, state = model(idx[:, t:t + 1], state=state)
        steps.append(logits)
    assert isinstance(state, RomeoState) and state.tokens.shape == (2, 30)
    assert torch.allclose(torch.cat(steps, dim=1), full, atol=1e-5)


@pytest.mark.parametrize("rope", [False, True])
@torch.no_grad()
def test_a_prefill_that_finishes_the_last_block_at_the_last_position_only_equals_the_full_one(rope):
    """Romeo.prefill skips the last block's attention output and MLP for all but the last position: the same
    last logits, and a state whose cache continues exactly as the full forward's."""
    model = tiny("romeo", rope=rope).eval()
    idx = torch.randint(20, (2, 25))
    full, _, full_state = model(idx[:, :20])
    rows = []
    hook = model.blocks[-1].mlp.register_forward_hook(lambda module, args, out: rows.append(args[0].size(1)))
    last, state = model.prefill(idx[:, :20])
    hook.remove()
    assert rows == [1]  # the last block's MLP ran for one position
    assert last.shape == (2, full.size(-1)) and torch.allclose(last, full[:, -1], atol=1e-5)
    for k, v in zip(state.kv, full_state.kv, strict=True):
        assert torch.allclose(k[0][:, :, :20], v[0][:, :, :20], atol=1e-6)
        assert torch.allclose(k[1][:, :, :20], v[1][:, :, :20], atol=1e-6)
    after_full, _, _ = model(idx[:, 20:], state=full_state)
    after, _, _ = model(idx[:, 20:], state=state)
    assert torch.allclose(after, after_full, atol=1e-5)


@pytest.mark.parametrize("bias, rope", [(False, False), (True, False), (False, True)])
@torch.no_grad()
def test_the_one_character_step_equals_the_modules(bias, rope):
    """Generation's fast path (decode.py: transposed weights, fused additions) gives the modules' logits."""
    model = tiny("romeo", bias=bias, rope=rope).eval()
    for p in model.parameters():  # biases start at zero: make them count
        p.add_(torch.randn_like(p) * 0.05)
    idx = torch.randint(20, (1, 30))
    full, _, _ = model(idx, targets=idx)
    logits, _, state = model(idx[:, :10])
    steps = [logits]
    logits, _, state = model(idx[:, 10:15], state=state)  # several at once (speculative sampling's check) ...
    steps.append(logits)
    for t in range(15, 30):  # ... then one at a time
        logits, _, state = model(idx[:, t:t + 1], state=state)
        steps.append(logits)
    assert "_decode_cache" in model.__dict__  # the fast path ran
    assert torch.allclose(torch.cat(steps, dim=1), full, atol=1e-5)


@torch.no_grad()
def test_the_one_character_step_follows_a_weight_change():
    model = tiny("romeo").eval()
    idx = torch.randint(20, (1, 12))
    _, _, state = model(idx[:, :11])
    model(idx[:, 11:], state=state)  # builds the transposed copies
    model.blocks[0].mlp.fc.weight.mul_(2.0)  # as an optimizer step would, in place
    full, _, _ = model(idx, targets=idx)
    _, _, state = model(idx[:, :11])
    logits, _, _ = model(idx[:, 11:], state=state)
    assert torch.allclose(logits[:, -1], full[:, -1], atol=1e-5)


@torch.no_grad()
def test_an_inference_romeo_decodes_without_copying_its_weights():
    model = tiny("romeo").eval()
    model.inference_only = True  # as load_weights returns it
    idx = torch.randint(20, (1, 12))
    full, _, _ = model(idx, targets=idx)
    _, _, state = model(idx[:, :11])
    logits, _, _ = model(idx[:, 11:], state=state)
    assert torch.allclose(logits[:, -1], full[:, -1], atol=1e-5)
    fc = model.blocks[0].mlp.fc.weight
    assert fc.t().is_contiguous()  # re-laid in place ...
    assert model._decode_weights().blocks[0].fc.data_ptr() == fc.data_ptr()  # ... and used as it is


@pytest.mark.parametrize("rope", [False, True])
@torch.no_grad()
def test_generation_past_the_block_size_rereads_the_last_half_block(rope):
    model = tiny("romeo", rope=rope).eval()  # block_size 32
    idx = torch.randint(20, (1, 40))
    _, _, state = model(idx[:, :32])
    logits, _, state = model(idx[:, 32:33], state=state)
    window = idx[:, 17:33]  # the last half block
    expected, _, _ = model(window)
    assert torch.allclose(logits[:, -1], expected[:, -1], atol=1e-5)
    assert state.tokens.size(1) == 16


def test_rotary_attention_depends_only_on_how_far_apart_two_characters_are():
    table = rotary_table(40, 8)
    q, k = torch.randn(8), torch.randn(8)
    score = lambda i, j: rotate(q, table[:, i]) @ rotate(k, table[:, j])  # noqa: E731
    assert torch.allclose(score(9, 4), score(30, 25), atol=1e-5) and torch.allclose(score(3, 3), q @ k, atol=1e-5)
    assert not torch.allclose(score(9, 4), score(9, 5), atol=1e-3)


def test_a_rotary_romeo_refuses_an_odd_head_size():
    from shakes_tui.engine.errors import ShakesError

    with pytest.raises(ShakesError, match="even head size"):
        make_config("romeo", 20, "tiny", n_embd=18, n_head=2, rope=True)


def test_a_rotary_romeo_has_no_position_embedding_and_round_trips_through_its_weights_file(tmp_path):
    from shakes_tui.engine.data.corpus import Vocab
    from shakes_tui.engine.weights import load_weights, save_weights

    model = tiny("romeo", rope=True).eval()
    assert model.pos_emb is None and "rope_table" not in model.state_dict()
    assert model.num_params() == tiny("romeo").num_params() - 32 * model.config.n_embd
    save_weights(tmp_path / "w.safetensors", model, Vocab.from_text("".join(chr(65 + i) for i in range(20))))
    loaded = load_weights(tmp_path / "w.safetensors").model
    assert loaded.config.rope
    idx = torch.randint(20, (1, 25))
    with torch.no_grad():
        assert torch.allclose(loaded(idx, targets=idx)[0], model(idx, targets=idx)[0], atol=1e-6)


def test_recurrent_models_train_on_one_fused_torch_module():
    assert isinstance(tiny("benvolio").rnn, nn.RNN) and isinstance(tiny("mercutio").rnn, nn.LSTM)


def test_layer_view_shares_the_models_parameters():
    model = tiny("mercutio")
    view = model.layer_view(1)
    assert view.weight_hh_l0 is model.rnn.weight_hh_l1
    assert sum(p.numel() for p in view.parameters()) == sum(t.numel() for t in model.layer_params(1).values())


@torch.no_grad()
def test_single_step_path_equals_the_fused_module():
    for family in ("benvolio", "mercutio"):
        model = tiny(family).eval()
        idx = torch.randint(20, (3, 9))
        full, _, _ = model(idx)
        _, _, state = model(idx[:, :8])
        step, _, _ = model(idx[:, 8:], state=state)
        assert torch.allclose(step[:, 0], full[:, -1], atol=1e-5), family
