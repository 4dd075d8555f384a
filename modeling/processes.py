"""The processes of a run, as Accelerate joins them."""

from __future__ import annotations

import os

import torch.distributed as dist
from accelerate import PartialState
from accelerate.utils import parse_flag_from_env

from dataprep.cli import UsageError


def joined_processes() -> PartialState:
    """Accelerate's process state; raises if a launcher started processes it did not join.

    Only the Accelerator reads ACCELERATE_USE_CPU, and the first state made fixes all later
    ones: read here too, so that a state made before the Accelerator joins CPU processes
    started by torchrun. Without it each of them would run the whole job alone.
    """
    state = PartialState(cpu=parse_flag_from_env("ACCELERATE_USE_CPU"))
    launched = int(os.environ.get("WORLD_SIZE", state.num_processes))
    if launched != state.num_processes:
        raise UsageError(
            f"{launched} processes were launched but Accelerate joined {state.num_processes}: "
            "on CPUs, set ACCELERATE_USE_CPU=true (Accelerate's multi-CPU mode)"
        )
    return state


def leave_processes() -> None:
    """Leave the process group of a finished run, if this process joined one.

    A process that exits still in a gloo group can abort while the interpreter tears down its
    worker threads (SIGABRT, "terminate called without an active exception"): the job fails
    after its work is done, now and then. Call it in every process once the collectives are
    over, on the way out of a job that succeeded (leaving during another's collective could
    hang it).
    """
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
