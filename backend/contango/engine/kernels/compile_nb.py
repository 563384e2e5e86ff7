"""How the simulation kernels are compiled: cached on disk, without numba's reference counts.

The simulation kernels never allocate: every array they touch is made in Python and passed
in. Compiled without numba's runtime for allocated memory (the NRT), numba stops counting
references to those arrays. With it, every array inside the NamedTuples handed to a
function (about 70 for one bar's step) costs two atomic operations per call, which made a bar
with a fill cost a microsecond or more. A kernel that tried to allocate would fail to
compile, not leak.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from numba import njit

Kernel = TypeVar("Kernel", bound=Callable[..., object])
# ``_nrt`` is numba's switch for its memory runtime; the stubs do not list it.
_OPTIONS: dict[str, Any] = {"cache": True, "_nrt": False}


def kernel(function: Kernel) -> Kernel:
    """Compile ``function`` as a simulation kernel (cached, no reference counting)."""
    return cast(Kernel, njit(**_OPTIONS)(function))


def inline_kernel(function: Kernel) -> Kernel:
    """A small kernel inlined into its callers at numba's IR level (no call at run time)."""
    return cast(Kernel, njit(inline="always", **_OPTIONS)(function))
