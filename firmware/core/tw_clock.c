#include "tw_clock.h"

int tw_clock_init(tw_clock_t *c, uint32_t tick_hz, uint8_t counter_bits, uint32_t ticks_now)
{
    if (tick_hz == 0 || counter_bits < 1 || counter_bits > 32) {
        return -1;
    }
    c->tick_hz = tick_hz;
    c->mask = counter_bits == 32 ? 0xFFFFFFFFu : (uint32_t)((1u << counter_bits) - 1u);
    c->last_ticks = ticks_now & c->mask;
    c->total_ticks = 0;
    return 0;
}

uint64_t tw_clock_update(tw_clock_t *c, uint32_t ticks_now)
{
    uint32_t now = ticks_now & c->mask;
    c->total_ticks += (uint32_t)(now - c->last_ticks) & c->mask;
    c->last_ticks = now;
    return tw_ticks_to_us(c->total_ticks, c->tick_hz);
}

uint64_t tw_ticks_to_us(uint64_t ticks, uint32_t tick_hz)
{
    return ticks / tick_hz * 1000000u + ticks % tick_hz * 1000000u / tick_hz;
}

uint64_t tw_sample_time_us(uint64_t t0_us, uint64_t index, uint32_t rate_mhz)
{
    /* index * 1e9 / rate_mhz microseconds, split so index * 1e9 cannot overflow */
    if (rate_mhz == 0) {
        return t0_us;
    }
    return t0_us + index / rate_mhz * 1000000000u + index % rate_mhz * 1000000000u / rate_mhz;
}
