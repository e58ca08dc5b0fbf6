"""ctresist.stats against reference values computed with SciPy 1.17 (scipy.stats.beta.ppf for the
Clopper-Pearson bounds, scipy.stats.binom for the tails); SciPy is not a dependency, so the values
are written here."""
import time

import pytest

from ctresist import stats

#: (alt, depth) -> (lower, upper) of the two-sided 95 % Clopper-Pearson interval
SCIPY_CI = {
    (1, 3000): (8.439233717563405e-06, 0.001855799994491922),
    (12, 3000): (0.0020685142713180557, 0.006976759682170838),
    (41, 4150): (0.007098778994655165, 0.013379043801284303),
    (160, 4000): (0.03414048275208074, 0.04654292519960684),
    (2000, 4000): (0.48438490230522296, 0.5156150976947771),
}


@pytest.mark.parametrize("counts", sorted(SCIPY_CI))
def test_clopper_pearson_matches_scipy(counts):
    lo, hi = stats.vaf_ci(*counts)
    assert lo == pytest.approx(SCIPY_CI[counts][0], rel=1e-9)
    assert hi == pytest.approx(SCIPY_CI[counts][1], rel=1e-9)


def test_binomial_tails_match_scipy():
    assert stats.binom_sf(3, 2400, 5e-4) == pytest.approx(0.12046950713259912, rel=1e-9)
    # a far lower tail keeps its relative precision (no 1 - x cancellation)
    assert stats.binom_cdf(100, 20000, 0.01) == pytest.approx(2.886911859747863e-15, rel=1e-6)


def test_interval_is_fast_at_panel_depths():
    """One interval per finding and per ctDNA site: it must not dominate annotate (it took
    ~0.2 s each when the tails were summed term by term)."""
    start = time.process_time()
    for alt in range(0, 4000, 40):
        stats.vaf_ci(alt, 4000)
    assert time.process_time() - start < 2.0  # 100 intervals; ~0.35 s measured here
