"""Gaussian-process regression on the unit box, on numpy and scipy only.

* :func:`matern52` is the ARD Matérn-5/2 kernel; :func:`matern52_gradients` its derivatives
  with respect to the log-hyperparameters.
* :class:`HyperPrior` holds the priors of the hyperparameters (log-normal lengthscales and
  signal variance, gamma noise variance); :func:`fit_hyperparameters` finds their
  maximum-a-posteriori values by L-BFGS-B with analytic gradients, from several starts.
* :class:`GaussianProcess` is the posterior given data and hyperparameters: mean and latent
  variance at new points, with their gradients with respect to those points.
* :func:`log_h`, :func:`log_expected_improvement` and friends are the acquisition functions,
  written to stay finite and accurate far in the tails.

The model is the standard one of Rasmussen and Williams, "Gaussian Processes for Machine
Learning", MIT Press 2006 (chapters 2 and 5). The outputs are expected standardized (mean 0,
variance about 1), so the prior mean is 0.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np
import scipy.linalg  # type: ignore[import-untyped]
import scipy.optimize  # type: ignore[import-untyped]
import scipy.special  # type: ignore[import-untyped]
from scipy.spatial.distance import cdist  # type: ignore[import-untyped]

__all__ = [
    "GaussianProcess",
    "HyperPrior",
    "Hyperparameters",
    "expand_lengthscales",
    "fit_hyperparameters",
    "log_expected_improvement",
    "log_h",
    "log_probability_of_improvement",
    "matern52",
    "matern52_gradients",
    "negative_log_posterior",
    "robust_cholesky",
]

_SQRT5 = math.sqrt(5.0)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_HALF_LOG_PI_OVER_2 = 0.5 * math.log(math.pi / 2.0)

# Bounds of the log-hyperparameters during fitting. Inputs live in [0, 1]^d and outputs are
# standardized, so lengthscales far outside [0.005, 200] or variances outside these ranges only
# arise from degenerate data, and the bounds keep the kernel matrix well conditioned.
_LOG_LENGTHSCALE_BOUNDS = (math.log(5e-3), math.log(2e2))
_LOG_SIGNAL_BOUNDS = (math.log(1e-2), math.log(1e2))
_LOG_NOISE_BOUNDS = (math.log(1e-6), math.log(2.0))


# The kernel


def _scaled_sqdist(x1: np.ndarray, x2: np.ndarray, lengthscales: np.ndarray) -> np.ndarray:
    return np.asarray(cdist(x1 / lengthscales, x2 / lengthscales, "sqeuclidean"))


def matern52(
    x1: np.ndarray, x2: np.ndarray, lengthscales: np.ndarray, signal_variance: float
) -> np.ndarray:
    """The ARD Matérn-5/2 kernel matrix between the rows of ``x1`` and ``x2``.

    ``k(r) = s (1 + sqrt(5) r + 5 r^2 / 3) exp(-sqrt(5) r)``, where ``r`` is the distance after
    dividing each coordinate by its lengthscale and ``s`` the signal variance.
    """
    return _matern52_of_sqdist(_scaled_sqdist(x1, x2, lengthscales), signal_variance)


def _matern52_of_sqdist(sqdist: np.ndarray, signal_variance: float) -> np.ndarray:
    root5r = _SQRT5 * np.sqrt(sqdist)
    return np.asarray(signal_variance * (1.0 + root5r + (5.0 / 3.0) * sqdist) * np.exp(-root5r))


def _matern52_slope(sqdist: np.ndarray, signal_variance: float) -> np.ndarray:
    """``-dk/d(r^2) * 2``, the factor shared by every derivative of the kernel.

    ``dk/dr = -(5/3) s r (1 + sqrt(5) r) exp(-sqrt(5) r)``, so the derivatives with respect to
    ``log l_j`` and ``x_j`` carry ``(5/3) s (1 + sqrt(5) r) exp(-sqrt(5) r)`` with no division
    by ``r``: they stay finite where two points coincide.
    """
    root5r = _SQRT5 * np.sqrt(sqdist)
    return np.asarray((5.0 / 3.0) * signal_variance * (1.0 + root5r) * np.exp(-root5r))


def _matern52_and_slope(
    sqdist: np.ndarray, signal_variance: float
) -> tuple[np.ndarray, np.ndarray]:
    """The kernel and :func:`_matern52_slope` at once, sharing the square root and exponential."""
    root5r = np.sqrt(sqdist)
    root5r *= _SQRT5
    decay = np.exp(-root5r)
    decay *= signal_variance
    slope = (1.0 + root5r) * decay
    kernel = slope + (5.0 / 3.0) * sqdist * decay
    slope *= 5.0 / 3.0
    return kernel, slope


def matern52_gradients(
    x: np.ndarray, lengthscales: np.ndarray, signal_variance: float
) -> tuple[np.ndarray, np.ndarray]:
    """The kernel matrix of ``x`` and its derivatives with respect to the log-hyperparameters.

    Returns:
        ``K`` of shape ``(n, n)`` and ``dK`` of shape ``(d + 1, n, n)``: ``dK[j]`` is the
        derivative with respect to ``log lengthscales[j]`` for ``j < d`` and ``dK[d]`` the one
        with respect to ``log signal_variance``. Meant for tests and small problems; the
        fitting code never forms ``dK``.
    """
    sqdist = _scaled_sqdist(x, x, lengthscales)
    kernel = _matern52_of_sqdist(sqdist, signal_variance)
    slope = _matern52_slope(sqdist, signal_variance)
    scaled = x / lengthscales
    per_dim = (scaled[:, None, :] - scaled[None, :, :]) ** 2
    d_lengthscales = np.moveaxis(slope[:, :, None] * per_dim, 2, 0)
    return kernel, np.concatenate([d_lengthscales, kernel[None]], axis=0)


def robust_cholesky(matrix: np.ndarray) -> tuple[np.ndarray, float]:
    """The lower Cholesky factor of a symmetric matrix, adding jitter until it succeeds.

    The jitter starts at ``1e-10`` of the mean diagonal and grows tenfold up to ``1e-2`` of it,
    which covers kernel matrices of nearly repeated points.

    Returns:
        The factor and the jitter that was added to the diagonal (0 when none was needed).

    Raises:
        numpy.linalg.LinAlgError: the matrix is not positive definite even with the largest
            jitter (it has NaN entries, say).
    """
    scale = float(np.mean(np.diag(matrix)))
    if not math.isfinite(scale) or scale <= 0.0:
        scale = 1.0
    jitter = 0.0
    for exponent in [None, *range(-10, -1)]:
        if exponent is not None:
            jitter = scale * 10.0**exponent
        try:
            factor = scipy.linalg.cholesky(
                matrix + jitter * np.eye(len(matrix)), lower=True, check_finite=False
            )
        except np.linalg.LinAlgError:
            continue
        if np.all(np.isfinite(factor)):
            return np.asarray(factor), jitter
    raise np.linalg.LinAlgError(
        f"matrix of size {len(matrix)} is not positive definite, even with jitter {jitter:.3g}"
    )


# Hyperparameters and their priors


@dataclasses.dataclass(frozen=True)
class Hyperparameters:
    """The kernel's lengthscales and signal variance, and the noise variance."""

    lengthscales: np.ndarray
    signal_variance: float
    noise_variance: float

    def to_vector(self) -> np.ndarray:
        """The log-hyperparameters as one vector, lengthscales first."""
        values = np.concatenate([self.lengthscales, [self.signal_variance, self.noise_variance]])
        return np.asarray(np.log(values))

    @classmethod
    def from_vector(cls, theta: np.ndarray) -> Hyperparameters:
        """Read back a vector made by :meth:`to_vector`."""
        values = np.exp(np.asarray(theta, dtype=float))
        return cls(values[:-2].copy(), float(values[-2]), float(values[-1]))


