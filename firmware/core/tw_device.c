#include "tw_device.h"

#include <string.h>

#include "tw_clock.h"
#include "tw_frame.h"

void tw_device_init(tw_device_t *d, const tw_hello_t *hello, const tw_rate_limits_t *limits)
{
    memset(d, 0, sizeof *d);
    d->hello = *hello;
    d->limits = *limits;
}

size_t tw_device_emit(tw_device_t *d, uint8_t type, const uint8_t *payload, size_t len, uint8_t *out, size_t cap)
{
    size_t n;
    if (type >= TW_NUM_FRAME_TYPES) {
        return 0;
    }
    n = tw_frame_encode(TW_PROTOCOL_VERSION, type, d->seq[type], payload, len, out, cap);
    if (n) {
        d->seq[type]++;
    }
    return n;
}

size_t tw_device_hello(tw_device_t *d, uint8_t *out, size_t cap)
{
    size_t len = tw_pack_hello(d->scratch, sizeof d->scratch, &d->hello);
    return len ? tw_device_emit(d, TW_HELLO, d->scratch, len, out, cap) : 0;
}

size_t tw_device_status(tw_device_t *d, const tw_status_t *status, uint8_t *out, size_t cap)
{
    size_t len = tw_pack_status(d->scratch, sizeof d->scratch, status);
    return len ? tw_device_emit(d, TW_STATUS, d->scratch, len, out, cap) : 0;
}

size_t tw_device_mark(tw_device_t *d, uint64_t t_us, uint8_t *out, size_t cap)
{
    size_t len = tw_pack_mark(d->scratch, sizeof d->scratch, t_us);
    return len ? tw_device_emit(d, TW_MARK, d->scratch, len, out, cap) : 0;
}

size_t tw_device_samples_at(tw_device_t *d, uint8_t stream_index, uint64_t t_first_us, const int16_t *samples,
                            uint16_t n, uint8_t *out, size_t cap)
{
    const tw_stream_desc_t *s;
    size_t len, wrote;
    if (!d->running || stream_index >= d->hello.n_streams) {
        return 0;
    }
    s = &d->hello.streams[stream_index];
    len = tw_pack_samples(d->scratch, sizeof d->scratch, t_first_us, samples, n, s->channels);
    if (!len) {
        return 0;
    }
    wrote = tw_device_emit(d, s->kind == TW_KIND_ACCEL ? TW_ACCEL : TW_EMG, d->scratch, len, out, cap);
    if (wrote) {
        d->clock[stream_index].index += n;
    }
    return wrote;
}

size_t tw_device_samples(tw_device_t *d, uint8_t stream_index, const int16_t *samples, uint16_t n, uint8_t *out,
                         size_t cap)
{
    const tw_stream_clock_t *clk;
    if (stream_index >= d->hello.n_streams) {
        return 0;
    }
    clk = &d->clock[stream_index];
    return tw_device_samples_at(d, stream_index,
                                tw_sample_time_us(clk->t0_us, clk->index, d->hello.streams[stream_index].rate_mhz),
                                samples, n, out, cap);
}

uint64_t tw_fifo_first_sample_us(uint64_t t_read_us, uint32_t in_fifo, uint32_t rate_mhz)
{
    uint64_t back = in_fifo > 1 ? tw_sample_time_us(0, in_fifo - 1u, rate_mhz) : 0;
    return back < t_read_us ? t_read_us - back : 0;
}

void tw_device_resync(tw_device_t *d, uint8_t stream_index, uint64_t t_us)
{
    if (stream_index < TW_MAX_STREAMS) {
        d->clock[stream_index].t0_us = t_us;
        d->clock[stream_index].index = 0;
    }
}

static int rate_allowed(const uint32_t *rates, uint8_t n, uint32_t mhz)
{
    uint8_t i;
    for (i = 0; i < n; i++) {
        if (rates[i] == mhz) {
            return 1;
        }
    }
    return 0;
}

static void restart_clocks(tw_device_t *d, uint64_t now_us)
{
    uint8_t i;
    for (i = 0; i < TW_MAX_STREAMS; i++) {
        d->clock[i].t0_us = now_us;
        d->clock[i].index = 0;
    }
}

/* Apply SET_RATES; returns the ACK status. Both rates are checked before either is applied. */
static uint8_t set_rates(tw_device_t *d, const tw_command_t *cmd)
{
    uint8_t i;
    if (cmd->accel_rate_mhz && !rate_allowed(d->limits.accel_rates_mhz, d->limits.n_accel_rates, cmd->accel_rate_mhz)) {
        return TW_ACK_BAD_ARGUMENT;
    }
    if (cmd->emg_rate_mhz && !rate_allowed(d->limits.emg_rates_mhz, d->limits.n_emg_rates, cmd->emg_rate_mhz)) {
        return TW_ACK_BAD_ARGUMENT;
    }
    for (i = 0; i < d->hello.n_streams; i++) {
        tw_stream_desc_t *s = &d->hello.streams[i];
        uint32_t want = s->kind == TW_KIND_ACCEL ? cmd->accel_rate_mhz : cmd->emg_rate_mhz;
        if (want) {
            s->rate_mhz = want;
        }
    }
    return TW_ACK_OK;
}

size_t tw_device_on_frame(tw_device_t *d, const tw_frame_view_t *f, uint64_t now_us, uint8_t *out, size_t cap,
                          uint8_t *actions)
{
    tw_command_t cmd;
    uint8_t status, code, hello = 0;
    size_t n, len;

    *actions = 0;
    if (f->type != TW_COMMAND || f->result == TW_RESULT_UNSUPPORTED_VERSION) {
        return 0;
    }
    if (f->result == TW_RESULT_BAD_COMMAND) {
        status = f->ack_status;
        code = f->payload_len ? f->payload[0] : 0;
    } else {
        status = tw_command_parse(f->payload, f->payload_len, &cmd);
        code = cmd.code;
        if (status == TW_ACK_OK) {
            switch (cmd.code) {
            case TW_CMD_START:
                d->running = 1;
                restart_clocks(d, now_us);
                *actions |= TW_ACTION_START;
                hello = 1;
                break;
            case TW_CMD_STOP:
                d->running = 0;
                *actions |= TW_ACTION_STOP;
                break;
            case TW_CMD_SET_RATES:
                status = set_rates(d, &cmd);
                if (status == TW_ACK_OK) {
                    restart_clocks(d, now_us);
                    *actions |= TW_ACTION_RATES;
                    hello = 1;
                }
                break;
            case TW_CMD_SEND_HELLO:
                hello = 1;
                break;
            default: /* PING: the ACK carries now_us */
                break;
            }
        }
    }
    len = tw_pack_ack(d->scratch, sizeof d->scratch, f->seq, code, status, now_us);
    n = tw_device_emit(d, TW_ACK, d->scratch, len, out, cap);
    if (hello && n) {
        n += tw_device_hello(d, out + n, cap - n);
    }
    return n;
}
