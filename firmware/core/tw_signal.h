/* Small per-sample checks the device reports in STATUS: IMU saturation and electrode lead-off. */
#ifndef TW_SIGNAL_H
#define TW_SIGNAL_H

#include <stdint.h>

#include "tw_protocol.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Number of values in samples[0 .. count) at or beyond +-limit (e.g. 32767 for a full-scale IMU). */
uint32_t tw_count_saturated(const int16_t *samples, uint32_t count, int16_t limit);

/* Lead-off heuristic for an amplifier without a lead-off output (e.g. MyoWare 2.0): an electrode
 * that lost contact drives the high-gain input to a rail, so a channel whose |count| stays at or
 * above `rail` for `hold` consecutive samples is reported off; one sample back inside clears it.
 * A heuristic, not a measurement of skin impedance. */
typedef struct {
    int16_t rail;
    uint32_t hold;
    uint8_t channels;
    uint32_t run[TW_MAX_CHANNELS]; /* consecutive railed samples per channel */
} tw_leadoff_t;

void tw_leadoff_init(tw_leadoff_t *l, uint8_t channels, int16_t rail, uint32_t hold);
/* Feed n interleaved samples of l->channels channels. */
void tw_leadoff_update(tw_leadoff_t *l, const int16_t *samples, uint32_t n);
/* Bit i set: channel i is off. */
uint8_t tw_leadoff_bits(const tw_leadoff_t *l);

#ifdef __cplusplus
}
#endif

#endif