@dataclasses.dataclass(frozen=True)
class HyperPrior:
    """Priors of the hyperparameters, as densities of the hyperparameters themselves.

    Lengthscales are log-normal, the signal variance log-normal around 1 (outputs are
    standardized) and the noise variance gamma-distributed, which favours little noise
    without forbidding it. The maximum a posteriori point is taken in the hyperparameters
    themselves, so a log-normal's density peaks at ``exp(loc - scale^2)``.

    Args:
        lengthscale_loc: Mean of ``log lengthscale``.
        lengthscale_scale: Standard deviation of ``log lengthscale``.
        signal_loc: Mean of ``log signal_variance``.
        signal_scale: Standard deviation of ``log signal_variance``.
        noise_shape: Shape of the gamma prior on the noise variance.
        noise_rate: Rate of the gamma prior on the noise variance.
    """

    lengthscale_loc: float
    lengthscale_scale: float
    signal_loc: float = 0.0
    signal_scale: float = 1.0
    noise_shape: float = 1.1
    noise_rate: float = 20.0

    @classmethod
    def for_dimension(cls, dim: int) -> HyperPrior:
        """The default prior for inputs of ``dim`` coordinates.

        ``log lengthscale ~ Normal(log sqrt(dim), 1)``: the median lengthscale grows like
        ``sqrt(dim)``, since distances in ``[0, 1]^dim`` do, as Hvarfner, Hellsten and Nardi
        argue ("Vanilla Bayesian Optimization Performs Great in High Dimensions", ICML
        2024). Their offset and spread (``sqrt(2)`` and ``sqrt(3)``) favour smoother models
        than 2- to 6-dimensional problems want: on Hartmann-6 they found the optimum less
        often than this prior. The signal variance has ``log ~ Normal(0, 1)``, the noise
        variance ``Gamma(1.1, rate=20)`` (mean 0.055 of the outputs' variance).
        """
        return cls(lengthscale_loc=0.5 * math.log(max(dim, 1)), lengthscale_scale=1.0)

    def mode(self, dim: int) -> np.ndarray:
        """The log-hyperparameters at the prior's mode (a natural first start for fitting)."""
        log_lengthscale = self.lengthscale_loc - self.lengthscale_scale**2
        log_signal = self.signal_loc - self.signal_scale**2
        log_noise = math.log(max(self.noise_shape - 1.0, 1e-3) / self.noise_rate)
        return _clip_theta(np.array([log_lengthscale] * dim + [log_signal, log_noise]))

    def sample(self, rng: np.random.Generator, dim: int) -> np.ndarray:
        """Log-hyperparameters drawn from the prior (for random restarts)."""
        log_lengthscales = rng.normal(self.lengthscale_loc, self.lengthscale_scale, dim)
        log_signal = rng.normal(self.signal_loc, self.signal_scale)
        log_noise = math.log(rng.gamma(self.noise_shape, 1.0 / self.noise_rate) + 1e-12)
        return _clip_theta(np.concatenate([log_lengthscales, [log_signal, log_noise]]))

    def negative_log_density(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """``-log p`` at log-hyperparameters ``theta`` (up to a constant) and its gradient."""
        log_lengthscales, log_signal, log_noise = theta[:-2], theta[-2], theta[-1]
        value, gradient = 0.0, np.zeros_like(theta)

        # Log-normal density of l: (log l - loc)^2 / (2 scale^2) + log l.
        z = (log_lengthscales - self.lengthscale_loc) / self.lengthscale_scale
        value += float(np.sum(0.5 * z**2 + log_lengthscales))
        gradient[:-2] = z / self.lengthscale_scale + 1.0

        z_signal = (log_signal - self.signal_loc) / self.signal_scale
        value += 0.5 * z_signal**2 + log_signal
        gradient[-2] = z_signal / self.signal_scale + 1.0

        # Gamma density of v: -(shape - 1) log v + rate v.
        noise = math.exp(log_noise)
        value += -(self.noise_shape - 1.0) * log_noise + self.noise_rate * noise
        gradient[-1] = -(self.noise_shape - 1.0) + self.noise_rate * noise
        return float(value), gradient


def _theta_bounds(dim: int) -> list[tuple[float, float]]:
    return [_LOG_LENGTHSCALE_BOUNDS] * dim + [_LOG_SIGNAL_BOUNDS, _LOG_NOISE_BOUNDS]


def _clip_theta(theta: np.ndarray) -> np.ndarray:
    bounds = np.array(_theta_bounds(len(theta) - 2))
    return np.asarray(np.clip(theta, bounds[:, 0], bounds[:, 1]))


# Fitting


def negative_log_posterior(
    theta: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    prior: HyperPrior,
    groups: np.ndarray | None = None,
) -> tuple[float, np.ndarray]:
    """``-log p(y | x, theta) - log p(theta)`` and its gradient with respect to ``theta``.

    ``theta`` holds the log-hyperparameters (see :meth:`Hyperparameters.to_vector`), with one
    lengthscale per group of input columns when ``groups`` is given (see
    :func:`expand_lengthscales`). With ``W = alpha alpha^T - K^-1`` and ``alpha = K^-1 y``,
    the gradient of the negative log likelihood is ``-tr(W dK) / 2`` for each hyperparameter
    (Rasmussen and Williams, eq. 5.9). The lengthscale terms are computed from ``x`` by
    matrix products, never forming the ``(n, n, d)`` tensor of per-coordinate distances.
    """
    hyper = expand_lengthscales(Hyperparameters.from_vector(theta), groups)
    n = len(y)
    sqdist = _scaled_sqdist(x, x, hyper.lengthscales)
    kernel, slope = _matern52_and_slope(sqdist, hyper.signal_variance)
    noisy = kernel.copy()
    noisy.flat[:: n + 1] += hyper.noise_variance
    factor, _ = robust_cholesky(noisy)
    alpha = scipy.linalg.cho_solve((factor, True), y, check_finite=False)
    value = 0.5 * float(y @ alpha) + float(np.sum(np.log(np.diag(factor)))) + n * _LOG_SQRT_2PI

    weights = np.outer(alpha, alpha)
    weights -= scipy.linalg.cho_solve((factor, True), np.eye(n), check_finite=False)
    gradient = np.empty_like(theta)
    # sum_ab (W * slope)_ab (x_aj - x_bj)^2 / l_j^2, expanded, with (W * slope) symmetric.
    slope *= weights
    scaled = x / hyper.lengthscales
    row_sums = slope.sum(axis=1)
    per_dim = 2.0 * (row_sums @ scaled**2) - 2.0 * np.sum(scaled * (slope @ scaled), axis=0)
    if groups is not None:  # a shared lengthscale collects its columns' derivatives
        per_dim = np.bincount(groups, weights=per_dim, minlength=len(theta) - 2)
    gradient[:-2] = -0.5 * per_dim
    gradient[-2] = -0.5 * float(np.vdot(weights, kernel))
    gradient[-1] = -0.5 * float(np.trace(weights)) * hyper.noise_variance

    prior_value, prior_gradient = prior.negative_log_density(theta)
    return value + prior_value, gradient + prior_gradient


def expand_lengthscales(hyper: Hyperparameters, groups: np.ndarray | None) -> Hyperparameters:
    """Hyperparameters with one lengthscale per input column, from one per group.

    ``groups[j]`` is the index of the lengthscale that input column ``j`` uses. The columns
    of a one-hot encoded categorical parameter share one lengthscale: the kernel then
    depends only on whether two categories are equal, an exponentiated Hamming distance
    (as in Ru et al., "Bayesian Optimisation over Multiple Continuous and Categorical
    Inputs", ICML 2020), with one hyperparameter per parameter rather than per category.
    None means one lengthscale per column already.
    """
    if groups is None:
        return hyper
    return dataclasses.replace(hyper, lengthscales=hyper.lengthscales[groups])


def fit_hyperparameters(
    x: np.ndarray,
    y: np.ndarray,
    prior: HyperPrior,
    starts: Sequence[np.ndarray],
    *,
    groups: np.ndarray | None = None,
    max_iterations: int = 200,
) -> Hyperparameters:
    """The maximum-a-posteriori hyperparameters, by L-BFGS-B from each of ``starts``.

    Args:
        x: Inputs, one row per point, in ``[0, 1]^d``.
        y: Standardized outputs.
        prior: The priors of the hyperparameters.
        starts: Log-hyperparameter vectors to start from (the previous fit, the prior's mode,
            draws from the prior); the best end point wins. With ``groups``, they hold one
            lengthscale per group.
        groups: Which lengthscale each input column uses (see :func:`expand_lengthscales`);
            None for one per column.
        max_iterations: The iteration limit of each run.

    Returns:
        The fitted hyperparameters, one lengthscale per group (expand them with
        :func:`expand_lengthscales` for :class:`GaussianProcess`).
    """
    if not starts:
        raise ValueError("starts must hold at least one vector of log-hyperparameters; got none")
    num_lengthscales = x.shape[1] if groups is None else int(np.max(groups, initial=-1)) + 1
    bounds = _theta_bounds(num_lengthscales)
    best_theta, best_value = None, math.inf
    for start in starts:
        start = _clip_theta(np.asarray(start, dtype=float))
        if len(start) != num_lengthscales + 2:
            raise ValueError(
                f"starts must hold {num_lengthscales + 2} log-hyperparameters each; "
                f"got {len(start)}"
            )
        theta, value = _minimize(x, y, prior, start, bounds, max_iterations, groups)
        if value < best_value:
            best_theta, best_value = theta, value
    if best_theta is None:  # every run failed: keep the first start
        best_theta = _clip_theta(np.asarray(starts[0], dtype=float))
    return Hyperparameters.from_vector(best_theta)


def _minimize(
    x: np.ndarray,
    y: np.ndarray,
    prior: HyperPrior,
    start: np.ndarray,
    bounds: list[tuple[float, float]],
    max_iterations: int,
    groups: np.ndarray | None,
) -> tuple[np.ndarray, float]:
    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        try:
            value, gradient = negative_log_posterior(theta, x, y, prior, groups)
        except np.linalg.LinAlgError:
            return 1e25, np.zeros_like(theta)
        if not (math.isfinite(value) and np.all(np.isfinite(gradient))):
            return 1e25, np.zeros_like(theta)
        return value, gradient

    result = scipy.optimize.minimize(
        objective,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": max_iterations, "ftol": 1e-9},
    )
    theta = _clip_theta(np.asarray(result.x, dtype=float))
    return theta, float(objective(theta)[0])


# The posterior


class GaussianProcess:
    """The posterior of a zero-mean Gaussian process with a Matérn-5/2 kernel.

    Args:
        x: Inputs, one row per point.
        y: Outputs (standardized).
        hyperparameters: The kernel and noise hyperparameters.

    Example:
        >>> import numpy as np
        >>> x = np.array([[0.0], [0.5], [1.0]])
        >>> hyper = Hyperparameters(np.array([0.3]), 1.0, 1e-6)
        >>> gp = GaussianProcess(x, np.array([1.0, -1.0, 0.5]), hyper)
        >>> mean, variance = gp.predict(np.array([[0.5], [50.0]]))
        >>> np.round(mean, 3).tolist(), np.round(variance, 3).tolist()
        ([-1.0, 0.0], [0.0, 1.0])
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, hyperparameters: Hyperparameters) -> None:
        self.x = np.atleast_2d(np.asarray(x, dtype=float))
        self.y = np.asarray(y, dtype=float)
        self.hyperparameters = hyperparameters
        kernel = matern52(self.x, self.x, hyperparameters.lengthscales, self.signal_variance)
        noisy = kernel + hyperparameters.noise_variance * np.eye(len(self.y))
        self._factor, self.jitter = robust_cholesky(noisy)
        self._alpha = scipy.linalg.cho_solve((self._factor, True), self.y, check_finite=False)
        self.fitted_mean = kernel @ self._alpha

    @property
    def signal_variance(self) -> float:
        """The prior variance of the latent function."""
        return self.hyperparameters.signal_variance

    def predict(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The posterior mean and latent variance (noise excluded) at each row of ``points``."""
        cross = matern52(points, self.x, self.hyperparameters.lengthscales, self.signal_variance)
        mean = cross @ self._alpha
        solved = scipy.linalg.solve_triangular(
            self._factor, cross.T, lower=True, check_finite=False
        )
        variance = self.signal_variance - np.sum(solved**2, axis=0)
        return mean, np.maximum(variance, 1e-12 * self.signal_variance)

    def predict_with_gradients(
        self, points: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Mean, latent variance and their gradients with respect to ``points``.

        Returns:
            ``mean`` and ``variance`` of shape ``(m,)``, ``d_mean`` and ``d_variance`` of shape
            ``(m, d)``.
        """
        lengthscales = self.hyperparameters.lengthscales
        sqdist = _scaled_sqdist(points, self.x, lengthscales)
        cross = _matern52_of_sqdist(sqdist, self.signal_variance)
        slope = _matern52_slope(sqdist, self.signal_variance)
        mean = cross @ self._alpha
        beta = scipy.linalg.cho_solve((self._factor, True), cross.T, check_finite=False).T
        variance = self.signal_variance - np.sum(cross * beta, axis=1)

        # dk(p, x_n)/dp_j = -slope_n (p_j - x_nj) / l_j^2
        inv_sq = 1.0 / lengthscales**2
        weighted_mean = slope * self._alpha
        d_mean = -(points * weighted_mean.sum(axis=1)[:, None] - weighted_mean @ self.x) * inv_sq
        weighted_var = slope * beta
        d_variance = 2.0 * (points * weighted_var.sum(axis=1)[:, None] - weighted_var @ self.x)
        d_variance *= inv_sq
        floor = 1e-12 * self.signal_variance
        clipped = variance < floor
        d_variance[clipped] = 0.0
        return mean, np.maximum(variance, floor), d_mean, d_variance


# Acquisition functions


def log_h(z: np.ndarray) -> np.ndarray:
    """``log(z Phi(z) + phi(z))``, accurate for every finite ``z``.

    ``h(z) = z Phi(z) + phi(z)`` is the expected improvement of a standard normal over
    ``-z``; ``EI = sigma h((best - mu) / sigma)``. Computed as Ament et al. recommend
    ("Unexpected Improvements to Expected Improvement for Bayesian Optimization", NeurIPS
    2023), in three ranges:

    * ``z > -1``: directly.
    * ``-25 < z <= -1``: ``h = phi(z) (1 - |z| m(z))`` with the Mills ratio
      ``m(z) = Phi(z) / phi(z) = sqrt(pi/2) erfcx(-z / sqrt(2))``, the bracket taken as
      ``log1mexp`` of its log so that nothing underflows.
    * ``z <= -25``: the asymptotic series ``h / phi = z^-2 - 3 z^-4 + 15 z^-6 - ...``
      (ten terms; relative error below 1e-15 there).
    """
    return _log_h_and_slope(np.asarray(z, dtype=float))[0]


def _log_h_and_slope(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`log_h` and its derivative ``Phi(z) / h(z)`` (since ``h' = Phi``)."""
    value, slope = np.empty_like(z), np.empty_like(z)
    upper = z > -1.0
    middle = (z <= -1.0) & (z > -25.0)
    lower = z <= -25.0

    zu = z[upper]
    cdf = scipy.special.ndtr(zu)
    h = zu * cdf + np.exp(-0.5 * zu**2 - _LOG_SQRT_2PI)
    value[upper], slope[upper] = np.log(h), cdf / h

    zm = z[middle]
    log_mills = np.log(scipy.special.erfcx(-zm / math.sqrt(2.0))) + _HALF_LOG_PI_OVER_2
    log_bracket = _log1mexp(np.log(-zm) + log_mills)
    value[middle] = -0.5 * zm**2 - _LOG_SQRT_2PI + log_bracket
    slope[middle] = np.exp(log_mills - log_bracket)

    zl = z[lower]
    inv_sq = 1.0 / zl**2
    series, term = np.zeros_like(zl), np.ones_like(zl)
    for k in range(1, 11):
        term = term * inv_sq if k == 1 else -term * (2 * k - 1) * inv_sq
        series += term
    mills = math.sqrt(math.pi / 2.0) * scipy.special.erfcx(-zl / math.sqrt(2.0))
    value[lower] = -0.5 * zl**2 - _LOG_SQRT_2PI + np.log(series)
    slope[lower] = mills / series
    return value, slope


def _log1mexp(a: np.ndarray) -> np.ndarray:
    """``log(1 - exp(a))`` for ``a < 0`` (Mächler's two-branch recipe)."""
    with np.errstate(divide="ignore"):
        near_zero, far = np.log(-np.expm1(a)), np.log1p(-np.exp(a))
    return np.asarray(np.where(a > -math.log(2.0), near_zero, far))


def log_expected_improvement(
    mean: np.ndarray, std: np.ndarray, best: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``log EI`` of minimizing below ``best``, with its derivatives in ``mean`` and ``std``.

    Returns:
        ``log EI``, ``d log EI / d mean`` and ``d log EI / d std``.
    """
    z = (best - mean) / std
    value, slope = _log_h_and_slope(z)
    return np.log(std) + value, -slope / std, 1.0 / std - slope * z / std


def log_probability_of_improvement(
    mean: np.ndarray, std: np.ndarray, best: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``log P(f < best)``, with its derivatives in ``mean`` and ``std``."""
    z = (best - mean) / std
    value = scipy.special.log_ndtr(z)
    # phi(z) / Phi(z), from logs so that it stays finite for very negative z.
    ratio = np.exp(-0.5 * z**2 - _LOG_SQRT_2PI - value)
    return value, -ratio / std, -ratio * z / std
