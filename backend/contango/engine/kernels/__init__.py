"""Numba kernels: arrays, scalars and NamedTuples in; NumPy records out."""
