"""Device-side settings of a simulated recording (rates, ranges, channels, link quality)."""

from __future__ import annotations

from dataclasses import dataclass

from twitchwatch.errors import ConfigError

#: Lowest rates the simulator accepts, Hz. The detector needs accel >= 16 Hz and EMG >= 500 Hz
#: (issue 3); accel goes down to 10 Hz here because some public wrist data (UEA BasicMotions) is 10 Hz.
MIN_ACCEL_RATE_HZ = 10.0
MIN_EMG_RATE_HZ = 500.0
#: Highest rates accepted, Hz: far above any wearable front end; guards against typos (1e9 Hz).
MAX_RATE_HZ = 20_000.0


@dataclass(frozen=True)
class SimConfig:
    """What the simulated device looks like.

    Attributes
    ----------
    accel_rate_hz : accelerometer output data rate, Hz (>= 10)
    emg_rate_hz : EMG sampling rate, Hz (>= 500)
    emg_channels : 0, 1 or 2; channel 0 is tibialis anterior (agonist, dorsiflexor), channel 1
        gastrocnemius (antagonist). Wrist placement has no EMG: treated as 0 there.
    accel_range_g : accelerometer full scale, +-g; samples beyond it clip (int16 counts,
        scale = range / 32768 g per count)
    emg_range_uv : EMG front-end full scale, +-uV (scale = range / 32768 uV per count)
    mains_hz : power-line frequency, 50 or 60 Hz
    dropouts_per_hour : mean rate of link dropouts (samples lost in both streams), per hour
    dropout_max_s : longest dropout, seconds (lengths are log-uniform from 20 ms to this)
    tile_s : internal rendering tile, seconds. Output does not depend on how it is read out
        (simulate vs. simulate_blocks), but does depend on this value; keep the default.
    """

    accel_rate_hz: float = 208.0
    emg_rate_hz: float = 1000.0
    emg_channels: int = 2
    accel_range_g: float = 16.0
    mains_hz: float = 50.0
    emg_range_uv: float = 5000.0
    dropouts_per_hour: float = 0.0
    dropout_max_s: float = 2.0
    tile_s: float = 16.0

    def __post_init__(self) -> None:
        if not (MIN_ACCEL_RATE_HZ <= float(self.accel_rate_hz) <= MAX_RATE_HZ):
            raise ConfigError(
                f"simulator: accel_rate_hz={self.accel_rate_hz} is outside {MIN_ACCEL_RATE_HZ:g}-{MAX_RATE_HZ:g} Hz"
            )
        if self.emg_channels not in (0, 1, 2):
            raise ConfigError(f"simulator: emg_channels={self.emg_channels} must be 0, 1 or 2")
        if self.emg_channels and not (MIN_EMG_RATE_HZ <= float(self.emg_rate_hz) <= MAX_RATE_HZ):
            raise ConfigError(
                f"simulator: emg_rate_hz={self.emg_rate_hz} is outside {MIN_EMG_RATE_HZ:g}-{MAX_RATE_HZ:g} Hz"
            )
        if not (0.5 <= self.accel_range_g <= 400.0):
            raise ConfigError(f"simulator: accel_range_g={self.accel_range_g} is not a plausible full scale")
        if not (100.0 <= self.emg_range_uv <= 1e6):
            raise ConfigError(f"simulator: emg_range_uv={self.emg_range_uv} is not a plausible full scale")
        if self.mains_hz not in (50.0, 60.0, 50, 60):
            raise ConfigError(f"simulator: mains_hz={self.mains_hz} must be 50 or 60")
        if self.dropouts_per_hour < 0 or self.dropout_max_s <= 0.02:
            raise ConfigError("simulator: dropouts_per_hour must be >= 0 and dropout_max_s > 0.02 s")
        if not (1.0 <= self.tile_s <= 600.0):
            raise ConfigError(f"simulator: tile_s={self.tile_s} must be 1-600 s")

    @property
    def accel_scale_g(self) -> float:
        """g per int16 count."""
        return self.accel_range_g / 32768.0

    @property
    def emg_scale_uv(self) -> float:
        """uV per int16 count."""
        return self.emg_range_uv / 32768.0

    def emg_channels_for(self, placement: str) -> int:
        """EMG channels actually produced at a placement (the wrist device has none)."""
        return 0 if placement == "wrist" else int(self.emg_channels)
