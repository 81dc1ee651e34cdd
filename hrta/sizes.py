"""Sizes and constants shared by the library and the pipeline's cost models: one definition, torch-free.

The library (hrta.models, hrta.ntk, hrta.activations) and the estimates (hrta.pipeline.memory,
hrta.pipeline.runtime) import these, so an estimate always counts the block sizes the code uses.
"""

from __future__ import annotations

__all__ = [
    "ANGLE_TEMPORARIES",
    "DEFAULT_QUADRATURE_NODES",
    "FAST_BLOCK_BYTES",
    "ITEMSIZE",
    "MB",
    "PAIR_BLOCK_ELEMENTS",
    "WIDTH_CHUNK",
]

#: Bytes of the cache-sized column block of TwoLayerNet.loss_and_grad's ReLU path on the CPU.
FAST_BLOCK_BYTES = 4 << 20
#: Gauss–Hermite nodes of the quadrature dual kernels (non-ReLU bases).
DEFAULT_QUADRATURE_NODES = 96
#: Width chunk of the empirical NTK and the ReLU kernel grams (hrta.ntk.relu_kernel_grams).
WIDTH_CHUNK = 2048
#: Elements of one row block of the pairwise (n×n×work) temporaries in the analytic kernels.
PAIR_BLOCK_ELEMENTS = 1 << 22
#: n×n temporaries alive at once in the pairwise-angle computation.
ANGLE_TEMPORARIES = 4

MB = 1 << 20
ITEMSIZE = {"float32": 4, "float64": 8}
