"""Signal processing for ESP32 CSI: pure functions over numpy arrays."""

from .align import AlignedCsi, align_to_profile, smooth_projection
from .agc import GainStep, detect_gain_steps, remove_gain_steps
from .hampel import hampel
from .motion import motion_energy, motion_energy_series, motion_index, normalised_amplitude
from .phase import (
    amplitude,
    antenna_ratio,
    conjugate_reference_product,
    reference_subcarrier,
    sanitize_csi,
    sanitize_phase,
)
from .resample import UniformSeries, longest_true_run, resample_uniform
from .spectral import (
    autocorrelation,
    autocorrelation_periodicity,
    band_power,
    parabolic_peak,
    periodogram_peak,
    welch_psd,
)
from .subcarriers import (
    frequency_order,
    lltf_width,
    select_subcarriers,
    sensitivity_ratio,
    signed_subcarrier_index,
    usable_subcarriers,
)
from .windows import sliding_windows

__all__ = [
    "AlignedCsi",
    "align_to_profile",
    "smooth_projection",
    "GainStep",
    "UniformSeries",
    "amplitude",
    "antenna_ratio",
    "autocorrelation",
    "autocorrelation_periodicity",
    "band_power",
    "conjugate_reference_product",
    "detect_gain_steps",
    "frequency_order",
    "hampel",
    "lltf_width",
    "longest_true_run",
    "motion_energy",
    "motion_energy_series",
    "motion_index",
    "normalised_amplitude",
    "parabolic_peak",
    "periodogram_peak",
    "reference_subcarrier",
    "remove_gain_steps",
    "resample_uniform",
    "sanitize_csi",
    "sanitize_phase",
    "select_subcarriers",
    "sensitivity_ratio",
    "signed_subcarrier_index",
    "sliding_windows",
    "usable_subcarriers",
    "welch_psd",
]
