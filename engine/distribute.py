"""Training on several processes: ``fit``, ``evaluate`` and ``predict`` under ``torchrun``.

We do not invent a distribution layer: PyTorch's own (``torch.distributed``,
``DistributedDataParallel``, ``torchrun``) does the work. A script that trains on one process runs
unchanged on several::

    python train.py                              # one process
    torchrun --nproc_per_node=4 train.py         # four processes (GPUs, or CPU cores with gloo)

When ``torchrun`` (or any launcher that sets ``WORLD_SIZE``, ``RANK``, ``MASTER_ADDR`` and
``MASTER_PORT``) starts the script, the first ``fit``/``evaluate``/``predict`` starts the process
group (NCCL on GPUs, gloo on CPUs) unless the script already did. Then:

- the model trains wrapped in ``DistributedDataParallel`` (gradients averaged across processes) and
  every ``BatchNormalization`` computes its statistics over the whole global batch;
- ``batch_size`` stays the *global* batch: each global batch (the same shuffled order on every
  process, taken from rank 0) is split across the processes, rank ``r`` taking samples
  ``r, r + N, r + 2N, ...`` of it, and the loss is weighted so that the gradient is that of the
  global batch's mean loss. Results therefore do not depend on the number of processes beyond
  floating-point noise (dropout masks aside: each process draws its own);
- the loss and metrics in the logs and the ``History`` are reduced over all processes, so they
  describe the whole data set, and callbacks see the same values on every process;
- only rank 0 prints progress and messages and writes files (``model.save``, ``save_weights``,
  ``ModelCheckpoint``, ``CSVLogger``); ``predict`` returns all predictions on every process.

Arrays, ``Sequence`` objects and generators are all split by samples within each batch: a
``Sequence`` item is read on every process (in the same order), and a Python generator must yield
the same batches on every process. ``train_on_batch``/``test_on_batch`` take a global batch too, split
the same way (every process passes the same batch).

``set_enabled(False)`` keeps every process training on its own, as if alone; ``initialize()`` starts
the group explicitly (e.g. with a chosen backend or timeout).
"""
from __future__ import annotations

import atexit
import contextlib
import datetime
import os
import time
import weakref

import torch
import torch.distributed as dist

_ENABLED = True
_STARTED_HERE = False


def _dist():
    return dist


def launched() -> bool:
    """Whether the environment says a launcher (torchrun) started several processes."""
    try:
        return int(os.environ.get("WORLD_SIZE", "1")) > 1
    except ValueError:
        return False


def set_enabled(enabled: bool) -> None:
    """Turn distributed training on (the default) or off for this process."""
    global _ENABLED
    _ENABLED = bool(enabled)


def initialize(backend: str | None = None, timeout_s: float = 1800.0) -> bool:
    """Start the process group from torchrun's environment if it is not started yet.

    Returns whether training is distributed (a group of more than one process). ``backend`` is
    "nccl" or "gloo"; by default NCCL when CUDA is present, gloo otherwise.
    """
    global _STARTED_HERE
    if not _ENABLED or not torch.distributed.is_available():
        return False
    dist = _dist()
    if not dist.is_initialized():
        if not launched():
            return False
        missing = [k for k in ("RANK", "MASTER_ADDR", "MASTER_PORT") if k not in os.environ]
        if missing:
            raise RuntimeError(f"WORLD_SIZE={os.environ['WORLD_SIZE']} asks for distributed training but "
                               f"{', '.join(missing)} are not set. Start the script with torchrun "
                               "(torchrun --nproc_per_node=N train.py).")
        if backend is None:
            backend = "nccl" if torch.cuda.is_available() and dist.is_nccl_available() else "gloo"
        if backend == "nccl":
            torch.cuda.set_device(local_rank() % torch.cuda.device_count())
        dist.init_process_group(backend=backend, timeout=datetime.timedelta(seconds=timeout_s))
        _STARTED_HERE = True
    return dist.get_world_size() > 1


def is_distributed() -> bool:
    """Whether fit/evaluate/predict split work across processes (starting the group if needed)."""
    return initialize()


