#include "tw_signal.h"

#include <string.h>

static int32_t magnitude(int16_t v) { return v < 0 ? -(int32_t)v : (int32_t)v; }

uint32_t tw_count_saturated(const int16_t *samples, uint32_t count, int16_t limit)
{
    uint32_t i, n = 0;
    for (i = 0; i < count; i++) {
        n += magnitude(samples[i]) >= (int32_t)limit;
    }
    return n;
}

void tw_leadoff_init(tw_leadoff_t *l, uint8_t channels, int16_t rail, uint32_t hold)
{
    memset(l, 0, sizeof *l);
    l->channels = channels > TW_MAX_CHANNELS ? (uint8_t)TW_MAX_CHANNELS : channels;
    l->rail = rail;
    l->hold = hold;
}

void tw_leadoff_update(tw_leadoff_t *l, const int16_t *samples, uint32_t n)
{
    uint32_t i;
    uint8_t c;
    for (i = 0; i < n; i++) {
        for (c = 0; c < l->channels; c++) {
            if (magnitude(samples[i * l->channels + c]) >= (int32_t)l->rail) {
                if (l->run[c] < 0xFFFFFFFFu) {
                    l->run[c]++;
                }
            } else {
                l->run[c] = 0;
            }
        }
    }
}

uint8_t tw_leadoff_bits(const tw_leadoff_t *l)
{
    uint8_t c, bits = 0;
    for (c = 0; c < l->channels; c++) {
        if (l->hold > 0 && l->run[c] >= l->hold) {
            bits = (uint8_t)(bits | 1u << c);
        }
    }
    return bits;
}
