"""hrta: Homotopy Relaxation Training Algorithms for wide two-layer networks (Yang, Chen, Hao 2023)."""

__all__ = ["__version__"]

__version__ = "0.1.0"
