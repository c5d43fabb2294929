from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from scipy.special import ndtr

from sherpa.algorithms._gp import (
    GaussianProcess,
    Hyperparameters,
    HyperPrior,
    expand_lengthscales,
    fit_hyperparameters,
    log_expected_improvement,
    log_h,
    log_probability_of_improvement,
    matern52,
    matern52_gradients,
    negative_log_posterior,
    robust_cholesky,
)

X = np.random.default_rng(0).random((12, 3))
Y = np.sin(6 * X[:, 0]) + X[:, 1] ** 2
Y = (Y - Y.mean()) / Y.std()
THETA = np.log([0.3, 0.5, 0.8, 1.2, 0.01])


def _central_difference(
    f: Callable[[np.ndarray], Any], x: np.ndarray, step: float = 1e-6
) -> np.ndarray:
    columns = []
    for e in np.eye(len(x)) * step:
        columns.append((f(x + e) - f(x - e)) / (2 * step))
    return np.stack(columns, axis=-1)


def test_gaussian_process_interpolates_training_points_with_small_noise() -> None:
    x = np.linspace(0, 1, 8)[:, None]
    y = np.sin(5 * x[:, 0])
    gp = GaussianProcess(x, y, Hyperparameters(np.array([0.3]), 1.0, 1e-8))
    mean, variance = gp.predict(x)
    assert np.abs(mean - y).max() < 1e-5
    assert variance.max() < 1e-6


def test_gaussian_process_reverts_to_the_prior_far_away() -> None:
    gp = GaussianProcess(X, Y, Hyperparameters.from_vector(THETA))
    mean, variance = gp.predict(np.array([[50.0, 50.0, 50.0], [-40.0, 0.5, 0.5]]))
    assert np.abs(mean).max() < 1e-12
    assert variance == pytest.approx([1.2, 1.2], rel=1e-12)


def test_matern52_is_one_signal_variance_at_zero_distance_and_decays() -> None:
    x = np.array([[0.0], [0.1], [1.0]])
    kernel = matern52(x, x, np.array([0.5]), 2.0)
    assert np.diag(kernel) == pytest.approx([2.0, 2.0, 2.0])
    r = math.sqrt(5) * 0.1 / 0.5
    assert kernel[0, 1] == pytest.approx(2.0 * (1 + r + r**2 / 3) * math.exp(-r))
    assert kernel[0, 1] > kernel[0, 2] > 0


def test_matern52_gradients_match_finite_differences() -> None:
    log_params = np.log([0.3, 0.5, 0.8, 1.2])

    def kernel(p: np.ndarray) -> np.ndarray:
        return matern52(X, X, np.exp(p[:3]), math.exp(p[3]))

    _, analytic = matern52_gradients(X, np.exp(log_params[:3]), math.exp(log_params[3]))
    numeric = np.moveaxis(_central_difference(kernel, log_params), -1, 0)
    assert np.abs(analytic - numeric).max() < 1e-7


def test_negative_log_posterior_gradient_matches_finite_differences() -> None:
    prior = HyperPrior.for_dimension(3)
    _, analytic = negative_log_posterior(THETA, X, Y, prior)
    numeric = _central_difference(lambda t: negative_log_posterior(t, X, Y, prior)[0], THETA)
    assert np.abs(analytic - numeric).max() < 1e-6


def test_shared_lengthscales_give_the_posterior_of_their_expanded_columns() -> None:
    groups = np.array([0, 1, 1])
    grouped = THETA[[0, 1, 3, 4]]
    expanded = np.log([0.3, 0.5, 0.5, 1.2, 0.01])
    prior = HyperPrior.for_dimension(2)
    value, gradient = negative_log_posterior(grouped, X, Y, prior, groups)
    full_value, full_gradient = negative_log_posterior(expanded, X, Y, prior)
    # The likelihood is the same; the prior counts two lengthscales instead of three.
    likelihood = value - prior.negative_log_density(grouped)[0]
    full_likelihood = full_value - prior.negative_log_density(expanded)[0]
    assert likelihood == pytest.approx(full_likelihood, rel=1e-12)
    likelihood_gradient = gradient - prior.negative_log_density(grouped)[1]
    full_likelihood_gradient = full_gradient - prior.negative_log_density(expanded)[1]
    assert likelihood_gradient == pytest.approx(
        [
            full_likelihood_gradient[0],
            full_likelihood_gradient[1] + full_likelihood_gradient[2],
            *full_likelihood_gradient[3:],
        ],
        rel=1e-10,
    )
    numeric = _central_difference(
        lambda t: negative_log_posterior(t, X, Y, prior, groups)[0], grouped
    )
    assert np.abs(gradient - numeric).max() < 1e-6


def test_expand_lengthscales_repeats_each_group_over_its_columns() -> None:
    hyper = Hyperparameters(np.array([0.2, 3.0]), 1.5, 0.01)
    expanded = expand_lengthscales(hyper, np.array([0, 1, 1, 0]))
    assert expanded.lengthscales.tolist() == [0.2, 3.0, 3.0, 0.2]
    assert (expanded.signal_variance, expanded.noise_variance) == (1.5, 0.01)
    assert expand_lengthscales(hyper, None) is hyper


