"""Neural tangent kernels of homotopy networks: infinite-width (analytic), finite-width (empirical),
their spectra, and the loss curve of linearized full-batch gradient descent.

Conventions (see the project contract):

* Two-layer NTK-parameterized net f(x) = (1/√m) Σ_k a_k σ_s(w_k·x), w_k ~ N(0, I_d), a_k ~ N(0, 1).
* NTK over the *trained* parameters, Θ(x, x') = Σ_p ∂f(x)/∂θ_p · ∂f(x')/∂θ_p. As m → ∞::

      Θ_s(x, x') = E[σ_s(u) σ_s(v)]  +  (x·x') · E[σ_s'(u) σ_s'(v)],
                   (output layer a)       (first layer W)

  with (u, v) ~ N(0, [[|x|², x·x'], [x·x', |x'|²]]). ``layers="first"`` keeps only the second term
  (output layer frozen, the Du et al. setting).
* Loss L = (1/(2n)) ‖r‖², r = f(X) − y; linearized GD is r ← (I − lr·K/n) r, so the eigenvalues that
  matter are those of K/n.

The two Gaussian expectations are the *dual kernels* of σ_s and σ_s'. For the ReLU base,
σ_s(z) = (1 − s/2)·z + (s/2)·|z| and σ_s'(z) = (1 − s/2) + (s/2)·sign z, the cross terms
E[u|v|], E[sign u] vanish by the symmetry (u, v) → (−u, −v), and with θ the angle between x, x'::

    E[σ_s'σ_s'] = (1 − s/2)² + (s/2)² (1 − 2θ/π)                       (E[sign u sign v] = 1 − 2θ/π)
    E[σ_s σ_s]  = |x||x'| [(1 − s/2)² cos θ + (s/2)² (2/π)(sin θ + (π/2 − θ) cos θ)]
                                                            (E[|u||v|]: arc-cosine kernel of degree 1)
"""

from hrta.sizes import DEFAULT_QUADRATURE_NODES, WIDTH_CHUNK

from ._dual import DUAL_KERNEL_METHODS, LAYERS, pairwise_angles
from .analytic import analytic_cross_ntk, analytic_ntk, analytic_ntks, dual_kernels, relu_analytic_ntks
from .deep import KERNELS, deep_analytic_ntk, deep_analytic_ntks, deep_empirical_ntk, relative_kernel_error
from .empirical import ReluGrams, empirical_ntk, jacobian_ntk, relu_kernel_grams, two_layer_ntk
from .predict import (
    Spectrum,
    gd_loss_factor,
    predict_lazy_loss_curve,
    predict_loss_curve,
    predict_schedule_loss,
    spectrum,
)

__all__ = [
    "DEFAULT_QUADRATURE_NODES",
    "DUAL_KERNEL_METHODS",
    "KERNELS",
    "LAYERS",
    "ReluGrams",
    "Spectrum",
    "WIDTH_CHUNK",
    "analytic_cross_ntk",
    "analytic_ntk",
    "analytic_ntks",
    "deep_analytic_ntk",
    "deep_analytic_ntks",
    "deep_empirical_ntk",
    "dual_kernels",
    "empirical_ntk",
    "gd_loss_factor",
    "jacobian_ntk",
    "pairwise_angles",
    "predict_lazy_loss_curve",
    "predict_loss_curve",
    "predict_schedule_loss",
    "relative_kernel_error",
    "relu_analytic_ntks",
    "relu_kernel_grams",
    "spectrum",
    "two_layer_ntk",
]
