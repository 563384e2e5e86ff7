"""Deflated Sharpe Ratio and PBO against the papers' examples and independent computations."""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contango.research.overfitting import (
    _cscv_plan,
    deflated_sharpe_of_returns,
    deflated_sharpe_ratio,
    expected_max_sharpe,
    moments,
    probabilistic_sharpe_ratio,
    probability_of_backtest_overfitting,
    probability_of_backtest_overfitting_reference,
)
from contango.research.overfitting_nb import (
    _first_largest_nb,
    _key_nb,
    _twice_rank_nb,
    _two_halves_keys_nb,
    cscv_nb,
    cscv_two_groups_nb,
    subset_sums_nb,
)
from contango.research.return_stats import sharpe_per_bar, sharpe_per_bar_reference


def _phi(z: float) -> float:
    """Standard normal CDF from math.erf, independent of statistics.NormalDist."""
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


# ---------------------------------------------------------------- DSR


def test_dsr_reproduces_the_papers_numerical_example() -> None:
    # Bailey & López de Prado (2014), "The Deflated Sharpe Ratio", J. Portfolio Management
    # 40(5), section "A numerical example": N = 100 trials, T = 1250 daily returns (5 years),
    # best annualised SR = 2.5, variance of the trials' annualised SRs = 0.5, skewness = -3,
    # kurtosis = 10. Per day: SR = 2.5 / sqrt(250) = 0.1581, V = 0.5 / 250 = 0.002; the paper
    # finds the expected maximum SR0 = 0.1132 (per day) and DSR = 0.9004.
    out = deflated_sharpe_ratio(
        2.5 / math.sqrt(250),
        n_obs=1250,
        n_trials=100,
        sharpe_variance=0.5 / 250,
        skew=-3.0,
        kurtosis=10.0,
    )
    assert out.expected_max_sharpe == pytest.approx(0.1132, abs=5e-5)
    assert out.dsr == pytest.approx(0.9004, abs=5e-5)


def test_expected_max_sharpe_matches_the_formula_by_hand() -> None:
    # N = 10, V = 1: (1 - g) * z(0.9) + g * z(1 - 1/(10e)); z(0.9) = 1.281552,
    # 1 - 1/(10e) = 0.963212, z(0.963212) = 1.789242 (normal tables); g = 0.577216
    # -> 0.422784 * 1.281552 + 0.577216 * 1.789242 = 0.541819 + 1.032779 = 1.574598
    assert expected_max_sharpe(10, 1.0) == pytest.approx(1.5745, abs=2e-4)
    assert expected_max_sharpe(1, 4.0) == 0.0  # one trial: nothing was selected


def test_psr_matches_an_independent_normal_cdf() -> None:
    # sr = 0.1, sr* = 0, T = 101, normal returns: spread = 1 + (3 - 1) / 4 * 0.01 = 1.005,
    # z = 0.1 * sqrt(100) / sqrt(1.005) = 0.997509; Phi(z) from math.erf
    z = 0.1 * 10 / math.sqrt(1.005)
    assert probabilistic_sharpe_ratio(0.1, 0.0, 101, 0.0, 3.0) == pytest.approx(_phi(z), abs=1e-12)
    # negative skew widens the error band, so the PSR of a positive SR falls
    assert probabilistic_sharpe_ratio(0.1, 0.0, 101, -2.0, 3.0) < _phi(z)


def test_moments_of_a_quarter_bernoulli_match_their_closed_form() -> None:
    # [0, 0, 0, 3] is 3 x Bernoulli(p = 1/4): skew = (1 - 2p) / sqrt(p (1 - p)) = 2 / sqrt(3)
    # = 1.154701; kurtosis = (1 - 6 p (1 - p)) / (p (1 - p)) + 3 = 7 / 3
    skew, kurt = moments(np.array([0.0, 0.0, 0.0, 3.0]))
    assert skew == pytest.approx(2 / math.sqrt(3), rel=1e-12)
    assert kurt == pytest.approx(7 / 3, rel=1e-12)


