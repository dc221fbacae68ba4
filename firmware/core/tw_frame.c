#include "tw_frame.h"

#include <string.h>

#include "tw_crc16.h"
#include "tw_le.h"

/* ---------------------------------------------------------------- COBS, streaming encoder */

typedef struct {
    uint8_t *out;
    size_t cap;
    size_t pos;
    size_t code_pos;
    uint8_t code;
    uint8_t after_full_run; /* the last block closed at 254 bytes and nothing followed yet */
    uint8_t overflow;
} cobs_writer_t;

static void cw_reserve_code(cobs_writer_t *w)
{
    w->code_pos = w->pos;
    w->code = 1;
    if (w->pos < w->cap) {
        w->pos++;
    } else {
        w->overflow = 1;
    }
}

static void cw_init(cobs_writer_t *w, uint8_t *out, size_t cap)
{
    w->out = out;
    w->cap = cap;
    w->pos = 0;
    w->overflow = 0;
    w->after_full_run = 0;
    cw_reserve_code(w);
}

static void cw_put(cobs_writer_t *w, uint8_t b)
{
    if (w->overflow) {
        return;
    }
    w->after_full_run = 0;
    if (b == 0) {
        w->out[w->code_pos] = w->code;
        cw_reserve_code(w);
        return;
    }
    if (w->pos >= w->cap) {
        w->overflow = 1;
        return;
    }
    w->out[w->pos++] = b;
    if (++w->code == 0xFFu) {
        w->out[w->code_pos] = 0xFFu;
        cw_reserve_code(w);
        w->after_full_run = 1;
    }
}

static void cw_put_all(cobs_writer_t *w, const uint8_t *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        cw_put(w, p[i]);
    }
}

static size_t cw_finish(cobs_writer_t *w)
{
    if (w->overflow) {
        return 0;
    }
    if (w->after_full_run) {
        w->pos = w->code_pos; /* drop the code byte reserved after a final 254-byte run */
    } else {
        w->out[w->code_pos] = w->code;
    }
    return w->pos;
}

size_t tw_cobs_encode(const uint8_t *data, size_t len, uint8_t *out, size_t out_cap)
{
    cobs_writer_t w;
    if (out_cap == 0) {
        return 0;
    }
    cw_init(&w, out, out_cap);
    cw_put_all(&w, data, len);
    return cw_finish(&w);
}

long tw_cobs_decode(const uint8_t *enc, size_t len, uint8_t *out, size_t out_cap)
{
    size_t i = 0, o = 0;
    while (i < len) {
        size_t code = enc[i], k;
        if (code == 0 || i + code > len) {
            return -1;
        }
        for (k = 1; k < code; k++) {
            if (enc[i + k] == 0 || o >= out_cap) {
                return -1;
            }
            out[o++] = enc[i + k]; /* o <= i + k - 1 < i + k: safe in place */
        }
        i += code;
        if (code < 0xFFu && i < len) {
            if (o >= out_cap) {
                return -1;
            }
            out[o++] = 0;
        }
    }
    return (long)o;
}

size_t tw_frame_encode(uint8_t version, uint8_t type, uint32_t seq, const uint8_t *payload, size_t payload_len,
                       uint8_t *out, size_t out_cap)
{
    uint8_t header[TW_HEADER_LEN], crc_le[TW_CRC_LEN];
    uint16_t crc;
    cobs_writer_t w;
    size_t body;

    if (payload_len > TW_MAX_PAYLOAD_LEN || out_cap < 3) {
        return 0;
    }
    header[0] = version;
    header[1] = type;
    tw_put_u32(header + 2, seq);
    crc = tw_crc16_update(TW_CRC16_INIT, header, sizeof header);
    crc = tw_crc16_update(crc, payload, payload_len);
    tw_put_u16(crc_le, crc);

    out[0] = 0;
    cw_init(&w, out + 1, out_cap - 2);
    cw_put_all(&w, header, sizeof header);
    cw_put_all(&w, payload, payload_len);
    cw_put_all(&w, crc_le, sizeof crc_le);
    body = cw_finish(&w);
    if (body == 0) {
        return 0;
    }
    out[1 + body] = 0;
    return body + 2;
}

/* ---------------------------------------------------------------- payload rules */

static int hello_valid(const uint8_t *p, size_t len)
{
    size_t pos = 0;
    unsigned i, s, n_streams;
    for (i = 0; i < 3; i++) { /* placement, device_id, firmware_version */
        if (pos >= len || pos + 1u + p[pos] > len) {
            return 0;
        }
        pos += 1u + p[pos];
    }
    if (pos >= len) {
        return 0;
    }
    n_streams = p[pos++];
    if (n_streams < 1 || n_streams > TW_MAX_STREAMS) {
        return 0;
    }
    for (s = 0; s < n_streams; s++) {
        unsigned kind, channels, n_names;
        if (pos + 15u > len) { /* kind, channels, rate u32, range f32, scale f32, n_names */
            return 0;
        }
        kind = p[pos];
        channels = p[pos + 1];
        if ((kind != TW_KIND_ACCEL && kind != TW_KIND_EMG) || channels < 1 || channels > TW_MAX_CHANNELS ||
            tw_get_u32(p + pos + 2) == 0) {
            return 0;
        }
        n_names = p[pos + 14];
        if (n_names != 0 && n_names != channels) {
            return 0;
        }
        pos += 15;
        for (i = 0; i < n_names; i++) {
            if (pos >= len || pos + 1u + p[pos] > len) {
                return 0;
            }
            pos += 1u + p[pos];
        }
    }
    return pos == len;
}

