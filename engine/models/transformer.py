"""Romeo: a small decoder-only Transformer with a key/value cache for generation.

Blocks as in GPT-2: pre-norm causal self-attention and an MLP, each with a residual path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from shakes_tui.engine.errors import ShakesError
from shakes_tui.engine.models.base import CharModel
from shakes_tui.engine.models.decode import DecodeWeights, decode_step
from shakes_tui.engine.models.dropout import Dropout, causal_attention_with_dropout
from shakes_tui.engine.models.rotary import rotary_table, rotate
from torch import nn


@dataclass
class RomeoConfig:
    vocab_size: int = 65  # set from the corpus
    block_size: int = 256  # longest context the model attends over
    n_layer: int = 6  # transformer blocks
    n_head: int = 6  # attention heads per block
    n_embd: int = 288  # residual stream width (a multiple of n_head)
    dropout: float = 0.2  # on attention, residual branches and embeddings, training only
    bias: bool = False  # biases in Linear and LayerNorm
    rope: bool = False  # rotary positions (RoPE) on queries and keys, in place of a learned position embedding

    def __post_init__(self) -> None:
        if self.n_embd % self.n_head:
            raise ShakesError(f"romeo's n_embd ({self.n_embd}) must be a multiple of n_head ({self.n_head})")
        if self.rope and (self.n_embd // self.n_head) % 2:
            raise ShakesError(f"romeo with rotary positions needs an even head size, not {self.n_embd // self.n_head}"
                              " (n_embd / n_head)")


@dataclass
class RomeoState:
    """What generation carries between calls: the tokens in view and each block's keys/values.

    The key/value buffers hold block_size positions and are written in place, so a state is
    used up by the call that continues it (generation only ever goes forward).
    """

    tokens: torch.Tensor  # (B, T_seen) ids currently in the cache, at most block_size
    kv: list[tuple[torch.Tensor, torch.Tensor]] = field(default_factory=list)  # per block (B, nh, block, hs)


class CausalSelfAttention(nn.Module):
    def __init__(self, c: RomeoConfig) -> None:
        super().__init__()
        assert c.n_embd % c.n_head == 0, "n_embd must be a multiple of n_head"
        self.n_head = c.n_head
        self.qkv = nn.Linear(c.n_embd, 3 * c.n_embd, bias=c.bias)
        self.proj = nn.Linear(c.n_embd, c.n_embd, bias=c.bias)
        self.dropout = c.dropout
        self.resid_drop = Dropout(c.dropout)

    def forward(self, x: torch.Tensor, past: tuple[torch.Tensor, torch.Tensor, int] | None = None,
                rope: torch.Tensor | None = None, last_only: bool = False):
        """past: key and value buffers (B, nh, block, hs) with the first n positions filled; rope: the rotary
        table's rows for these T positions, if the model rotates. last_only: keys and values for all T
        positions, but the output (B, 1, C) for the last position only."""
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))  # (B,nh,T,hs)
        q, k = rotate(q, rope), rotate(k, rope)
        new_kv = (k, v)
        if past is not None:
            k_buf, v_buf, n = past
            k_buf[:, :, n:n + T] = k  # in place: no copy of the whole cache per character
            v_buf[:, :, n:n + T] = v
            k, v = k_buf[:, :, :n + T], v_buf[:, :, :n + T]
        drop = self.dropout if self.training else 0.0
        if drop and past is None and not last_only and x.device.type == "cpu":  # training: a cheaper mask
            y = causal_attention_with_dropout(q, k, v, drop)
        elif last_only:  # the last query sees every key: no mask
            q, T = q[:, :, -1:], 1
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=drop)
        elif past is None or T == 1:  # plain causal, or one new query that may see everything
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=drop, is_causal=past is None and T > 1)
        else:  # several new queries after a cache: query j sees keys up to T_past + j
            t_past = k.size(2) - T
            mask = torch.ones(T, k.size(2), dtype=torch.bool, device=x.device).tril(diagonal=t_past)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=drop)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_drop(self.proj(y)), new_kv

    def weights(self, x: torch.Tensor, rope: torch.Tensor | None = None) -> torch.Tensor:
        """(B, n_head, T, T): softmax(QK^T / sqrt(d)) under the causal mask, for the (normalised) input x (B, T, C);
        row q is where character q looks, and sums to 1."""
        B, T, C = x.shape
        q, k, _ = self.qkv(x).split(C, dim=2)
        q, k = (rotate(t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2), rope) for t in (q, k))
        scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
        future = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(diagonal=1)
        return torch.softmax(scores.masked_fill(future, float("-inf")), dim=-1)


class MLP(nn.Module):
    def __init__(self, c: RomeoConfig) -> None:
        super().__init__()
        self.fc = nn.Linear(c.n_embd, 4 * c.n_embd, bias=c.bias)
        self.proj = nn.Linear(4 * c.n_embd, c.n_embd, bias=c.bias)
        self.drop = Dropout(c.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.proj(F.gelu(self.fc(x))))


class Block(nn.Module):
    def __init__(self, c: RomeoConfig) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(c.n_embd, bias=c.bias)
        self.attn = CausalSelfAttention(c)
        self.ln2 = nn.LayerNorm(c.n_embd, bias=c.bias)
        self.mlp = MLP(c)

    def forward(self, x: torch.Tensor, past=None, rope: torch.Tensor | None = None, last_only: bool = False):
        """last_only: the block's keys and values for every position, its output for the last one only."""
        a, kv = self.attn(self.ln1(x), past, rope, last_only)
        x = (x[:, -1:] if last_only else x) + a
        return x + self.mlp(self.ln2(x)), kv