def test_sharpe_per_bar_ignores_nan_and_matches_numpy() -> None:
    r = np.array([[0.01, 0.0], [0.02, 0.0], [np.nan, 0.0], [-0.01, 0.0]])
    finite = np.array([0.01, 0.02, -0.01])
    out = sharpe_per_bar(r)
    assert out[0] == pytest.approx(finite.mean() / finite.std(ddof=1), rel=1e-12)
    assert np.isnan(out[1])  # no dispersion: undefined, not infinite


def test_dsr_of_returns_uses_the_trials_variance_and_count() -> None:
    rng = np.random.default_rng(3)
    r = rng.normal(0.001, 0.01, 500)
    trials = np.array([0.02, 0.05, -0.01, 0.03])
    out = deflated_sharpe_of_returns(r, n_trials=40, trial_sharpes=trials)
    sr = r.mean() / r.std(ddof=1)
    skew, kurt = moments(r)
    by_hand = deflated_sharpe_ratio(
        sr, n_obs=500, n_trials=40, sharpe_variance=trials.var(ddof=1), skew=skew, kurtosis=kurt
    )
    assert out.dsr == pytest.approx(by_hand.dsr, abs=1e-12)
    assert out.n_trials == 40


@settings(max_examples=50, deadline=None)
@given(n=st.integers(2, 10_000), v=st.floats(1e-6, 10.0))
def test_more_trials_raise_the_bar(n: int, v: float) -> None:
    assert expected_max_sharpe(n + 1, v) > expected_max_sharpe(n, v) > 0


# ---------------------------------------------------------------- PBO


