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

#ifdef __cplusplus
}
#endif

#endif
