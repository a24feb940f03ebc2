"""DSP functions against synthetic signals with known answers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ruview_core.dsp import (
    GainStep,
    amplitude,
    antenna_ratio,
    autocorrelation_periodicity,
    band_power,
    conjugate_reference_product,
    detect_gain_steps,
    frequency_order,
    hampel,
    lltf_width,
    longest_true_run,
    motion_energy,
    parabolic_peak,
    periodogram_peak,
    reference_subcarrier,
    remove_gain_steps,
    resample_uniform,
    sanitize_phase,
    select_subcarriers,
    signed_subcarrier_index,
    sliding_windows,
    usable_subcarriers,
    welch_psd,
)

RNG = np.random.default_rng(1234)

# Raw-order null/guard positions of three ESP32 families.
CHIP_NULLS = {
    "s3": [0, *range(29, 36)],
    "c6": [0, 1, 2, 3, 32, 61, 62, 63],
    "esp32": list(range(30, 35)),
}


def _multipath_csi(n_frames: int, rng: np.random.Generator, nulls=()) -> np.ndarray:
    """[T, 64] raw-order CSI: a few static paths, small noise, zeros on the given nulls."""
    f = signed_subcarrier_index(64)
    delays = rng.uniform(0, 0.4, 4)
    gains = rng.uniform(0.3, 1.0, 4) * np.exp(1j * rng.uniform(0, 2 * np.pi, 4))
    profile = (gains[:, None] * np.exp(-2j * np.pi * delays[:, None] * f[None, :] / 8)).sum(0)
    csi = np.tile(profile * 20, (n_frames, 1))
    csi += rng.normal(0, 0.3, csi.shape) + 1j * rng.normal(0, 0.3, csi.shape)
    csi[:, list(nulls)] = rng.normal(0, 0.05, (n_frames, len(nulls)))
    return csi


def test_signed_index_puts_negative_half_after_positive_half():
    index = signed_subcarrier_index(64)
    assert index[0] == 0 and index[31] == 31 and index[32] == -32 and index[63] == -1
    assert np.array_equal(index[frequency_order(64)], np.arange(-32, 32))


def test_lltf_width_keeps_first_64_of_ht_frames():
    assert lltf_width(64) == 64
    assert lltf_width(128) == 64
    assert lltf_width(192) == 64
    assert lltf_width(128, bandwidth_mhz=40) == 128
    assert lltf_width(56) == 56


@pytest.mark.parametrize("chip", sorted(CHIP_NULLS))
def test_usable_subcarriers_finds_each_chips_nulls(chip):
    csi = _multipath_csi(200, np.random.default_rng(7), CHIP_NULLS[chip])
    mask = usable_subcarriers(amplitude(csi))
    # DC (raw bin 0) never carries channel in OFDM, whatever a chip reports there.
    assert sorted(np.flatnonzero(~mask)) == sorted({0, *CHIP_NULLS[chip]})


def test_sources_that_drop_the_nulls_list_tones_in_ascending_order():
    # 52 / 56 tones (WiFall, UJI, Atheros and Intel NICs): -26..-1, +1..+26 without DC.
    assert np.array_equal(signed_subcarrier_index(52), np.r_[-26:0, 1:27])
    assert np.array_equal(signed_subcarrier_index(56), np.r_[-28:0, 1:29])
    assert np.array_equal(signed_subcarrier_index(128)[:3], [0, 1, 2])  # whole FFTs stay in bin order


def test_a_word_that_is_not_channel_is_dropped_from_the_layout():
    # ESP32-CSI-Tool rows start with a nearly constant non-CSI word (|H| ~146) in bin 0 and bin 1
    # beside guard nulls; a tone several times stronger than its neighbours is not channel either.
    csi = _multipath_csi(200, np.random.default_rng(5), CHIP_NULLS["s3"])
    csi[:, 0] = 82 - 96j
    csi[:, 1] = 4
    csi[:, 2:6] = 0  # the guard nulls around it, as in the recording of a seated person
    csi[:, 60:] = 0
    csi[:, 10] *= 8
    mask = usable_subcarriers(amplitude(csi))
    assert not mask[[0, 1, 2, 3, 4, 5, 10]].any()
    assert mask[[6, 7, 9, 11, 20]].all()


def test_usable_subcarriers_of_silence_is_empty():
    assert not usable_subcarriers(np.zeros((10, 64))).any()


def test_sanitize_phase_removes_random_slope_and_offset_per_packet():
    rng = np.random.default_rng(3)
    n = 50
    usable = np.ones(64, bool)
    usable[CHIP_NULLS["s3"]] = False
    f = signed_subcarrier_index(64)[usable]
    shape = 0.4 * np.sin(f / 5.0)  # the multipath shape we want to keep
    shape = shape - shape.mean() - np.polyfit(f, shape, 1)[0] * (f - f.mean())
    slopes = rng.uniform(-0.6, 0.6, n)  # large enough to wrap many times across the band
    offsets = rng.uniform(-np.pi, np.pi, n)
    phase = shape[None, :] + slopes[:, None] * f[None, :] + offsets[:, None]
    csi = 10 * np.exp(1j * phase)
    clean = sanitize_phase(csi, f)
    np.testing.assert_allclose(clean, np.tile(shape, (n, 1)), atol=1e-9)


def test_sanitize_phase_default_assumes_raw_order():
    f = signed_subcarrier_index(64)
    csi = np.exp(1j * (0.05 * f + 1.0))
    np.testing.assert_allclose(sanitize_phase(csi), 0.0, atol=1e-9)
    # Treating the raw order as frequency order sees a jump of 63 * 0.05 rad between +31 and
    # -32, which unwrapping cannot tell from a -pi step, and bends the fitted line.
    assert np.abs(sanitize_phase(csi, np.arange(64))).max() > 1.0


def test_conjugate_product_cancels_common_phase_offset():
    rng = np.random.default_rng(5)
    base = _multipath_csi(1, rng)[0]
    offsets = np.exp(1j * rng.uniform(-np.pi, np.pi, 30))
    product = conjugate_reference_product(base[None, :] * offsets[:, None], reference=5)
    np.testing.assert_allclose(product, np.tile(product[0], (30, 1)), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(np.angle(product[:, 5]), 0.0, atol=1e-12)


def test_reference_subcarrier_prefers_strong_steady_one():
    rng = np.random.default_rng(9)
    csi = np.ones((100, 6), complex) * np.array([1, 5, 5, 5, 0.2, 5])
    csi[:, [1, 2, 5]] *= 1 + 0.5 * rng.normal(size=(100, 3))  # strong but fluctuating
    assert reference_subcarrier(csi) == 3


def test_antenna_ratio_cancels_per_packet_phase_and_gain():
    rng = np.random.default_rng(11)
    h = _multipath_csi(2, rng)  # two antennas' static channels
    common = rng.uniform(0.5, 2, 40) * np.exp(1j * rng.uniform(-np.pi, np.pi, 40))
    slope = np.exp(1j * np.outer(rng.uniform(-0.5, 0.5, 40), signed_subcarrier_index(64)))
    csi = h[None, :, :] * (common[:, None] * 1)[:, :, None] * slope[:, None, :]
    ratio = antenna_ratio(csi)
    np.testing.assert_allclose(ratio, np.tile(h[0] / h[1], (40, 1)), rtol=1e-9)


def test_hampel_replaces_spikes_and_keeps_the_rest():
    t = np.arange(400) / 20
    x = np.sin(2 * np.pi * 0.3 * t) + RNG.normal(0, 0.01, t.size)
    spiky = x.copy()
    where = [17, 120, 121, 300]
    spiky[where] += [5, -4, -4, 6]
    filtered, outliers = hampel(spiky, half_window=4)
    assert set(np.flatnonzero(outliers)) == set(where)
    assert np.abs(filtered - x).max() < 0.1


def test_hampel_works_along_any_axis_independently():
    x = np.zeros((3, 50)) + RNG.normal(0, 0.01, (3, 50))
    x[1, 25] = 10
    filtered, outliers = hampel(x, half_window=3, axis=1)
    assert outliers[1, 25] and not outliers[1, 20:25].any()
    filtered_t, outliers_t = hampel(x.T, half_window=3, axis=0)
    np.testing.assert_array_equal(outliers_t, outliers.T)
    np.testing.assert_allclose(filtered_t, filtered.T)


def test_hampel_floor_keeps_quantised_steps():
    x = np.repeat([10.0, 11.0], [30, 30])
    x[::7] += 1  # single-level quantisation wiggles with zero MAD around them
    _, outliers = hampel(x, half_window=3)
    assert outliers.any()
    _, outliers = hampel(x, half_window=3, floor=1.5)
    assert not outliers.any()


def test_resample_recovers_a_ramp_from_jittered_times():
    times = np.arange(0, 10, 0.05) + RNG.uniform(-0.02, 0.02, 200)
    values = np.column_stack([3 * times, -times])
    series = resample_uniform(times, values, rate_hz=20)
    assert series.valid.all()
    np.testing.assert_allclose(series.values[:, 0], 3 * series.times, atol=1e-9)
    np.testing.assert_allclose(np.diff(series.times), 0.05)


def test_resample_marks_and_reports_gaps_instead_of_inventing_data():
    times = np.concatenate([np.arange(0, 5, 0.05), np.arange(8, 10, 0.05)])
    values = np.sin(times) + 1j * np.cos(times)
    series = resample_uniform(times, values, rate_hz=10, max_gap=0.5)
    assert len(series.gaps) == 1
    assert series.gaps[0][0] == pytest.approx(4.95) and series.gaps[0][1] == pytest.approx(8.0)
    inside_gap = (series.times > 4.95) & (series.times < 8.0)
    assert not series.valid[inside_gap].any()
    assert np.isnan(series.values[inside_gap]).all()
    assert series.valid[~inside_gap].all()
    np.testing.assert_allclose(series.values[series.valid], np.sin(series.times[series.valid])
                               + 1j * np.cos(series.times[series.valid]), atol=2e-3)
    run = series.longest_valid_run()
    assert series.times[run][0] == 0 and series.times[run][-1] == pytest.approx(4.9)


def test_resample_handles_unsorted_and_repeated_times():
    times = np.array([0.3, 0.0, 0.1, 0.1, 0.2])
    values = np.array([3.0, 0.0, 9.0, 1.0, 2.0])
    series = resample_uniform(times, values, rate_hz=10)
    np.testing.assert_allclose(series.values, [0, 1, 2, 3])


def test_longest_true_run():
    assert longest_true_run(np.array([1, 1, 0, 1, 1, 1, 0], bool)) == slice(3, 6)
    assert longest_true_run(np.zeros(4, bool)) == slice(0, 0)


def test_sliding_windows_are_views_with_the_right_content():
    x = np.arange(20).reshape(10, 2)
    windows = sliding_windows(x, length=4, step=3)
    assert windows.shape == (3, 4, 2)
    assert np.shares_memory(windows, x)
    np.testing.assert_array_equal(windows[1], x[3:7])
    assert sliding_windows(x, length=11).shape == (0, 11, 2)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 60), length=st.integers(1, 20), step=st.integers(1, 7))
def test_sliding_windows_match_slicing(n, length, step):
    x = np.arange(n)
    windows = sliding_windows(x, length, step)
    expected = [x[i : i + length] for i in range(0, n - length + 1, step)]
    assert windows.shape[0] == len(expected)
    for w, e in zip(windows, expected):
        np.testing.assert_array_equal(w, e)


def test_select_subcarriers_prefers_the_ones_that_moved():
    baseline = RNG.normal(0, 1, (200, 10))
    window = RNG.normal(0, 1, (200, 10))
    window[:, [2, 7]] *= 5
    assert list(select_subcarriers(window, 2, baseline=baseline)) == [2, 7]
    assert list(select_subcarriers(window, 2)) == [2, 7]
    strong = 100 + RNG.normal(0, 1, (200, 4))
    strong[:, 1] = 1 + RNG.normal(0, 0.5, 200)  # weak but relatively very variable
    assert list(select_subcarriers(strong, 1, relative=True)) == [1]


@pytest.mark.parametrize("freq", [0.137, 0.25, 0.4123])
def test_periodogram_peak_is_finer_than_the_bin_spacing(freq):
    rate, n = 15.0, 300  # 20 s: bins are 0.05 Hz = 3 bpm apart
    t = np.arange(n) / rate
    x = np.sin(2 * np.pi * freq * t + 0.3) + RNG.normal(0, 0.2, n)
    estimate, fraction = periodogram_peak(x, rate, 0.1, 0.5)
    assert abs(estimate - freq) * 60 < 0.5
    assert fraction > 0.6


def test_periodogram_peak_of_noise_has_low_fraction():
    fractions = [periodogram_peak(RNG.normal(size=600), 20.0, 0.1, 0.5)[1] for _ in range(40)]
    assert np.median(fractions) < 0.5


@pytest.mark.parametrize("freq", [1.13, 1.5, 1.87])
def test_autocorrelation_periodicity_sub_sample_lag(freq):
    rate = 15.0  # integer lags alone would quantise 1.5 Hz to 4-6 bpm steps
    t = np.arange(450) / rate
    estimate, strength = autocorrelation_periodicity(np.cos(2 * np.pi * freq * t), rate, 0.8, 2.0)
    assert abs(estimate - freq) * 60 < 1.0
    assert strength > 0.7


def test_autocorrelation_periodicity_of_noise_is_weak():
    _, strength = autocorrelation_periodicity(RNG.normal(size=400), 20.0, 0.1, 0.5)
    assert strength < 0.3
    assert autocorrelation_periodicity(np.ones(5), 20.0, 0.1, 0.5) == (None, 0.0)


def test_welch_psd_and_band_power_find_the_tone():
    rate = 20.0
    t = np.arange(1200) / rate
    x = np.sin(2 * np.pi * 0.3 * t) + 0.1 * RNG.normal(size=t.size)
    freqs, psd = welch_psd(x, rate, segment_seconds=20)
    assert abs(freqs[np.argmax(psd)] - 0.3) <= freqs[1]
    in_band = band_power(freqs, psd, 0.2, 0.4)
    total = band_power(freqs, psd, 0, rate / 2)
    assert in_band / total > 0.8
    # Sine of amplitude 1 has power 0.5.
    assert in_band == pytest.approx(0.5, rel=0.25)


def test_welch_psd_along_axis_of_matrix():
    x = np.column_stack([np.sin(np.arange(400) * 2 * np.pi * f / 20) for f in (0.2, 1.0)])
    freqs, psd = welch_psd(x, 20.0, axis=0)
    assert psd.shape == (freqs.size, 2)
    np.testing.assert_allclose(freqs[np.argmax(psd, axis=0)], [0.2, 1.0], atol=freqs[1])


def test_parabolic_peak_recovers_vertex():
    y = -((np.arange(7) - 3.3) ** 2) + 4
    position, height = parabolic_peak(y, 3)
    assert position == pytest.approx(3.3)
    assert height == pytest.approx(4.0)
    assert parabolic_peak(y, 0) == (0.0, y[0])


def test_motion_energy_grows_with_motion_and_ignores_gain():
    still = 10 + RNG.normal(0, 0.05, (40, 30))
    moving = 10 + 3 * RNG.normal(0, 1, (40, 30)).cumsum(axis=0) / 6
    assert motion_energy(moving) > 20 * motion_energy(still)
    assert motion_energy(still * 7) == pytest.approx(motion_energy(still))
    assert motion_energy(still[:2]) == 0.0


def test_motion_energy_phase_term_ignores_two_pi_flips():
    amp = np.ones((30, 4))
    phase = np.zeros((30, 4))
    phase[10:, 0] += 2 * np.pi
    assert motion_energy(amp, phase) == pytest.approx(0.0, abs=1e-20)


def test_gain_steps_are_found_sized_and_removed():
    rng = np.random.default_rng(21)
    profile = rng.uniform(5, 20, 50)
    amp = profile * (1 + rng.normal(0, 0.01, (300, 50)))
    amp *= np.exp(rng.normal(0, 0.02, (300, 1)))  # packet-to-packet common jitter, ~0.2 dB
    truth = {100: 10 ** (3 / 20), 220: 10 ** (-2 / 20)}
    gained = amp.copy()
    for index, ratio in truth.items():
        gained[index:] *= ratio
    steps = detect_gain_steps(gained)
    assert [s.index for s in steps] == sorted(truth)
    for s in steps:
        assert s.ratio == pytest.approx(truth[s.index], rel=0.03)
    assert steps[0].db == pytest.approx(3.0, abs=0.3)
    restored = remove_gain_steps(gained, steps)
    assert np.abs(np.log(restored / amp)).max() < 0.05


def test_gain_steps_ignore_spikes_and_frequency_selective_changes():
    rng = np.random.default_rng(22)
    amp = rng.uniform(5, 20, 40) * (1 + rng.normal(0, 0.01, (200, 40)))
    amp[50] *= 2.0  # one-frame glitch
    amp[120:] *= rng.uniform(0.5, 2.0, 40)  # a body moved: each subcarrier differently
    assert detect_gain_steps(amp) == []


def test_remove_gain_steps_works_on_complex_csi():
    csi = np.ones((10, 3), complex) * (1 + 1j)
    csi[4:] *= 2
    fixed = remove_gain_steps(csi, [GainStep(4, 2.0)])
    np.testing.assert_allclose(fixed, np.ones((10, 3)) * (1 + 1j))


def test_resample_nearest_never_blends_samples_and_still_respects_gaps():
    times = np.array([0.0, 0.11, 0.19, 0.32, 2.0, 2.1])
    values = np.arange(6) * (1 + 1j)
    series = resample_uniform(times, values, rate_hz=10, max_gap=0.5, method="nearest")
    good = series.values[series.valid]
    assert set(good.tolist()) <= set(values.tolist())
    np.testing.assert_array_equal(series.values[:4], values[[0, 1, 2, 3]])
    assert not series.valid[(series.times > 0.32) & (series.times < 2.0)].any()


def test_align_to_profile_removes_packet_gain_and_timing_slope():
    from ruview_core.dsp import align_to_profile, signed_subcarrier_index, smooth_projection

    rng = np.random.default_rng(11)
    f = signed_subcarrier_index(64)[np.r_[1:29, 36:64]]
    profile = (rng.normal(size=f.size) + 1j * rng.normal(size=f.size)) + 2.0
    shape = 0.01 * np.exp(1j * 0.3 * np.linspace(-1, 1, f.size))  # a smooth shape change
    wave = np.sin(2 * np.pi * 0.25 * np.arange(200) / 20.0)
    truth = profile + np.outer(wave, shape)
    gain = 10 ** (rng.normal(0, 0.3, 200) / 20) * np.exp(1j * rng.uniform(0, 2 * np.pi, 200))
    slope = rng.normal(0, 0.04, 200)
    received = truth * gain[:, None] * np.exp(1j * slope[:, None] * f)
    result = align_to_profile(received, f)
    # Up to one factor per subcarrier shared by all packets (an overall gain and phase line),
    # every packet matches the true channel again.
    ratio = result.aligned / truth
    assert np.max(np.abs(ratio - ratio.mean(axis=0))) < 0.02 * np.abs(ratio.mean(axis=0)).min()
    coefficients = smooth_projection(result.residual, f, degree=2)
    assert coefficients.shape == (200, 3)
    # The smooth change survives the projection: the coefficients follow the breathing wave.
    strongest = coefficients[:, np.argmax(np.abs(coefficients).std(axis=0))]
    phase = np.angle(np.vdot(wave, strongest))
    assert np.corrcoef((strongest * np.exp(-1j * phase)).real, wave)[0, 1] > 0.9
