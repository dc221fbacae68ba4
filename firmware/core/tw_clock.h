/* Device clock: microseconds since boot (u64) from a free-running hardware tick counter of
 * `counter_bits` bits (e.g. nRF52 RTC: 24 bits at 32768 Hz, wraps every 512 s; a 32-bit 1 MHz
 * timer wraps every 71.6 min). Call tw_clock_update at least once per counter period; every call
 * folds the elapsed ticks (modulo the counter width) into a 64-bit total, so wraps are harmless.
 * Not ISR-safe by itself: update it from one context. */
#ifndef TW_CLOCK_H
#define TW_CLOCK_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    uint32_t tick_hz;
    uint32_t mask; /* 2^counter_bits - 1 */
    uint32_t last_ticks;
    uint64_t total_ticks;
} tw_clock_t;

/* Returns 0, or -1 for tick_hz == 0 or counter_bits outside 1..32. */
int tw_clock_init(tw_clock_t *c, uint32_t tick_hz, uint8_t counter_bits, uint32_t ticks_now);
/* Fold in the counter's current value; returns microseconds since init. */
uint64_t tw_clock_update(tw_clock_t *c, uint32_t ticks_now);
/* Microseconds of a tick total, exact (floor), without 64-bit overflow for > 500 years at 1 MHz. */
uint64_t tw_ticks_to_us(uint64_t ticks, uint32_t tick_hz);
/* Device time of sample `index` of a stream started at t0_us and sampled at rate_mhz (exact floor). */
uint64_t tw_sample_time_us(uint64_t t0_us, uint64_t index, uint32_t rate_mhz);

/* Timestamps for a stream clocked by its own oscillator (the IMU: its ODR differs from nominal by
 * up to a few %), whose only time reference is when its FIFO is read (jitter up to one sample
 * period plus bus latency). A first-order loop: each block's time is the previous one plus
 * n / nominal rate, nudged by 1/8 of the error to the measured time. Consecutive blocks therefore
 * stay evenly spaced (the host sees no false gaps), the stream cannot drift away from the device
 * clock (a constant rate error leaves a constant lag: 8 x the drift per block), and an error beyond
 * max_error_us (samples lost) restarts it at the measured time. */
typedef struct {
    uint32_t rate_mhz;
    int64_t max_error_us;
    int64_t base_us; /* time of sample 0 of the current run */
    uint64_t index;  /* samples timed since then */
    uint8_t started;
    uint32_t resyncs;
} tw_fifo_timer_t;

void tw_fifo_timer_init(tw_fifo_timer_t *t, uint32_t rate_mhz, int64_t max_error_us);
/* Time of the first of n samples whose measured time is measured_first_us; advances by n. */
uint64_t tw_fifo_timer_block(tw_fifo_timer_t *t, uint64_t measured_first_us, uint32_t n);

#ifdef __cplusplus
}
#endif

#endif
