"""Twitch and burst events from an adaptive noise floor, streaming.

For each channel of an envelope signal the noise floor of grid block ``j`` is the median of the
geometric-mean envelope of the ``floor_history_blocks`` blocks before it (only the past: causal).
An event starts when the envelope exceeds ``on_ratio`` x floor and ends when it falls below
``off_ratio`` x floor (hysteresis). Events closer than the refractory time are merged into one.
Events shorter than ``twitch_max_s`` are "twitch", longer ones "burst".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twitchwatch.core import native
from twitchwatch.core.blocks import BlockReducer, BlockRuns
from twitchwatch.model import Event


#: Log-envelopes are summed as integers of 1e-6 (exact, order-independent sums).
LOG_SCALE = 1e6


@dataclass(frozen=True)
class EventSettings:
    """Settings of one :class:`EventDetector` (units: s, ratios, the stream's unit for the floor)."""

    on_ratio: float
    off_ratio: float
    refractory_s: float
    twitch_max_s: float
    min_floor: float
    history_blocks: int


class EventDetector:
    """Streaming onset/offset detection on an envelope (n, channels) sampled at ``rate_hz``.

    Parameters
    ----------
    stream : "accel" or "emg" (copied into each Event)
    channel_names : one name per envelope channel
    t0_s, rate_hz : time of global sample 0 and the rate; event times are ``t0_s + index / rate_hz``
    settings : :class:`EventSettings`
    """

    def __init__(self, stream: str, channel_names: tuple[str, ...], t0_s: float, rate_hz: float, settings: EventSettings):
        self.stream = stream
        self.names = tuple(channel_names)
        self.c = len(self.names)
        self.t0_s, self.rate_hz, self.s = float(t0_s), float(rate_hz), settings
        self.refractory = max(1, int(round(settings.refractory_s * rate_hz)))
        self._log_sums = BlockReducer(np.add, self.c + 1)
        self._history = np.zeros((0, self.c))  # geometric-mean envelopes of the last completed blocks
        self._floor_block: int | None = None  # block whose floor is cached in _floor
        self._floor = np.full(self.c, np.inf)
        self._active = np.zeros(self.c, dtype=bool)
        self._open_on = np.zeros(self.c, dtype=np.int64)
        self._open_peak = np.zeros(self.c)
        self._pending: list[tuple[int, int, float] | None] = [None] * self.c
        self._next_index = 0

    # -- noise floor --------------------------------------------------------------------------
    def _floors_for(self, uniq: np.ndarray, done_ids: np.ndarray, done_geo: np.ndarray) -> np.ndarray:
        """Floors (u, c) of the distinct blocks ``uniq`` (u,), ascending; completes the history with
        the geometric-mean envelopes ``done_geo`` of the blocks ``done_ids`` completed meanwhile."""
        m = self.s.history_blocks
        hist = np.concatenate([self._history, done_geo])  # rows: blocks in time order
        # position in hist of each distinct block: blocks completed in this chunk are the last rows
        n_prev = self._history.shape[0]
        pos = n_prev + np.searchsorted(done_ids, uniq)  # number of rows strictly before that block
        floors = np.empty((uniq.shape[0], self.c))
        full = pos >= m
        if full.any():
            windows = np.lib.stride_tricks.sliding_window_view(hist, m, axis=0)  # (rows-m+1, c, m)
            floors[full] = np.median(windows[pos[full] - m], axis=-1)
        for i in np.flatnonzero(~full):  # only during the first history_blocks blocks
            floors[i] = self._median_before(hist, pos[i])
        self._history = hist[-m:]
        floors = np.exp(floors)
        return np.maximum(floors, self.s.min_floor)

    def _median_before(self, hist: np.ndarray, p: int) -> np.ndarray:
        if p <= 0:
            return np.full(self.c, np.inf)
        return np.median(hist[max(0, p - self.s.history_blocks) : p], axis=0)

    # -- main step ----------------------------------------------------------------------------
    def process(self, env: np.ndarray, runs: BlockRuns, next_id: int) -> tuple[list[Event], np.ndarray]:
        """Detect events in the next ``env`` samples (n, c), which fall in the grid blocks ``runs``
        (:func:`~twitchwatch.core.blocks.block_runs`); ``next_id`` is the block of the next sample.

        Returns
        -------
        events : the events that became final, in time order per channel
        floor : (n, c) the noise floor used for each sample (inf during the first block)
        """
        n = env.shape[0]
        g0 = self._next_index
        self._next_index += n
        # log-envelope in integer micro-units: block sums are then exact whatever the chunking
        uniq = runs.ids
        sums = log_block_sums(np.log(np.maximum(env, self.s.min_floor)), runs.starts)
        done_ids, done = self._log_sums.feed(uniq, sums, next_id)
        done_geo = done[:, : self.c] / done[:, self.c :] / LOG_SCALE if done.shape[0] else np.zeros((0, self.c))
        if n == 0:
            self._history = np.concatenate([self._history, done_geo])[-self.s.history_blocks :]
            self._floor_block = None
            return self._flush_pending(g0, force=False), np.zeros((0, self.c))
        if self._floor_block is not None and uniq.size == 1 and uniq[0] == self._floor_block and not done_ids.size:
            floor = np.broadcast_to(self._floor, (n, self.c))  # live chunks inside one block: cached
        else:
            floors = self._floors_for(uniq, done_ids, done_geo)
            self._floor_block, self._floor = int(uniq[-1]), floors[-1].copy()
            floor = np.repeat(floors, runs.lengths(), axis=0)  # each block's rows
        state, any_on = hysteresis(env, floor, self._active, self.s.on_ratio, self.s.off_ratio)
        if not self._active.any() and not any_on:
            # nothing crosses the onset threshold and nothing is open: only pending events may end
            return self._flush_pending(g0 + n, force=False), floor
        prev = np.concatenate([self._active[None, :], state[:-1]])
        events: list[Event] = []
        for ch in range(self.c):
            events.extend(self._channel_events(ch, env[:, ch], state[:, ch], prev[:, ch], g0))
        self._active = state[-1].copy()
        return events, floor

    def _channel_events(self, ch: int, env: np.ndarray, state: np.ndarray, prev: np.ndarray, g0: int) -> list[Event]:
        n = env.shape[0]
        rises = np.flatnonzero(state & ~prev)
        falls = np.flatnonzero(~state & prev)
        closed: list[tuple[int, int, float]] = []
        starts = list(rises)
        ends = list(falls)
        if prev[0]:  # an event was open when this block began
            first_end = ends.pop(0) if ends else None
            if first_end is None:
                self._open_peak[ch] = max(self._open_peak[ch], float(env.max()))
                return self._finish_channel(ch, closed, g0 + n, open_on=int(self._open_on[ch]))
            peak = max(self._open_peak[ch], float(env[:first_end].max()) if first_end > 0 else 0.0)
            closed.append((int(self._open_on[ch]), g0 + first_end, peak))
        open_on = None
        if len(starts) > len(ends):
            s = starts.pop()
            open_on = g0 + s
            self._open_on[ch] = open_on
            self._open_peak[ch] = float(env[s:].max())
        if starts:
            s_arr = np.asarray(starts)
            e_arr = np.asarray(ends)
            peaks = np.maximum.reduceat(env, np.ravel(np.column_stack([s_arr, e_arr])))[::2]
            closed.extend(zip((g0 + s_arr).tolist(), (g0 + e_arr).tolist(), peaks.tolist()))
        return self._finish_channel(ch, closed, g0 + n, open_on=open_on)

    def _finish_channel(self, ch: int, closed: list, end_index: int, open_on: int | None) -> list[Event]:
        """Merge closed events with the pending one (refractory) and emit those that are final."""
        if self._pending[ch] is not None:
            closed.insert(0, self._pending[ch])
            self._pending[ch] = None
        merged: list[list] = []
        for on, off, peak in closed:
            if merged and on - merged[-1][1] < self.refractory:
                merged[-1][1] = off
                merged[-1][2] = max(merged[-1][2], peak)
            else:
                merged.append([on, off, peak])
        if merged:
            on, off, peak = merged[-1]
            horizon = open_on if open_on is not None else end_index
            if horizon - off < self.refractory:
                self._pending[ch] = (on, off, peak)
                merged.pop()
        return [self._event(ch, on, off, peak) for on, off, peak in merged]

    def _flush_pending(self, end_index: int, force: bool) -> list[Event]:
        out = []
        for ch in range(self.c):
            p = self._pending[ch]
            if p is not None and (force or end_index - p[1] >= self.refractory) and not self._active[ch]:
                out.append(self._event(ch, *p))
                self._pending[ch] = None
        return out

    def _event(self, ch: int, on: int, off: int, peak: float) -> Event:
        duration = (off - on) / self.rate_hz
        return Event(
            t_s=self.t0_s + on / self.rate_hz,
            duration_s=duration,
            kind="twitch" if duration < self.s.twitch_max_s else "burst",
            stream=self.stream,
            channel=self.names[ch],
            amplitude=float(peak),
        )

    def horizon_s(self) -> float:
        """No event not yet returned can start before this time, s."""
        idx = self._next_index
        for ch in range(self.c):
            if self._pending[ch] is not None:
                idx = min(idx, self._pending[ch][0])
            if self._active[ch]:
                idx = min(idx, int(self._open_on[ch]))
        return self.t0_s + idx / self.rate_hz

    def finish(self) -> list[Event]:
        """End of stream: close open events at the last sample and emit everything pending."""
        out: list[Event] = []
        for ch in range(self.c):
            closed = []
            if self._pending[ch] is not None:
                closed.append(self._pending[ch])
                self._pending[ch] = None
            if self._active[ch]:
                closed.append((int(self._open_on[ch]), self._next_index, float(self._open_peak[ch])))
                self._active[ch] = False
            merged: list[list] = []
            for on, off, peak in closed:
                if merged and on - merged[-1][1] < self.refractory:
                    merged[-1][1], merged[-1][2] = off, max(merged[-1][2], peak)
                else:
                    merged.append([on, off, peak])
            out.extend(self._event(ch, *m) for m in merged)
        return out


def hysteresis(env: np.ndarray, floor: np.ndarray, active: np.ndarray, on_ratio: float, off_ratio: float
               ) -> tuple[np.ndarray, bool]:
    """On/off state of envelopes against their noise floors, with hysteresis.

    Parameters
    ----------
    env, floor : (n, c) envelope and noise floor, the stream's unit (floor > 0, inf = no floor yet)
    active : (c,) bool, the state before the first sample
    on_ratio, off_ratio : a sample is "on" when env > on_ratio x floor, "off" when
        env < off_ratio x floor (exclusive, since on_ratio > off_ratio and floor > 0); otherwise
        it keeps the previous sample's state

    Returns
    -------
    state : (n, c) bool, the state at each sample
    any_on : whether any sample was "on"
    """
    k = native.KERNELS
    if k is None:
        return _hysteresis_numpy(env, floor, active, on_ratio, off_ratio)
    env = np.ascontiguousarray(env, dtype=np.float64)
    floor = np.ascontiguousarray(np.broadcast_to(floor, env.shape), dtype=np.float64)
    state = np.empty(env.shape, dtype=bool)
    any_on = k.hysteresis(env, floor, np.ascontiguousarray(active, dtype=bool), state, env.shape[0], env.shape[1],
                          float(on_ratio), float(off_ratio))
    return state, bool(any_on)


def log_block_sums(logs: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per-block sums of log-envelopes in integer units of 1/LOG_SCALE, and the rows of each block.

    Parameters
    ----------
    logs : (n, c) natural log of the envelope (computed by numpy's log in the caller)
    starts : (b,) int64, first row of each block, ascending, starting at 0 (b = 0 when n = 0)

    Returns
    -------
    (b, c + 1) int64: per block, the sum of ``round(logs * LOG_SCALE)`` per channel (half to even),
    then its number of rows. Integer sums, so exact whatever the grouping.
    """
    n, c = logs.shape
    k = native.KERNELS
    if k is None or not starts.size:
        return _log_block_sums_numpy(logs, starts)
    out = np.empty((starts.size, c + 1), dtype=np.int64)
    k.log_block_sums(np.ascontiguousarray(logs, dtype=np.float64), np.ascontiguousarray(starts, dtype=np.int64), out,
                     n, c, starts.size, LOG_SCALE)
    return out


def _log_block_sums_numpy(logs: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """:func:`log_block_sums` in numpy (the fallback without the compiled kernel, and its reference)."""
    n, c = logs.shape
    if not starts.size:
        return np.zeros((0, c + 1), dtype=np.int64)
    micro = np.round(logs * LOG_SCALE).astype(np.int64)
    return np.add.reduceat(np.concatenate([micro, np.ones((n, 1), np.int64)], axis=1), starts, axis=0)


def _hysteresis_numpy(env: np.ndarray, floor: np.ndarray, active: np.ndarray, on_ratio: float, off_ratio: float
                      ) -> tuple[np.ndarray, bool]:
    """:func:`hysteresis` in numpy (the fallback without the compiled kernel, and its reference):
    the state is "on" at the last decided sample."""
    n = env.shape[0]
    on = env > on_ratio * floor
    decided = on | (env < off_ratio * floor)
    last = np.where(decided, np.arange(n)[:, None], -1)
    np.maximum.accumulate(last, axis=0, out=last)
    state = np.where(last >= 0, np.take_along_axis(on, np.maximum(last, 0), axis=0), active[None, :])
    return state, bool(on.any())


def merge_channel_twitches(events: list[Event], cut_s: float, window_s: float) -> tuple[list[Event], list[Event]]:
    """One event per twitch seen on several EMG channels (cross-talk between neighbouring muscles).

    ``events`` must be sorted by time. EMG twitches on different channels that start within
    ``window_s`` of a group's first twitch become one Event (channel "ta+gc", the highest amplitude,
    the union of durations). Only groups whose first event starts before ``cut_s`` are decided;
    every event that could join them must already be in ``events`` (the caller's horizon).

    Returns
    -------
    ready : the decided events (merged), in time order
    waiting : the events left for later
    """
    ready: list[Event] = []
    waiting: list[Event] = []
    used = [False] * len(events)
    for i, e in enumerate(events):
        if used[i]:
            continue
        if e.t_s >= cut_s:
            waiting.append(e)
            continue
        if e.stream != "emg" or e.kind != "twitch":
            ready.append(e)
            continue
        group = [e]
        j = i + 1
        while j < len(events) and events[j].t_s < e.t_s + window_s:
            o = events[j]
            if not used[j] and o.stream == "emg" and o.kind == "twitch" and all(o.channel != g.channel for g in group):
                group.append(o)
                used[j] = True
            j += 1
        if len(group) == 1:
            ready.append(e)
        else:
            end = max(g.t_s + g.duration_s for g in group)
            ready.append(Event(e.t_s, end - e.t_s, "twitch", "emg", "+".join(g.channel for g in group),
                               max(g.amplitude for g in group)))
    return ready, waiting