def _brute_force_pbo(returns: np.ndarray, s: int) -> tuple[float, np.ndarray]:
    """CSCV written out the slow, obvious way: rows of each half concatenated, Sharpe ratios
    by numpy, ranks by sorting."""
    blocks = np.array_split(np.arange(returns.shape[0]), s)
    n = returns.shape[1]
    logits = []
    for chosen in combinations(range(s), s // 2):
        is_rows = np.concatenate([blocks[i] for i in chosen])
        oos_rows = np.concatenate([blocks[i] for i in range(s) if i not in chosen])
        is_sr = returns[is_rows].mean(0) / returns[is_rows].std(0, ddof=1)
        oos_sr = returns[oos_rows].mean(0) / returns[oos_rows].std(0, ddof=1)
        best = int(np.argmax(is_sr))
        rank = 1 + sorted(oos_sr.tolist()).index(oos_sr[best])  # 1 = worst (no ties here)
        w = rank / (n + 1)
        logits.append(math.log(w / (1 - w)))
    out = np.array(logits)
    return float(np.mean(out <= 0)), out


def test_pbo_of_a_hand_worked_two_block_case_is_one() -> None:
    # Two blocks of 4 bars; every block's returns are a, a + 0.02, a, a + 0.02 (sd 0.011547).
    # A: block means 0.02 then 0.00; B: 0.01 then 0.02. IS = block 1: A best (SR 1.73 vs 0.87),
    # OOS block 2: A is worst of 2 -> w = 1/3, logit = ln(1/2). IS = block 2: B best, OOS
    # block 1: B worst -> logit = ln(1/2). Both logits <= 0: PBO = 1.
    a = [0.01, 0.03, 0.01, 0.03, -0.01, 0.01, -0.01, 0.01]
    b = [0.00, 0.02, 0.00, 0.02, 0.01, 0.03, 0.01, 0.03]
    out = probability_of_backtest_overfitting(np.array([a, b]).T, n_blocks=2)
    assert out.pbo == 1.0
    np.testing.assert_allclose(out.logits, [math.log(0.5), math.log(0.5)])


def test_pbo_is_zero_when_one_strategy_wins_in_every_block() -> None:
    # A: block means 0.02 and 0.02; B: 0.01 and 0.00 -> A is best IS and OOS in both splits:
    # rank 2 of 2, w = 2/3, logit = ln 2 > 0.
    a = [0.01, 0.03, 0.01, 0.03, 0.01, 0.03, 0.01, 0.03]
    b = [0.00, 0.02, 0.00, 0.02, -0.01, 0.01, -0.01, 0.01]
    out = probability_of_backtest_overfitting(np.array([a, b]).T, n_blocks=2)
    assert out.pbo == 0.0
    np.testing.assert_allclose(out.logits, [math.log(2), math.log(2)])


def test_pbo_matches_a_brute_force_cscv() -> None:
    rng = np.random.default_rng(11)
    returns = rng.normal(0.0, 0.01, (203, 7))  # 203 bars: blocks of unequal size (array_split)
    expected_pbo, expected_logits = _brute_force_pbo(returns, 6)
    out = probability_of_backtest_overfitting(returns, n_blocks=6)
    assert out.logits.size == math.comb(6, 3) == 20
    np.testing.assert_allclose(out.logits, expected_logits, rtol=1e-10)
    assert out.pbo == expected_pbo


def test_pbo_uses_every_combination_of_sixteen_blocks() -> None:
    # The paper's recommended S = 16 gives C(16, 8) = 12,870 in-sample / out-of-sample splits.
    rng = np.random.default_rng(5)
    out = probability_of_backtest_overfitting(rng.normal(size=(320, 3)), n_blocks=16)
    assert out.logits.size == 12_870


def test_pbo_of_the_papers_full_overfitting_case_is_near_one() -> None:
    # Bailey, Borwein, López de Prado & Zhu, "The Probability of Backtest Overfitting" (2015),
    # test case of pure overfitting: N strategies of normal returns, each re-scaled and
    # re-centred to the same full-sample mean and std (SR = 0). Whatever beats the others in
    # sample must trail them out of sample, so PBO -> 1 (the R package pbo's vignette, which
    # follows the paper with N = 100, T = 2400, S = 8, reports p_bo = 1.0).
    rng = np.random.default_rng(765)
    m = rng.normal(size=(2400, 100))
    m = (m - m.mean(0)) / m.std(0, ddof=1) / math.sqrt(252)
    out = probability_of_backtest_overfitting(m, n_blocks=8)
    assert out.pbo >= 0.95


def test_pbo_is_low_when_some_strategies_have_a_real_edge() -> None:
    # 5 of 40 strategies earn 0.2 sd per bar; the rest are noise. CSCV picks a skilled one in
    # sample and it stays above the median out of sample.
    rng = np.random.default_rng(1)
    m = rng.normal(size=(1000, 40))
    m[:, :5] += 0.2
    out = probability_of_backtest_overfitting(m, n_blocks=10)
    assert out.pbo < 0.05
    assert out.prob_oos_loss < 0.05


def test_pbo_refuses_odd_blocks_and_one_trial() -> None:
    with pytest.raises(ValueError, match="even"):
        probability_of_backtest_overfitting(np.zeros((100, 3)), n_blocks=5)
    with pytest.raises(ValueError, match=">= 2 trials"):
        probability_of_backtest_overfitting(np.zeros((100, 1)), n_blocks=4)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(2, 8), s=st.sampled_from([2, 4, 6]))