def _active() -> bool:
    # Cheap check that never starts anything: for code that runs at every print or save.
    if not _ENABLED or not torch.distributed.is_available():
        return False
    dist = _dist()
    return dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    """This process's rank (0 when not distributed)."""
    if _active():
        return _dist().get_rank()
    return 0 if not launched() else int(os.environ.get("RANK", "0"))


def world_size() -> int:
    """The number of processes (1 when not distributed)."""
    if _active():
        return _dist().get_world_size()
    return 1 if not launched() else int(os.environ.get("WORLD_SIZE", "1"))


def local_rank() -> int:
    """This process's rank on its machine (torchrun's LOCAL_RANK; 0 when not distributed)."""
    try:
        return int(os.environ.get("LOCAL_RANK", "0"))
    except ValueError:
        return 0


def is_chief() -> bool:
    """True on the process that prints and writes files: rank 0, or the only process."""
    return rank() == 0


def barrier() -> None:
    """Wait until every process gets here (nothing when not distributed)."""
    if _active():
        _dist().barrier()


# Models that keep a DistributedDataParallel wrapper between calls (train_on_batch's, in the attribute
# named here). The wrappers go before the process group does, and at exit before the interpreter tears
# objects down in no set order: a wrapper outliving its group's threads aborts the process.
_HOLDERS: "weakref.WeakSet" = weakref.WeakSet()
WRAPPER_ATTR = "_batch_ddp_cache"


def hold_wrapper(model) -> None:
    """Note that ``model`` keeps a DistributedDataParallel wrapper in ``model.<WRAPPER_ATTR>``."""
    _HOLDERS.add(model)


def drop_wrappers() -> None:
    """Free every kept DistributedDataParallel wrapper (called by `shutdown` and at exit)."""
    for model in list(_HOLDERS):
        model.__dict__.pop(WRAPPER_ATTR, None)
    _HOLDERS.clear()


def shutdown() -> None:
    """Free the kept wrappers, then close the process group if this module started it (also at exit)."""
    global _STARTED_HERE
    drop_wrappers()
    if _STARTED_HERE and torch.distributed.is_available() and _dist().is_initialized():
        _dist().destroy_process_group()
    _STARTED_HERE = False


def _at_exit() -> None:
    """Let a script that never heard of the group it trained in end cleanly.

    Gloo's worker threads release each finished collective's tensors after the caller has its result, and
    that release needs the GIL. If the interpreter is already finalizing by then, the thread is unwound
    inside a destructor and the process aborts ("terminate called without an active exception", exit code
    -6, about one run in three of a script whose last step is a collective). Closing the group does not
    always stop those threads (once a DistributedDataParallel existed, torch keeps the group alive), so the
    GIL is also released for a moment for them to finish.
    """
    was_used = torch.distributed.is_available() and _dist().is_initialized()
    shutdown()
    if was_used:
        time.sleep(0.05)


atexit.register(_at_exit)


def default_cuda_device():
    """The GPU this process should use: cuda:LOCAL_RANK under a launcher, else None (the default)."""
    if launched() and _ENABLED and torch.cuda.is_available():
        return torch.device("cuda", local_rank() % torch.cuda.device_count())
    return None


# ---------------------------------------------------------------------------------------------------
# what the training loop uses
# ---------------------------------------------------------------------------------------------------
class Context:
    """One fit/evaluate/predict's view of the process group."""

    def __init__(self):
        dist = _dist()
        self.rank = dist.get_rank()
        self.world = dist.get_world_size()
        self.backend = dist.get_backend()

    def _comm_device(self, t):
        # NCCL only moves GPU tensors; gloo takes CPU ones (and CUDA ones for a few ops).
        if self.backend == "nccl" and t.device.type != "cuda":
            return torch.device("cuda", torch.cuda.current_device())
        if self.backend != "nccl" and t.device.type != "cpu":
            return torch.device("cpu")
        return t.device

    def all_reduce_sum(self, t: torch.Tensor) -> torch.Tensor:
        """The sum over processes of ``t`` (a new tensor on ``t``'s device)."""
        dev = self._comm_device(t)
        buf = t.detach().to(dev, copy=True)
        _dist().all_reduce(buf)
        return buf.to(t.device)

    def broadcast(self, t: torch.Tensor) -> torch.Tensor:
        """Rank 0's ``t`` on every process."""
        dev = self._comm_device(t)
        buf = t.detach().to(dev, copy=True).contiguous()
        _dist().broadcast(buf, 0)
        return buf.to(t.device)

    def all_gather(self, t: torch.Tensor) -> list[torch.Tensor]:
        """Every process's ``t`` (same shape everywhere), in rank order."""
        dev = self._comm_device(t)
        buf = t.detach().to(dev).contiguous()
        parts = [torch.empty_like(buf) for _ in range(self.world)]
        _dist().all_gather(parts, buf)
        return [p.to(t.device) for p in parts]

    def any(self, flag: bool, device) -> bool:
        """True on every process when ``flag`` is true on one of them."""
        t = torch.tensor([1.0 if flag else 0.0], dtype=torch.float64, device=device)
        return bool(self.all_reduce_sum(t).item() > 0)


