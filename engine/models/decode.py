"""Romeo's one-character step for generation: the same arithmetic as its modules, in fewer operations.

Generating reads every weight once per character, so at batch 1 the floor is memory bandwidth. The
modules' path spends most of its time elsewhere: in nn.Module calls, in the (out, in) weight layout that
makes a one-row product slow on CPUs, and in separate additions. Here each block is ten tensor calls on
weights kept transposed, (in, out), with the residual additions fused into the products (addmm).
The transposed weights are rebuilt whenever a weight changes (a training step, a load). A model
that trains keeps its layout and pays for copies (24 MB for the shipped Romeo); an inference model
(``inference_only``, as load_weights returns them) has its Linear weights re-laid in place,
same values in (in, out) order, so generation costs no extra memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from shakes_tui.engine.models.rotary import rotate
from torch import nn


@dataclass
class BlockWeights:
    ln1: tuple[torch.Tensor, torch.Tensor | None]
    qkv: torch.Tensor  # (C, 3C)
    qkv_b: torch.Tensor | None
    proj: torch.Tensor  # (C, C)
    proj_b: torch.Tensor | None
    ln2: tuple[torch.Tensor, torch.Tensor | None]
    fc: torch.Tensor  # (C, 4C)
    fc_b: torch.Tensor | None
    out: torch.Tensor  # (4C, C)
    out_b: torch.Tensor | None


def _t(linear) -> torch.Tensor:
    return linear.weight.detach().t().contiguous()  # a view when the weight is laid out (in, out) already


def _b(module) -> torch.Tensor | None:
    return None if module.bias is None else module.bias.detach()


def block_weights(block) -> BlockWeights:
    return BlockWeights((block.ln1.weight.detach(), _b(block.ln1)), _t(block.attn.qkv), _b(block.attn.qkv),
                        _t(block.attn.proj), _b(block.attn.proj), (block.ln2.weight.detach(), _b(block.ln2)),
                        _t(block.mlp.fc), _b(block.mlp.fc), _t(block.mlp.proj), _b(block.mlp.proj))


def relayout_for_decoding(model) -> None:
    """Store each Linear weight of an inference model transposed in memory; its values and shape stay."""
    if not model.inference_only:
        return
    for module in model.blocks.modules():
        if isinstance(module, nn.Linear) and not module.weight.t().is_contiguous():
            module.weight.data = module.weight.data.t().contiguous().t()


class DecodeWeights:
    """Transposed weights of a Romeo (views where they are laid out so, else copies), valid while
    none of its parameters changes."""

    def __init__(self, model) -> None:
        relayout_for_decoding(model)
        self.params = list(model.parameters())
        self.key = weights_key(self.params)
        self.blocks = [block_weights(b) for b in model.blocks]
        self.ln_f = (model.ln_f.weight.detach(), _b(model.ln_f))
        self.head = _t(model.head)  # (C, V)
        self.tok = model.tok_emb.weight.detach()
        self.pos = None if model.pos_emb is None else model.pos_emb.weight.detach()
        self.rope = model.rope_table  # (2, block, hs/2) or None


    def is_current(self) -> bool:
        """False once a parameter was written in place (an optimizer step, load_state_dict) or moved."""
        return weights_key(self.params) == self.key


def weights_key(params: list[torch.Tensor]) -> tuple:
    return tuple((p.data_ptr(), p._version) for p in params)


def _linear(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None, residual: torch.Tensor | None = None):
    """x @ w (+ b) (+ residual), in one call where it can be."""
    if residual is None:
        return x @ w if b is None else torch.addmm(b, x, w)
    y = torch.addmm(residual, x, w)
    return y if b is None else y.add_(b)


def decode_step(weights: DecodeWeights, n_head: int, tokens: torch.Tensor, kv: list, n: int) -> torch.Tensor:
    """Logits (T, V) for a few new tokens (1, T) at positions n.., writing their keys and values into
    the cache buffers kv (per block: two (1, nh, block, hs) tensors holding n positions already)."""
    T = tokens.size(1)
    x = weights.tok[tokens[0]] if weights.pos is None else weights.tok[tokens[0]] + weights.pos[n:n + T]  # (T, C)
    rope = None if weights.rope is None else weights.rope[:, n:n + T]
    C = x.size(1)
    hs = C // n_head
    mask = None if T == 1 else torch.ones(T, n + T, dtype=torch.bool).tril(diagonal=n)  # query j: keys <= n + j
    for w, (k_buf, v_buf) in zip(weights.blocks, kv, strict=True):
        h = F.layer_norm(x, (C,), *w.ln1)
        q, k, v = _linear(h, w.qkv, w.qkv_b).view(T, 3, n_head, hs).permute(1, 2, 0, 3)  # each (nh, T, hs)
        q, k = rotate(q, rope), rotate(k, rope)
        k_buf[0, :, n:n + T] = k
        v_buf[0, :, n:n + T] = v
        scores = torch.bmm(q, k_buf[0, :, :n + T].transpose(1, 2)).mul_(hs ** -0.5)  # (nh, T, n + T)
        if mask is not None:
            scores.masked_fill_(~mask, float("-inf"))
        y = torch.bmm(torch.softmax(scores, dim=-1), v_buf[0, :, :n + T])  # (nh, T, hs)
        x = _linear(y.transpose(0, 1).reshape(T, C), w.proj, w.proj_b, residual=x)
        h = F.gelu(_linear(F.layer_norm(x, (C,), *w.ln2), w.fc, w.fc_b))
        x = _linear(h, w.out, w.out_b, residual=x)
    return F.layer_norm(x, (C,), *weights.ln_f) @ weights.head
