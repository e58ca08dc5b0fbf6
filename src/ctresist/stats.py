"""Read-count statistics for ctDNA sites: an exact confidence interval for every VAF, the call
threshold above background error, and the limit of detection (LoD) at a given depth.

All three use the exact binomial distribution, ``X ~ Binomial(n, f)`` with ``n`` = reads (or UMI
families) covering the site and ``X`` = alt reads:

* **VAF confidence interval** (Clopper & Pearson 1934, Biometrika 26:404-413): the two-sided
  ``1 - alpha`` interval ``[f_lo, f_hi]`` with ``P(X >= k | n, f_lo) = alpha/2`` and
  ``P(X <= k | n, f_hi) = alpha/2`` (``f_lo = 0`` when ``k = 0``, ``f_hi = 1`` when ``k = n``).
  It is exact (never narrower than the data allow), which matters at 0-10 alt reads.
* **Call threshold** ``k*``: the smallest alt count that background error alone (per-base error
  rate ``e``, configurable or per site from a panel of normals) reaches with probability below
  ``alpha_call``: ``P(X >= k* | n, e) < alpha_call``, and never fewer than ``min_alt`` reads nor
  below ``min_vaf * n``. With ``dispersion`` (intra-class correlation) > 0 the background is
  beta-binomial, for error rates that vary between sites and samples.
* **LoD** (95 % by default): the smallest true VAF ``f`` at which ``P(X >= k* | n, f) >= 0.95``,
  i.e. a variant at the LoD is called 95 times out of 100 at this depth. With ``k* = 3`` the LoD is
  about ``6.3 / n`` (0.26 % at 2,400x).

Binomial tails are the regularized incomplete beta function, ``P(X >= k) = I_p(k, n - k + 1)``,
evaluated by its continued fraction (Numerical Recipes, section 6.4); roots are found by
bisection. No SciPy.
"""
from __future__ import annotations

import math

from ctresist.errors import InputError

#: Default per-base background error after the read filters (BQ >= 20, MAPQ >= 20, no
#: duplicates) for plain reads; UMI consensus families are far cleaner, so pass a lower value.
DEFAULT_BACKGROUND = 5e-4
#: Background may produce the call threshold by chance at most this often per site.
DEFAULT_ALPHA_CALL = 0.01
#: Detection probability that defines the LoD.
DEFAULT_LOD_POWER = 0.95


def _check(k: int, n: int) -> None:
    if n < 0 or k < 0 or k > n:
        raise InputError(f"read counts: need 0 <= alt ({k}) <= depth ({n})")


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz; Press et al.,
    Numerical Recipes, 3rd ed., section 6.4); converges in O(sqrt(max(a, b))) steps."""
    tiny, eps = 1e-300, 1e-15
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < eps:
            break
    return h


def _betainc(a: float, b: float, x: float) -> float:
    """Regularized incomplete beta I_x(a, b) for a, b > 0 and 0 <= x <= 1."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    ln_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(ln_front) * _betacf(a, b, x) / a
    return 1.0 - math.exp(ln_front) * _betacf(b, a, 1.0 - x) / b


def binom_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p), exact: I_{1-p}(n - k, k + 1)."""
    if k < 0:
        return 0.0
    if k >= n or p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 0.0
    return min(1.0, max(0.0, _betainc(n - k, k + 1, 1.0 - p)))


def binom_sf(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p), exact: I_p(k, n - k + 1)."""
    if k <= 0:
        return 1.0
    if k > n or p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    return min(1.0, max(0.0, _betainc(k, n - k + 1, p)))


def _bisect(fn, target: float, increasing: bool) -> float:
    """The p in [0, 1] where the monotone ``fn(p)`` crosses ``target`` (to 1e-10)."""
    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if (fn(mid) < target) == increasing:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def vaf_ci(alt: int, depth: int, conf: float = 0.95) -> tuple[float | None, float | None]:
    """Clopper-Pearson two-sided interval for the VAF ``alt / depth``; (None, None) at depth 0."""
    _check(alt, depth)
    if depth == 0:
        return None, None
    a = (1 - conf) / 2
    lo = 0.0 if alt == 0 else _bisect(lambda p: binom_sf(alt, depth, p), a, increasing=True)
    hi = 1.0 if alt == depth else _bisect(lambda p: binom_cdf(alt, depth, p), a,
                                          increasing=False)
    return lo, hi


def betabinom_sf(k: int, n: int, mean: float, rho: float) -> float:
    """P(X >= k) for a beta-binomial with the given ``mean`` and intra-class correlation ``rho``
    (over-dispersion; ``rho = 0`` is the binomial): Beta(a, b) with a = mean (1 - rho) / rho,
    b = (1 - mean) (1 - rho) / rho. Summed over the k lower terms (k is small here)."""
    if rho <= 0:
        return binom_sf(k, n, mean)
    if k <= 0:
        return 1.0
    if k > n or mean <= 0:
        return 0.0
    a, b = mean * (1 - rho) / rho, (1 - mean) * (1 - rho) / rho
    base = math.lgamma(n + 1) + math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) \
        - math.lgamma(n + a + b)
    cdf = sum(math.exp(base - math.lgamma(i + 1) - math.lgamma(n - i + 1) + math.lgamma(i + a)
                       + math.lgamma(n - i + b)) for i in range(k))
    return max(0.0, 1.0 - cdf)


def call_threshold(depth: int, background: float = DEFAULT_BACKGROUND,
                   alpha: float = DEFAULT_ALPHA_CALL, min_alt: int = 2,
                   min_vaf: float = 0.0, dispersion: float = 0.0) -> int:
    """Smallest alt count ``k*`` with ``P(X >= k* | depth, background) < alpha``, at least
    ``min_alt`` and at least ``ceil(min_vaf * depth)`` (see the module doc). ``dispersion`` > 0
    makes the background beta-binomial (:func:`betabinom_sf`): error rates that vary between
    sites or samples put more weight in the tail and raise ``k*``."""
    if not 0 <= background < 1:
        raise InputError(f"background error must be in [0, 1), got {background!r}")
    if not 0 <= dispersion < 1:
        raise InputError(f"dispersion must be in [0, 1), got {dispersion!r}")
    k = max(int(min_alt), math.ceil(min_vaf * depth - 1e-9), 1)
    while k <= depth and betabinom_sf(k, depth, background, dispersion) >= alpha:
        k += 1
    return k


def lod(depth: int, k_call: int, power: float = DEFAULT_LOD_POWER) -> float | None:
    """Smallest VAF detected with probability ``power`` when ``k_call`` alt reads are needed at
    ``depth``: ``P(X >= k_call | depth, f) = power``. None when the depth cannot reach k_call."""
    if depth <= 0 or k_call > depth:
        return None
    return _bisect(lambda p: binom_sf(k_call, depth, p), power, increasing=True)


def background_p(alt: int, depth: int, background: float) -> float:
    """P(X >= alt | depth, background): how often background error alone gives this many."""
    _check(alt, depth)
    return binom_sf(alt, depth, background)
