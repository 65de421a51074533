"""Data-parallel training under torchrun: torch.distributed with DistributedDataParallel.

``torchrun --nproc_per_node=N -m shakes_tui.engine train ...`` starts N processes; each joins the group (gloo on the
CPU, NCCL on CUDA, one GPU per process), takes rows rank::N of the global batch drawn from one shared
generator, and DDP averages the gradients, so with dropout 0 a step equals one process's step on the same
global batch. Only rank 0 writes the run directory. Without torchrun the world is this one process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from shakes_tui.engine.errors import ShakesError


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def rows(self) -> slice:
        """This rank's rows of a global batch."""
        return slice(self.rank, None, self.size)


def launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def join(device: str) -> World:
    """Join the process group torchrun set up (gloo on the CPU, NCCL on CUDA); a no-op without torchrun."""
    if not launched_by_torchrun() or dist.is_initialized():
        return current()
    cuda = device == "cuda" or (device == "auto" and torch.cuda.is_available())
    if cuda:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group("nccl" if cuda else "gloo")
    return current()


def current() -> World:
    if not dist.is_available() or not dist.is_initialized():
        return World()
    return World(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", dist.get_rank())))


def leave(together: bool = False) -> None:
    """Leave the group; ``together`` (after a run that ended normally on every rank) waits for the others first,
    so no rank tears down its side of the group while another still uses it (seen: a rank that finished first
    aborted at exit, 'terminate called without an active exception')."""
    if dist.is_available() and dist.is_initialized():
        if together:
            dist.barrier()
        dist.destroy_process_group()


def local_device(device: torch.device, world: World) -> torch.device:
    """Each rank on a CUDA machine trains on its own GPU."""
    return torch.device("cuda", world.local_rank) if device.type == "cuda" and world.size > 1 else device


def checked_world(batch_size: int) -> World:
    """This process's world, once the global batch is known to divide among its processes."""
    world = current()
    if batch_size % world.size:
        raise ShakesError(f"--batch-size {batch_size} is the global batch: it must divide among {world.size} "
                          "processes")
    return world


def wrap(model: torch.nn.Module, device: torch.device, world: World) -> torch.nn.Module:
    """The model in DistributedDataParallel when there is more than one process, else itself."""
    if world.size == 1:
        return model
    return torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda"
                                                     else None)


def agree(values: list[float], world: World, device: torch.device) -> list[float]:
    """The largest of each value across ranks (clocks, stop flags), so every rank takes the same decision."""
    if world.size == 1:
        return values
    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return tensor.tolist()


def mean(value: torch.Tensor, world: World) -> torch.Tensor:
    """The mean of a scalar across ranks: the loss of the whole global batch."""
    if world.size == 1:
        return value
    value = value.detach().clone()
    dist.all_reduce(value, op=dist.ReduceOp.SUM)
    return value / world.size