class Romeo(CharModel):
    family = "romeo"
    autocast_ok = True  # bf16 autocast on CUDA is safe for every op here
    has_attention = True

    def __init__(self, config: RomeoConfig) -> None:
        super().__init__(config)
        c = config
        self.tok_emb = nn.Embedding(c.vocab_size, c.n_embd)
        self.pos_emb = None if c.rope else nn.Embedding(c.block_size, c.n_embd)
        table = rotary_table(c.block_size, c.n_embd // c.n_head) if c.rope else None
        self.register_buffer("rope_table", table, persistent=False)  # not saved: computed from the config
        self.drop = Dropout(c.dropout)
        self.blocks = nn.ModuleList(Block(c) for _ in range(c.n_layer))
        self.ln_f = nn.LayerNorm(c.n_embd, bias=c.bias)
        self.head = nn.Linear(c.n_embd, c.vocab_size, bias=False)
        self.head.weight = self.tok_emb.weight  # weight tying, as in GPT-2
        self.apply(self._init_weights)
        for name, p in self.named_parameters():  # scaled init of residual projections (GPT-2)
            if name.endswith("proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * c.n_layer))

    def max_context(self) -> int:
        return self.config.block_size

    def attention_maps(self, idx: torch.Tensor) -> torch.Tensor:
        """(n_layer, n_head, T, T): each block's attention weights over the ids ``idx`` (T,), T <= block_size,
        read as forward() reads them (call it in eval mode, without autograd)."""
        x, rope = self._embed(idx[None], 0)
        maps = []
        for block in self.blocks:
            maps.append(block.attn.weights(block.ln1(x), rope)[0])
            x = block(x, None, rope)[0]
        return torch.stack(maps)

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear | nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def prefill(self, idx: torch.Tensor):
        """The last position's logits (B, V) and the state after ``idx``: the last block computes its keys
        and values for every position but the rest (attention output, MLP) only for the last, a sixth less
        work for a 200-character seed's first character."""
        logits, _, state = self(idx, last_only=True)
        return logits[:, -1], state

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None, state: RomeoState | None = None,
                last_only: bool = False):
        """Without targets the call is generation: it returns a RomeoState to continue from.
        last_only (a prefill: generation without a cache): logits (B, 1, V) for the last position alone.

        If the cache would outgrow block_size, the model re-reads the last half block of
        tokens from scratch; the logits then cover that re-read window, whose last row is
        always the prediction for the character after ``idx``.
        """
        if state is not None and state.tokens.size(1) + idx.size(1) > self.config.block_size:
            keep = max(self.config.block_size // 2, min(idx.size(1), self.config.block_size))
            idx, state = torch.cat([state.tokens, idx], dim=1)[:, -keep:], None
        if targets is None and idx.size(1) > self.config.block_size:
            idx = idx[:, -self.config.block_size:]
        assert idx.size(1) <= self.config.block_size, "sequence longer than block_size"
        start = 0 if state is None else state.tokens.size(1)
        if state is not None and targets is None and idx.size(0) == 1 and not torch.is_grad_enabled():
            logits = decode_step(self._decode_weights(), self.config.n_head, idx, state.kv, start)
            return logits[None], None, RomeoState(torch.cat([state.tokens, idx], dim=1), state.kv)
        x, rope = self._embed(idx, start)
        x = self.drop(x)  # (B, T, C)
        new_kv = []
        last = len(self.blocks) - 1 if last_only and targets is None else None
        for i, block in enumerate(self.blocks):
            x, layer_kv = block(x, None if state is None else (*state.kv[i], start), rope, i == last)
            new_kv.append(layer_kv)
        logits = self.head(self.ln_f(x))  # (B, T, V)
        if targets is not None:
            return logits, self.loss_of(logits, targets), None
        if state is None:
            return logits, None, RomeoState(idx, [self._kv_buffers(k, v) for k, v in new_kv])
        return logits, None, RomeoState(torch.cat([state.tokens, idx], dim=1), state.kv)

    def _embed(self, idx: torch.Tensor, start: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The characters' embeddings at positions start.. and the rotary rows for those positions (or None)."""
        if self.rope_table is not None:
            return self.tok_emb(idx), self.rope_table[:, start:start + idx.size(1)]
        return self.tok_emb(idx) + self.pos_emb(torch.arange(start, start + idx.size(1), device=idx.device)), None

    def _decode_weights(self) -> DecodeWeights:
        """The transposed weights of the one-character step (decode.py), rebuilt after any change."""
        cached = self.__dict__.get("_decode_cache")
        if cached is None or not cached.is_current():
            cached = self.__dict__["_decode_cache"] = DecodeWeights(self)
        return cached

    def _kv_buffers(self, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Buffers of block_size positions holding the first k.size(2) keys and values."""
        shape = (*k.shape[:2], self.config.block_size, k.size(3))
        k_buf, v_buf = k.new_empty(shape), v.new_empty(shape)
        k_buf[:, :, :k.size(2)] = k
        v_buf[:, :, :v.size(2)] = v
        return k_buf, v_buf

    def flops_per_char(self) -> float:
        c = self.config
        n = self.num_params() - (0 if self.pos_emb is None else self.pos_emb.weight.numel())
        attention = 6 * c.n_layer * c.block_size * c.n_embd  # QK^T and AV, forward and backward, mean context
        return 6.0 * n + attention
