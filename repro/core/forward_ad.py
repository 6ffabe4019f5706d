"""Forward-mode AD without a deprecation warning on the user's screen.

torch's forward-mode AD (``torch.func.jvp``, ``jacfwd``) imports ``torch._decomp.decompositions_for_jvp``
on its first call; that module registers decompositions for the TorchScript executor through
``torch.jit.script``, which this torch marks deprecated (a FutureWarning printed by every KernelNet run).
Nothing here runs TorchScript: :func:`ready` imports that module once with that one warning silenced,
before the first forward-mode call. Other warnings pass.
"""
from __future__ import annotations

import warnings
from functools import cache


@cache
def ready() -> None:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"`torch\.jit\.script` is", category=FutureWarning)
        import torch._decomp.decompositions_for_jvp  # noqa: F401