int tw_payload_valid(uint8_t type, const uint8_t *payload, size_t len)
{
    switch (type) {
    case TW_HELLO:
        return hello_valid(payload, len);
    case TW_ACCEL:
    case TW_EMG: {
        uint32_t n, ch;
        if (len < TW_SAMPLE_HEADER_LEN) {
            return 0;
        }
        n = tw_get_u16(payload + 8);
        ch = payload[10];
        return ch >= 1 && ch <= TW_MAX_CHANNELS && len - TW_SAMPLE_HEADER_LEN == 2u * n * ch;
    }
    case TW_STATUS:
        return len == TW_STATUS_LEN && payload[19] <= TW_MAX_CHANNELS;
    case TW_MARK:
        return len == TW_MARK_LEN;
    case TW_ACK:
        return len == TW_ACK_LEN && payload[5] <= TW_ACK_STATUS_MAX;
    case TW_COMMAND: {
        tw_command_t cmd;
        return tw_command_parse(payload, len, &cmd) == TW_ACK_OK;
    }
    default:
        return 0;
    }
}

uint8_t tw_command_parse(const uint8_t *payload, size_t len, tw_command_t *cmd)
{
    size_t want;
    memset(cmd, 0, sizeof *cmd);
    if (len == 0) {
        return TW_ACK_BAD_LENGTH;
    }
    cmd->code = payload[0];
    switch (payload[0]) {
    case TW_CMD_START:
    case TW_CMD_STOP:
    case TW_CMD_SEND_HELLO:
    case TW_CMD_PING:
        want = 1;
        break;
    case TW_CMD_SET_RATES:
        want = 9;
        break;
    default:
        return TW_ACK_UNKNOWN_COMMAND;
    }
    if (len != want) {
        return TW_ACK_BAD_LENGTH;
    }
    if (payload[0] == TW_CMD_SET_RATES) {
        cmd->accel_rate_mhz = tw_get_u32(payload + 1);
        cmd->emg_rate_mhz = tw_get_u32(payload + 5);
    }
    return TW_ACK_OK;
}

/* ---------------------------------------------------------------- streaming decoder */

void tw_decoder_init(tw_decoder_t *d) { memset(d, 0, sizeof *d); }

static void drop(tw_decoder_t *d, uint32_t *counter, size_t n)
{
    (*counter)++;
    d->counters.garbage_bytes += (uint32_t)n;
}

/* Judge one complete candidate of d->len bytes (PROTOCOL.md section 2, in that order). */
static int finish_candidate(tw_decoder_t *d, tw_frame_view_t *out)
{
    size_t n = d->len;
    long raw_len;
    uint8_t *raw = d->buf;
    uint8_t type;
    uint32_t seq;
    uint16_t crc;

    raw_len = tw_cobs_decode(d->buf, n, raw, sizeof d->buf);
    if (raw_len < 4) {
        drop(d, &d->counters.truncated, n);
        return 0;
    }
    if ((size_t)raw_len > TW_MAX_FRAME_LEN) {
        drop(d, &d->counters.oversize, n);
        return 0;
    }
    crc = tw_crc16_update(TW_CRC16_INIT, raw, (size_t)raw_len - 2);
    if (crc != tw_get_u16(raw + raw_len - 2)) {
        drop(d, &d->counters.checksum, n);
        return 0;
    }
    memset(out, 0, sizeof *out);
    out->version = raw[0];
    out->type = raw[1];
    if (raw[0] != TW_PROTOCOL_VERSION) {
        out->result = TW_RESULT_UNSUPPORTED_VERSION;
        d->counters.unsupported_version++;
        d->counters.frames++;
        return 1;
    }
    if ((size_t)raw_len < TW_HEADER_LEN + TW_CRC_LEN) {
        drop(d, &d->counters.truncated, n);
        return 0;
    }
    type = raw[1];
    if (type < TW_HELLO || type > TW_ACK) {
        d->counters.unknown_type++;
        return 0;
    }
    seq = tw_get_u32(raw + 2);
    if ((d->have_seq >> type & 1u) && seq != d->last_seq[type] + 1u) {
        d->counters.sequence_gap++;
    }
    d->last_seq[type] = seq;
    d->have_seq = (uint8_t)(d->have_seq | 1u << type);

    out->seq = seq;
    out->payload = raw + TW_HEADER_LEN;
    out->payload_len = (uint16_t)((size_t)raw_len - TW_HEADER_LEN - TW_CRC_LEN);
    if (type == TW_COMMAND) {
        tw_command_t cmd;
        uint8_t status = tw_command_parse(out->payload, out->payload_len, &cmd);
        if (status != TW_ACK_OK) {
            out->result = TW_RESULT_BAD_COMMAND;
            out->ack_status = status;
            d->counters.malformed++;
        }
    } else if (!tw_payload_valid(type, out->payload, out->payload_len)) {
        d->counters.malformed++;
        return 0;
    }
    d->counters.frames++;
    return 1;
}

int tw_decoder_push(tw_decoder_t *d, uint8_t byte, tw_frame_view_t *out)
{
    d->counters.bytes++;
    if (byte == 0) {
        int got = 0;
        if (d->skipping) {
            d->skipping = 0; /* end of an oversize candidate (its bytes are already counted) */
        } else if (d->len > 0) {
            got = finish_candidate(d, out);
        }
        d->len = 0;
        return got;
    }
    if (d->skipping) {
        d->counters.garbage_bytes++;
        return 0;
    }
    if (d->len >= TW_MAX_ENCODED_LEN) {
        /* Longer than any frame: count it once, keep nothing, drop up to the next delimiter. */
        d->counters.oversize++;
        d->counters.garbage_bytes += (uint32_t)d->len + 1u;
        d->len = 0;
        d->skipping = 1;
        return 0;
    }
    d->buf[d->len++] = byte;
    return 0;
}
