"""Torch's intra-op threads in the app: one for the GUI thread, all of them for the training thread.

PyTorch's CPU kernels run on an OpenMP team owned by the thread that calls them, and libgomp keeps its
workers spinning between two parallel regions only while it manages no more threads than there are cores.
Once the GUI thread owns a team of its own (it did as soon as the Results views ran a convolution on it:
feature maps, the draw pad), the training thread's workers went to sleep after every op and each op paid a
wake-up: runs after the first trained at about 0.6-0.75x of the same ``fit`` in a script
(``bench/bench_training_ui.py``). Kept to one intra-op thread, the GUI thread never makes a team; its
torch work is one image at a time (a prediction, feature maps, building a model) and does not need one.
"""
from __future__ import annotations

_saved: int | None = None
_holders = 0


def reserve_cores_for_training() -> int:
    """Limit torch on the calling (GUI) thread to one intra-op thread; returns the count training threads
    should use (torch's default: the physical cores, or ``OMP_NUM_THREADS``).

    Call it on the GUI thread before it runs torch ops (each main window does, once); the training thread
    then calls `use_training_threads` with the returned count. `release_cores` undoes it when the last
    caller releases (the last window closes).
    """
    global _saved, _holders
    import torch

    if _saved is None:
        _saved = torch.get_num_threads()
        if _saved > 1:
            # OpenMP's thread count is per thread: this limits the caller; a thread started later reads the
            # global count, which `use_training_threads` sets back for itself.
            torch.set_num_threads(1)
    _holders += 1
    return _saved


def use_training_threads(n: int | None):
    """On a training thread: use ``n`` intra-op threads (None leaves torch's setting alone)."""
    if n and n > 0:
        import torch

        if torch.get_num_threads() != n:
            torch.set_num_threads(n)


def release_cores():
    """Undo one `reserve_cores_for_training`; the last one gives the GUI thread its intra-op threads back."""
    global _saved, _holders
    if _saved is None:
        return
    _holders = max(0, _holders - 1)
    if not _holders:
        import torch

        n, _saved = _saved, None
        torch.set_num_threads(n)
