"""Training batches, drawn reproducibly from one generator whose state a checkpoint keeps.

Romeo reads random windows. Benvolio and Mercutio read B contiguous streams, as char-rnn
does: each batch continues where the last one stopped, so the recurrent state is carried
between batches and the model learns to use memory longer than one window.

Under torchrun every rank draws the same global batch from the same generator and keeps its own rows
(``rows``: rank::world), so the ranks read different text and the generator state is one for all.
The data may be a memory-mapped token file of any size (uint8/uint16): only the windows a batch
reads are gathered, then cast to int64 and moved to the model's device.
"""

from __future__ import annotations

import torch
from shakes_tui.engine.errors import ShakesError


def resident(split: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Where batches read a split from: in-memory ids (int64) move to the device once; memory-mapped ones
    (uint8/uint16, see shakes_tui.engine.data.tokens) stay in their file, and each batch gathers only what it reads."""
    return split.to(device) if split.dtype == torch.long else split


class WindowBatches:
    """Random windows of seq_len characters; targets are the inputs shifted by one."""

    def __init__(self, data: torch.Tensor, batch_size: int, seq_len: int, rng_seed: int,
                 device: torch.device | str | None = None, rows: slice = slice(None)) -> None:
        if data.numel() < seq_len + 2:
            raise ShakesError(f"the text is too short: {data.numel()} characters to draw windows of {seq_len} + 1 "
                              f"from; use a longer text or a smaller --seq-len")
        self.data, self.batch_size, self.seq_len = data, batch_size, seq_len
        self.device = torch.device(device) if device is not None else data.device
        self.rows = rows  # which rows of the global batch this process trains on
        self.generator = torch.Generator().manual_seed(rng_seed)

    def next(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        starts = torch.randint(self.data.numel() - self.seq_len - 1, (self.batch_size,), generator=self.generator)
        return self._gather(starts) + (None,)

    def _gather(self, starts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        offsets = starts[self.rows, None] + torch.arange(self.seq_len + 1)
        chunk = self.data[offsets.to(self.data.device)].to(self.device, torch.long)  # (B, T+1)
        return chunk[:, :-1], chunk[:, 1:]

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])


class StreamBatches(WindowBatches):
    """B streams that each read on from where they stopped; a stream that reaches the end
    restarts at a random place, and ``fresh`` marks it so it starts again from the model's initial state.

    reset_prob: the chance, per stream and batch, that a stream also starts again from the initial state where it
    is (it reads on from the same place): resets land mid-word and mid-speech as often as anywhere, so the model
    learns to start from nothing on any text, as it must on a seed.
    """

    def __init__(self, data: torch.Tensor, batch_size: int, seq_len: int, rng_seed: int,
                 device: torch.device | str | None = None, rows: slice = slice(None), reset_prob: float = 0.0) -> None:
        super().__init__(data, batch_size, seq_len, rng_seed, device, rows)
        self.reset_prob = reset_prob
        self.positions = self._random_starts(batch_size)
        self.fresh = torch.ones(batch_size, dtype=torch.bool)

    def _random_starts(self, n: int) -> torch.Tensor:
        return torch.randint(self.data.numel() - self.seq_len - 1, (n,), generator=self.generator)

    def next(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x, y = self._gather(self.positions)
        if self.reset_prob > 0:  # no draw at 0: runs from before resets existed continue with the same batches
            self.fresh |= torch.rand(self.batch_size, generator=self.generator) < self.reset_prob
        fresh = self.fresh[self.rows].clone()
        self.positions = self.positions + self.seq_len
        ended = self.positions + self.seq_len + 1 > self.data.numel()
        self.positions[ended] = self._random_starts(int(ended.sum()))
        self.fresh = ended
        return x, y, fresh

    def state_dict(self) -> dict:
        return {**super().state_dict(), "positions": self.positions.clone(), "fresh": self.fresh.clone()}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.positions, self.fresh = state["positions"].clone(), state["fresh"].clone()
