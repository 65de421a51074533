"""The obvious PyTorch code each model is compared with: same shapes, built straight from torch.nn."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class PlainRecurrent(nn.Module):
    """Embedding -> one multi-layer nn.RNN / nn.LSTM -> dropout -> Linear: the shape of Benvolio and Mercutio."""

    def __init__(self, cell: str, vocab: int, n_embd: int, n_hidden: int, n_layer: int, dropout: float) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, n_embd)
        rnn = nn.LSTM if cell == "lstm" else nn.RNN
        self.rnn = rnn(n_embd, n_hidden, n_layer, batch_first=True, dropout=dropout)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(n_hidden, vocab)

    def forward(self, idx, targets):
        out, _ = self.rnn(self.embed(idx))
        logits = self.head(self.drop(out))
        return F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1))


class PlainTransformer(nn.Module):
    """Token + position embeddings -> nn.TransformerEncoderLayer stack with a causal mask -> Linear."""

    def __init__(self, vocab: int, block_size: int, n_layer: int, n_head: int, n_embd: int, dropout: float) -> None:
        super().__init__()
        self.tok = nn.Embedding(vocab, n_embd)
        self.pos = nn.Embedding(block_size, n_embd)
        layer = nn.TransformerEncoderLayer(n_embd, n_head, 4 * n_embd, dropout, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, n_layer, enable_nested_tensor=False)
        self.ln = nn.LayerNorm(n_embd)
        self.head = nn.Linear(n_embd, vocab, bias=False)

    def logits(self, idx):
        T = idx.size(1)
        mask = nn.Transformer.generate_square_subsequent_mask(T)
        x = self.tok(idx) + self.pos(torch.arange(T))
        return self.head(self.ln(self.blocks(x, mask=mask, is_causal=True)))

    def forward(self, idx, targets):
        logits = self.logits(idx)
        return F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1))


def reference_for(model) -> nn.Module:
    """The plain torch.nn model of the same shape: a Transformer for a model without recurrence, else
    an nn.LSTM for a gated one, an nn.RNN otherwise."""
    c = model.config
    if not model.is_recurrent:
        return PlainTransformer(c.vocab_size, c.block_size, c.n_layer, c.n_head, c.n_embd, c.dropout)
    return PlainRecurrent("lstm" if model.has_gates else "rnn", c.vocab_size, c.n_embd, c.n_hidden, c.n_layer,
                          c.dropout)


def reference_name(model) -> str:
    if not model.is_recurrent:
        return "nn.TransformerEncoderLayer"
    return "nn.LSTM" if model.has_gates else "nn.RNN"


def plain_forward(model):
    """One forward of the plain nn.RNN / nn.LSTM of the model's shape over a text: embedding and layers."""
    ref = reference_for(model).eval()

    def forward(idx: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            return ref.rnn(ref.embed(idx[None]))[0]

    return forward