def test_pbo_does_not_depend_on_the_order_of_the_trials(seed: int, n: int, s: int) -> None:
    rng = np.random.default_rng(seed)
    returns = rng.normal(0.0, 0.01, (60, n))
    out = probability_of_backtest_overfitting(returns, n_blocks=s)
    shuffled = probability_of_backtest_overfitting(returns[:, rng.permutation(n)], n_blocks=s)
    assert 0.0 <= out.pbo <= 1.0
    assert out.logits.size == math.comb(s, s // 2)
    np.testing.assert_allclose(np.sort(out.logits), np.sort(shuffled.logits), rtol=1e-12)
    assert out.pbo == shuffled.pbo


# ---------------------------------------------------------------- PBO kernel vs its NumPy twin


def _awkward_returns(seed: int, bars: int, n: int) -> np.ndarray:
    """Noise with the cases that trip a ranking: a copy of a trial (an exact tie), a copy
    scaled by 2 (the same Sharpe ratio, exactly: powers of two scale without rounding), a
    trial that never trades (zeros), one of NaN (no data) and one with a NaN gap."""
    rng = np.random.default_rng(seed)
    m = rng.normal(0.0005, 0.01, (bars, n + 5))
    m[:, n] = m[:, 0]
    m[:, n + 1] = 2.0 * m[:, 1 % n]
    m[:, n + 2] = 0.0
    m[:, n + 3] = np.nan
    m[: bars // 3, n + 4] = np.nan
    return m[:, rng.permutation(n + 5)]


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(1, 9),
    s=st.sampled_from([2, 4, 6, 8, 10, 12]),  # 10 and 12 blocks: two groups of blocks
    extra_bars=st.integers(0, 40),
)
def test_pbo_kernel_equals_its_numpy_twin(seed: int, n: int, s: int, extra_bars: int) -> None:
    returns = _awkward_returns(seed, 2 * s + extra_bars, n)
    kernel = probability_of_backtest_overfitting(returns, n_blocks=s)
    twin = probability_of_backtest_overfitting_reference(returns, n_blocks=s)
    np.testing.assert_array_equal(kernel.logits, twin.logits)
    assert kernel.pbo == twin.pbo
    assert kernel.prob_oos_loss == twin.prob_oos_loss
    np.testing.assert_allclose(
        kernel.is_best_oos_sharpe, twin.is_best_oos_sharpe, rtol=1e-12, atol=1e-15
    )


def test_pbo_kernel_equals_its_twin_on_a_wide_sweep() -> None:
    # More than 4,096 trials: the kernel tabulates blocks in groups of 4, not 8.
    returns = _awkward_returns(8, 40, 4_100)
    kernel = probability_of_backtest_overfitting(returns, n_blocks=10)
    twin = probability_of_backtest_overfitting_reference(returns, n_blocks=10)
    np.testing.assert_array_equal(kernel.logits, twin.logits)
    np.testing.assert_allclose(
        kernel.is_best_oos_sharpe, twin.is_best_oos_sharpe, rtol=1e-12, atol=1e-15
    )


def test_constant_returns_have_no_sharpe_ratio_in_either_half() -> None:
    # A earns exactly 0.0123 every bar: no dispersion, so no Sharpe ratio (summing 0.0123 leaves
    # a variance of rounding noise whose sign would otherwise pick NaN or a huge one). B is noise
    # with a defined Sharpe ratio in every half, so B is the in-sample best of every split and
    # ranks 2 of 2 out of sample: w = 2/3, logit = ln 2 for all C(4, 2) = 6 splits, PBO = 0.
    rng = np.random.default_rng(2)
    returns = np.column_stack([np.full(90, 0.0123), rng.normal(0.0, 0.01, 90)])
    for pbo in (probability_of_backtest_overfitting, probability_of_backtest_overfitting_reference):
        out = pbo(returns, n_blocks=4)
        np.testing.assert_allclose(out.logits, np.full(6, math.log(2)), rtol=1e-15)
        assert out.pbo == 0.0


def test_subset_sums_add_the_blocks_named_by_each_code() -> None:
    # 7 blocks in groups of 3: groups {0, 1, 2}, {3, 4, 5}, {6}; code 0b101 of group 1 is
    # blocks 3 + 5.
    values = np.random.default_rng(4).normal(size=(7, 5))
    out = subset_sums_nb(values, 3)
    assert out.shape == (3, 8, 5)
    np.testing.assert_allclose(out[1, 0b101], values[3] + values[5], rtol=1e-15)
    for g, first in enumerate((0, 3, 6)):
        for code in range(1 << min(3, 7 - first)):
            rows = [first + bit for bit in range(3) if code >> bit & 1]
            np.testing.assert_allclose(out[g, code], values[rows].sum(axis=0), rtol=1e-14)
    assert not out[2, 2:].any()  # codes of blocks past the seventh: zeros, never read


def test_sharpe_per_bar_of_constant_returns_is_undefined() -> None:
    # 0.0123 every bar: the mean rounds, the deviations from it are ~1e-18 of noise, and
    # mean / sd would be ~1e15; a flat series has no Sharpe ratio.
    out = sharpe_per_bar(np.column_stack([np.full(90, 0.0123), np.tile([0.01, -0.01], 45)]))
    assert np.isnan(out[0])
    assert out[1] == 0.0  # mean 0 exactly: +/- 0.01 alternating


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), bars=st.integers(1, 60), n=st.integers(1, 9))
def test_compiled_sharpe_per_bar_equals_its_numpy_twin(seed: int, bars: int, n: int) -> None:
    returns = _awkward_returns(seed, bars, n)
    returns[::7, 0] = np.inf  # non-finite returns are skipped, whichever kind
    # NumPy may add a small array's rows pairwise rather than in order: rounding apart (a
    # mean near 0 keeps the same absolute error, hence atol)
    np.testing.assert_allclose(
        sharpe_per_bar(returns), sharpe_per_bar_reference(returns), rtol=1e-12, atol=1e-15
    )


