#include "tw_payload.h"

#include <string.h>

#include "tw_le.h"

static size_t cap_of(size_t out_cap) { return out_cap < TW_MAX_PAYLOAD_LEN ? out_cap : TW_MAX_PAYLOAD_LEN; }

uint16_t tw_max_samples_per_frame(uint8_t channels)
{
    if (channels == 0) {
        return 0;
    }
    return (uint16_t)((TW_MAX_PAYLOAD_LEN - TW_SAMPLE_HEADER_LEN) / (2u * channels));
}

size_t tw_pack_samples(uint8_t *out, size_t out_cap, uint64_t t_first_us, const int16_t *samples, uint16_t n,
                       uint8_t channels)
{
    size_t i, count = (size_t)n * channels, len = TW_SAMPLE_HEADER_LEN + 2u * count;
    if (channels < 1 || channels > TW_MAX_CHANNELS || len > cap_of(out_cap)) {
        return 0;
    }
    tw_put_u64(out, t_first_us);
    tw_put_u16(out + 8, n);
    out[10] = channels;
    out[11] = 0;
    for (i = 0; i < count; i++) {
        tw_put_u16(out + TW_SAMPLE_HEADER_LEN + 2 * i, (uint16_t)samples[i]);
    }
    return len;
}

/* str8: u8 length + bytes; returns the new position or 0 on overflow */
static size_t put_str8(uint8_t *out, size_t pos, size_t cap, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n > 255 || pos + 1 + n > cap) {
        return 0;
    }
    out[pos] = (uint8_t)n;
    if (n) {
        memcpy(out + pos + 1, s, n);
    }
    return pos + 1 + n;
}

size_t tw_pack_hello(uint8_t *out, size_t out_cap, const tw_hello_t *h)
{
    size_t cap = cap_of(out_cap), pos = 0;
    unsigned s, c;
    if (h->n_streams < 1 || h->n_streams > TW_MAX_STREAMS) {
        return 0;
    }
    if (!(pos = put_str8(out, pos, cap, h->placement)) || !(pos = put_str8(out, pos, cap, h->device_id)) ||
        !(pos = put_str8(out, pos, cap, h->firmware_version)) || pos + 1 > cap) {
        return 0;
    }
    out[pos++] = h->n_streams;
    for (s = 0; s < h->n_streams; s++) {
        const tw_stream_desc_t *d = &h->streams[s];
        if (pos + 15 > cap || d->channels < 1 || d->channels > TW_MAX_CHANNELS) {
            return 0;
        }
        out[pos] = d->kind;
        out[pos + 1] = d->channels;
        tw_put_u32(out + pos + 2, d->rate_mhz);
        tw_put_f32(out + pos + 6, d->range);
        tw_put_f32(out + pos + 10, d->scale);
        out[pos + 14] = d->channel_names ? d->channels : 0;
        pos += 15;
        for (c = 0; d->channel_names && c < d->channels; c++) {
            if (!(pos = put_str8(out, pos, cap, d->channel_names[c]))) {
                return 0;
            }
        }
    }
    return pos;
}

size_t tw_pack_status(uint8_t *out, size_t out_cap, const tw_status_t *s)
{
    if (cap_of(out_cap) < TW_STATUS_LEN || s->lead_channels > TW_MAX_CHANNELS) {
        return 0;
    }
    tw_put_u64(out, s->t_us);
    tw_put_u32(out + 8, s->dropped_samples);
    tw_put_u32(out + 12, s->imu_saturation_count);
    tw_put_u16(out + 16, s->battery_mv);
    out[18] = s->battery_pct;
    out[19] = s->lead_channels;
    out[20] = s->lead_off_bits;
    out[21] = 0;
    return TW_STATUS_LEN;
}

size_t tw_pack_mark(uint8_t *out, size_t out_cap, uint64_t t_us)
{
    if (cap_of(out_cap) < TW_MARK_LEN) {
        return 0;
    }
    tw_put_u64(out, t_us);
    return TW_MARK_LEN;
}

size_t tw_pack_ack(uint8_t *out, size_t out_cap, uint32_t command_seq, uint8_t code, uint8_t status, uint64_t t_us)
{
    if (cap_of(out_cap) < TW_ACK_LEN) {
        return 0;
    }
    tw_put_u32(out, command_seq);
    out[4] = code;
    out[5] = status;
    tw_put_u16(out + 6, 0);
    tw_put_u64(out + 8, t_us);
    return TW_ACK_LEN;
}

size_t tw_pack_command(uint8_t *out, size_t out_cap, const tw_command_t *cmd)
{
    size_t len = cmd->code == TW_CMD_SET_RATES ? 9u : 1u;
    if (cap_of(out_cap) < len) {
        return 0;
    }
    out[0] = cmd->code;
    if (len == 9) {
        tw_put_u32(out + 1, cmd->accel_rate_mhz);
        tw_put_u32(out + 5, cmd->emg_rate_mhz);
    }
    return len;
}
