"""A finished job leaves its process group, so that no process exits still in one."""

from __future__ import annotations

import torch.distributed as dist

from modeling.processes import leave_processes


def test_leave_processes_destroys_the_group_once_and_is_safe_without_one(tmp_path):
    store = dist.FileStore(str(tmp_path / "store"), 1)
    dist.init_process_group("gloo", store=store, rank=0, world_size=1)
    try:
        assert dist.is_initialized()
        leave_processes()
        assert not dist.is_initialized()
        leave_processes()  # no group: nothing to leave, no error
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