@pytest.mark.parametrize(("n_blocks", "group"), [(2, 8), (6, 4), (16, 8), (16, 4)])
def test_cscv_plan_pairs_each_combination_once_with_its_complement(
    n_blocks: int, group: int
) -> None:
    plan = _cscv_plan(n_blocks, group)
    pairs = plan.pairs
    assert sorted(pairs.ravel().tolist()) == list(range(math.comb(n_blocks, n_blocks // 2)))
    for a, b in pairs:
        assert not np.any(plan.chosen[a] & plan.chosen[b])  # disjoint halves ...
        assert np.all(plan.chosen[a] | plan.chosen[b])  # ... covering every block


# ---------------------------------------------------------------- PBO over two groups of blocks


def _near_ties(seed: int, bars: int, n: int) -> np.ndarray:
    """``_awkward_returns`` plus trials whose keys tie in float32 but not always in float64
    (copies scaled by 1 + 2^-30 and 1 - 2^-40: the same Sharpe ratio but for rounding), and
    returns on a 1/64 grid, whose sums are exact: distinct trials with identical keys."""
    m = _awkward_returns(seed, bars, n)
    rng = np.random.default_rng(seed + 1)
    base = m[:, np.isfinite(m).all(axis=0) & (m != 0).any(axis=0)][:, 0]
    grid = np.round(rng.normal(0.0, 1.0, (bars, 3))) / 64.0
    return np.column_stack([m, base * (1 + 2.0**-30), base * (1 - 2.0**-40), grid, grid[:, ::-1]])


@pytest.mark.parametrize(("n_blocks", "n"), [(10, 30), (12, 12), (14, 4), (16, 2)])
def test_two_group_kernel_equals_the_half_at_a_time_kernel_bit_for_bit(
    n_blocks: int, n: int
) -> None:
    # The same tables into both kernels: winners, ranks and Sharpe ratios identical to the
    # last bit, through every fallback (near ties, no positive key, flat and empty trials).
    returns = np.where(np.isfinite(r := _near_ties(n_blocks, 4 * n_blocks + 3, n)), r, 0.0)
    blocks = np.array_split(np.arange(returns.shape[0]), n_blocks)
    sums = np.stack([returns[b].sum(axis=0) for b in blocks])
    squares = np.stack([(returns[b] ** 2).sum(axis=0) for b in blocks])
    plan = _cscv_plan(n_blocks, 8)
    bars = np.array([b.size for b in blocks], dtype=np.float64)
    tables = (subset_sums_nb(sums, 8), subset_sums_nb(squares, 8))
    is_bars, oos_bars = plan.chosen @ bars, ~plan.chosen @ bars
    two = cscv_two_groups_nb(*tables, plan.is_codes, is_bars, oos_bars, plan.couples, plan.tasks)
    one = cscv_nb(*tables, plan.is_codes, is_bars, oos_bars, plan.pairs)
    for mine, theirs in zip(two, one, strict=True):
        assert mine.tobytes() == theirs.tobytes()


def _keys(s0: np.ndarray, q0: np.ndarray, bars: float) -> np.ndarray:
    return np.array([_key_nb(float(s), float(q), bars) for s, q in zip(s0, q0, strict=True)])


# Half sums of 6 trials over 20 bars: near ties (1 + 2^-45), an exact tie, a negative one.
_SUMS = np.array([0.1, 0.3, 0.3 * (1 + 2.0**-45), 0.3 * (1 + 2.0**-45), -0.2, 0.3])
_SQUARES = np.full(6, 0.01)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_in_sample_best_is_the_first_largest_key(sign: float) -> None:
    # Two halves keyed in one loop (the second adds 0.05 to trial 0: a new best). The packed
    # guess names the first trial whose key has the largest leading bits; with no positive key
    # (sign -1) there is no guess, and the keys are scanned instead.
    s0, zeros, t1 = sign * _SUMS, np.zeros(6), np.array([0.25, 0, 0, 0, 0, 0])
    copies, found = np.empty((2, 6), dtype=np.float32), np.empty(4, dtype=np.int64)
    bars = np.array([20.0, 20.0])
    _two_halves_keys_nb(s0, _SQUARES, zeros, zeros, t1, zeros, bars, 7, copies, found)
    for h, s1 in enumerate((zeros, t1)):
        keys = _keys(s0 + s1, _SQUARES, 20.0)
        assert np.array_equal(copies[h], keys.astype(np.float32))
        expected = int(np.flatnonzero(keys == keys.max())[0])
        top, guess = int(found[2 * h]), int(found[2 * h + 1])
        assert top == keys.max().view(np.int64)
        best = _first_largest_nb(s0, _SQUARES, s1, zeros, 20.0, top, guess, np.empty(6))
        assert best == expected
        for wrong in np.flatnonzero(keys < keys.max()).tolist():  # a guess below the best
            assert _first_largest_nb(s0, _SQUARES, s1, zeros, 20.0, top, wrong, np.empty(6)) == best


def test_ranks_from_float32_copies_equal_ranks_from_the_keys() -> None:
    # Copies of keys 1 + 2^-45 apart are equal in float32: those are recomputed in float64.
    s0, zeros = _SUMS, np.zeros(6)
    keys = _keys(s0, _SQUARES, 20.0)
    copies = keys.astype(np.float32)
    assert copies[1] == copies[2]
    assert keys[1] != keys[2]
    for own in keys:
        twice = _twice_rank_nb(copies, own, s0, _SQUARES, zeros, zeros, 20.0)
        assert twice == 2 * np.sum(keys < own) + np.sum(keys == own)


@pytest.mark.parametrize("n_blocks", [10, 12, 16])
def test_couples_hold_every_combination_once_with_shared_subsets(n_blocks: int) -> None:
    plan = _cscv_plan(n_blocks, 8)
    couples = plan.couples
    alone = couples[:, 0] == couples[:, 2]
    members = np.concatenate([couples.ravel(), couples[~alone][:, :0].ravel()])
    held = np.concatenate([couples[alone][:, :2].ravel(), couples[~alone].ravel()])
    assert np.array_equal(np.sort(held), np.arange(math.comb(n_blocks, n_blocks // 2)))
    assert members.size >= held.size
    for a, b, a2, b2 in couples:
        assert plan.is_codes[a, 0] == plan.is_codes[a2, 0]  # one first-group subset ...
        assert plan.is_codes[b, 0] == plan.is_codes[b2, 0]  # ... and its complement
        assert not np.any(plan.chosen[a] & plan.chosen[b])
        assert not np.any(plan.chosen[a2] & plan.chosen[b2])
    assert plan.tasks[0] == 0
    assert plan.tasks[-1] == couples.shape[0]