def test_fit_hyperparameters_with_groups_fits_one_lengthscale_per_group() -> None:
    # Column 0 matters; columns 1 and 2 are a one-hot pair that does not.
    rng = np.random.default_rng(3)
    first = rng.random(30)
    category = rng.integers(2, size=30)
    x = np.column_stack([first, category == 0, category == 1]).astype(float)
    y = np.sin(4 * first)
    y = (y - y.mean()) / y.std()
    prior = HyperPrior.for_dimension(2)
    fitted = fit_hyperparameters(x, y, prior, [prior.mode(2)], groups=np.array([0, 1, 1]))
    assert fitted.lengthscales.shape == (2,)
    assert fitted.lengthscales[1] > 10 * fitted.lengthscales[0]
    with pytest.raises(ValueError, match="starts must hold 4 log-hyperparameters each; got 5"):
        fit_hyperparameters(x, y, prior, [prior.mode(3)], groups=np.array([0, 1, 1]))


def test_posterior_gradients_match_finite_differences() -> None:
    gp = GaussianProcess(X, Y, Hyperparameters.from_vector(THETA))
    points = np.random.default_rng(1).random((4, 3))
    mean, variance, d_mean, d_variance = gp.predict_with_gradients(points)
    assert (mean, variance) == (
        pytest.approx(gp.predict(points)[0]),
        pytest.approx(gp.predict(points)[1]),
    )
    for row in range(len(points)):

        def at(p: np.ndarray, row: int = row) -> np.ndarray:
            moved = points.copy()
            moved[row] = p
            return np.stack(gp.predict(moved))[:, row]

        numeric = _central_difference(at, points[row])
        assert np.abs(numeric[0] - d_mean[row]).max() < 1e-7
        assert np.abs(numeric[1] - d_variance[row]).max() < 1e-7


def test_robust_cholesky_adds_jitter_only_when_needed() -> None:
    x = np.array([[0.2], [0.2], [0.7]])
    singular = matern52(x, x, np.array([0.3]), 1.0)
    factor, jitter = robust_cholesky(singular)
    assert 0 < jitter <= 1e-6
    assert factor @ factor.T == pytest.approx(singular + jitter * np.eye(3), abs=1e-12)
    assert robust_cholesky(singular + 0.1 * np.eye(3))[1] == 0.0
    with pytest.raises(np.linalg.LinAlgError, match="not positive definite"):
        robust_cholesky(-np.eye(2))


def test_fit_hyperparameters_finds_the_irrelevant_input() -> None:
    x = np.random.default_rng(2).random((30, 2))
    y = np.sin(4 * x[:, 0])
    y = (y - y.mean()) / y.std()
    prior = HyperPrior.for_dimension(2)
    fitted = fit_hyperparameters(x, y, prior, [prior.mode(2)])
    assert fitted.lengthscales[1] > 10 * fitted.lengthscales[0]
    assert fitted.noise_variance < 1e-3
    assert (
        negative_log_posterior(fitted.to_vector(), x, y, prior)[0]
        < (negative_log_posterior(prior.mode(2), x, y, prior)[0])
    )


def test_log_h_equals_log_of_ei_where_it_is_representable() -> None:
    z = np.linspace(-5, 8, 131)
    direct = np.log(z * ndtr(z) + np.exp(-(z**2) / 2) / math.sqrt(2 * math.pi))
    assert log_h(z) == pytest.approx(direct, rel=1e-9)
    assert log_h(np.array([0.0]))[0] == pytest.approx(-0.5 * math.log(2 * math.pi), rel=1e-15)


@pytest.mark.parametrize(
    ("z", "expected"),
    [(-10.0, -55.55312203612235), (-30.0, -457.724653760598)],  # 50-digit arithmetic (mpmath)
)
def test_log_h_matches_high_precision_values_where_ei_underflows(
    z: float, expected: float
) -> None:
    assert log_h(np.array([z]))[0] == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize("z", [-1e3, -1e6, -1e12])
def test_log_h_stays_finite_and_follows_the_asymptote_far_in_the_tail(z: float) -> None:
    # h(z) = phi(z) (z^-2 - 3 z^-4 + ...) as z -> -inf
    asymptote = -0.5 * z**2 - 0.5 * math.log(2 * math.pi) + math.log(z**-2 - 3 * z**-4)
    value = log_h(np.array([z]))[0]
    assert math.isfinite(value)
    assert value == pytest.approx(asymptote, rel=1e-12, abs=1e-9)


@pytest.mark.parametrize("boundary", [-1.0, -25.0])
def test_log_h_is_continuous_where_the_formula_changes(boundary: float) -> None:
    below, above = log_h(np.array([boundary - 1e-9, boundary + 1e-9]))
    assert abs(above - below) < 1e-7
    assert above > below


def test_log_expected_improvement_gradient_matches_finite_differences() -> None:
    mean, std = np.array([0.3, 2.0, 40.0]), np.array([0.5, 0.2, 1.0])
    value, by_mean, by_std = log_expected_improvement(mean, std, best=0.1)
    assert np.all(np.isfinite(value)) and value[2] < -700  # EI itself underflows to 0 there
    step = 1e-6
    up = log_expected_improvement(mean + step, std, 0.1)[0]
    down = log_expected_improvement(mean - step, std, 0.1)[0]
    assert by_mean == pytest.approx((up - down) / (2 * step), rel=1e-5)
    up = log_expected_improvement(mean, std + step, 0.1)[0]
    down = log_expected_improvement(mean, std - step, 0.1)[0]
    assert by_std == pytest.approx((up - down) / (2 * step), rel=1e-5)


def test_log_probability_of_improvement_is_log_of_the_normal_cdf() -> None:
    value, by_mean, _ = log_probability_of_improvement(np.array([1.0, 50.0]), np.ones(2), 0.0)
    assert value[0] == pytest.approx(math.log(ndtr(-1.0)))
    assert math.isfinite(value[1]) and value[1] < -1000
    assert by_mean[1] == pytest.approx(-50.0, rel=1e-3)  # -phi/Phi ~ z for very negative z
