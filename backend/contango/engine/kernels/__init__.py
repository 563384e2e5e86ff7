"""Numba kernels: arrays, scalars and NamedTuples in; NumPy records out."""

from contango.kernel_cache import use_versioned_cache

use_versioned_cache()
