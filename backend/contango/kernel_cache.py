"""Where compiled numba kernels are cached on disk, keyed by the source of every kernel.

numba's own cache checks only the source file of the function it compiled. A kernel that calls
a function in another module keeps running the old machine code after that other module
changes (an upgrade of Contango, or an edit in a checkout): silently wrong numbers. Keying the
cache folder by a hash of all kernel modules makes any change to any of them start afresh.
"""

from __future__ import annotations

import hashlib
import os
from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def kernel_sources_digest() -> str:
    """A short hash of every ``*_nb.py`` module of the package (names and contents)."""
    digest = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*_nb.py")):
        digest.update(path.relative_to(_PACKAGE).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@cache
def use_versioned_cache() -> Path:
    """Point numba's cache at a folder for this exact set of kernel sources; returns it.

    A folder named by the user in ``NUMBA_CACHE_DIR`` is kept as the base; by default the
    cache sits in the package's ``__pycache__``, where numba would have put it.
    """
    import numba

    base = Path(os.environ.get("NUMBA_CACHE_DIR") or _PACKAGE / "__pycache__")
    folder = base / f"kernels-{kernel_sources_digest()}"
    # Read by numba each time a cached kernel is defined; numba sets its config names at run time.
    numba.config.CACHE_DIR = str(folder)  # type: ignore[attr-defined]
    return folder
