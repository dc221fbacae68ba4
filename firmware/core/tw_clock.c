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

void tw_fifo_timer_init(tw_fifo_timer_t *t, uint32_t rate_mhz, int64_t max_error_us)
{
    t->rate_mhz = rate_mhz;
    t->max_error_us = max_error_us;
    t->base_us = 0;
    t->index = 0;
    t->started = 0;
    t->resyncs = 0;
}

uint64_t tw_fifo_timer_block(tw_fifo_timer_t *t, uint64_t measured_first_us, uint32_t n)
{
    int64_t measured = (int64_t)measured_first_us, predicted, error;
    if (!t->started) {
        t->started = 1;
        t->base_us = measured;
        t->index = 0;
    }
    predicted = t->base_us + (int64_t)tw_sample_time_us(0, t->index, t->rate_mhz);
    error = measured - predicted;
    if (error > t->max_error_us || error < -t->max_error_us) {
        t->resyncs++;
        t->base_us = measured;
        t->index = 0;
        predicted = measured;
    } else {
        t->base_us += error / 8;
        predicted += error / 8;
    }
    t->index += n;
    return predicted < 0 ? 0u : (uint64_t)predicted;
}