def context() -> Context | None:
    """A ``Context`` when this process is one of several (starting the group if needed), else None."""
    return Context() if is_distributed() else None


# Set by the training loop around a distributed training step: BatchNormalization layers then
# compute their statistics over the global batch. ``weight`` is 0.0 on a process whose share of a
# (small, last) global batch is empty and that runs a stand-in sample only to take part.
_SYNC_BN = None


class _SyncBN:
    def __init__(self, weight):
        self.weight = weight


@contextlib.contextmanager
def sync_batch_statistics(weight=1.0):
    global _SYNC_BN
    previous, _SYNC_BN = _SYNC_BN, _SYNC_BN if weight is None else _SyncBN(float(weight))
    try:
        yield
    finally:
        _SYNC_BN = previous


def batch_statistics_sync():
    """The current synchronisation of batch statistics, or None (single process, or not training)."""
    return _SYNC_BN


# Set by fit around a custom train_step under torchrun: Optimizer.apply then replaces each process's
# gradients by the global batch's (each process's weighted by its share of the global batch, summed).
_GRAD_SYNC = None


class _GradSync:
    def __init__(self, ctx, weight):
        self.ctx, self.weight = ctx, float(weight)

    def __call__(self, grads, variables):
        """The global batch's gradients from this process's ``grads`` (one per variable; None counts as 0)."""
        local = [torch.zeros_like(v) if g is None else g for g, v in zip(grads, variables)]
        # A process whose share of a small last batch is empty ran a stand-in sample: it adds zeros.
        local = [torch.nan_to_num(g * self.weight) if self.weight == 0.0 else g * self.weight for g in local]
        if local and all(g.dtype == local[0].dtype and g.device == local[0].device for g in local):
            flat = self.ctx.all_reduce_sum(torch.cat([g.reshape(-1) for g in local]))
            out, start = [], 0
            for g in local:
                out.append(flat[start:start + g.numel()].view_as(g))
                start += g.numel()
        else:
            out = [self.ctx.all_reduce_sum(g) for g in local]
        return out


@contextlib.contextmanager
def sync_custom_step_gradients(ctx, weight):
    """Within: ``Optimizer.apply`` averages gradients over the processes (this one's weighted by ``weight``,
    its share of the global batch), so that a custom ``train_step`` trains as on one process."""
    global _GRAD_SYNC
    previous, _GRAD_SYNC = _GRAD_SYNC, _GradSync(ctx, weight)
    try:
        yield
    finally:
        _GRAD_SYNC = previous


def custom_step_gradient_sync():
    """The gradient synchronisation of the running custom train_step, or None."""
    return _GRAD_SYNC


class _AllReduceSum(torch.autograd.Function):
    # The gradient of a sum over processes is the sum over processes of the gradients.
    @staticmethod
    def forward(ctx, t):
        out = t.detach().clone().contiguous()
        _dist().all_reduce(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out = grad.detach().clone().contiguous()
        _dist().all_reduce(out)
        return out


def all_reduce_with_grad(t: torch.Tensor) -> torch.Tensor:
    """Sum over processes that gradients flow through (for batch statistics)."""
    return _AllReduceSum.apply(t)
