/* Unit tests of firmware/core: every golden vector, packers, commands, device, ring, clock.
 * Built twice by the Makefile: for the host with ASan + UBSan, and for a Cortex-M4F run under
 * QEMU (mps2-an386). Exit code = number of failed checks (0 = pass). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tw_bytes.h"
#include "tw_clock.h"
#include "tw_crc16.h"
#include "tw_device.h"
#include "tw_frame.h"
#include "tw_payload.h"
#include "tw_le.h"
#include "tw_ring.h"
#include "tw_signal.h"
#include "vectors.h"

static int failures;
static int checks;
static const char *current = "";

#define CHECK(cond)                                                                    \
    do {                                                                               \
        checks++;                                                                      \
        if (!(cond)) {                                                                 \
            failures++;                                                                \
            printf("FAIL %s:%d [%s]: %s\n", __FILE__, __LINE__, current, #cond);       \
        }                                                                              \
    } while (0)

static int same(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

/* ------------------------------------------------------------------ primitives */

static void test_crc_and_cobs(void)
{
    unsigned i;
    current = "crc/cobs";
    for (i = 0; i < TV_CRC_COUNT; i++) {
        CHECK(tw_crc16_update(TW_CRC16_INIT, tv_crc[i].data, tv_crc[i].len) == tv_crc[i].crc);
    }
    for (i = 0; i < TV_COBS_COUNT; i++) {
        static uint8_t enc[600], dec[600];
        size_t n = tw_cobs_encode(tv_cobs[i].data, tv_cobs[i].len, enc, sizeof enc);
        long m;
        CHECK(same(enc, n, tv_cobs[i].enc, tv_cobs[i].enc_len));
        m = tw_cobs_decode(tv_cobs[i].enc, tv_cobs[i].enc_len, dec, sizeof dec);
        CHECK(m >= 0 && same(dec, (size_t)m, tv_cobs[i].data, tv_cobs[i].len));
        memcpy(enc, tv_cobs[i].enc, tv_cobs[i].enc_len); /* in place */
        m = tw_cobs_decode(enc, tv_cobs[i].enc_len, enc, sizeof enc);
        CHECK(m >= 0 && same(enc, (size_t)m, tv_cobs[i].data, tv_cobs[i].len));
        CHECK(tw_cobs_encode(tv_cobs[i].data, tv_cobs[i].len, enc, tv_cobs[i].enc_len - 1) == 0);
    }
    {
        static const uint8_t torn[] = {5, 1, 2};
        uint8_t out[8];
        CHECK(tw_cobs_decode(torn, sizeof torn, out, sizeof out) == -1);
    }
}

/* ------------------------------------------------------------------ golden vectors */

static int counters_equal(const tw_counters_t *a, const tw_counters_t *b)
{
    int ok = 1;
#define CMP(f)                                                                                       \
    if (a->f != b->f) {                                                                              \
        printf("  counter %s: got %lu want %lu\n", #f, (unsigned long)a->f, (unsigned long)b->f);   \
        ok = 0;                                                                                      \
    }
    CMP(bytes) CMP(frames) CMP(checksum) CMP(truncated) CMP(oversize) CMP(unknown_type)
    CMP(unsupported_version) CMP(malformed) CMP(sequence_gap) CMP(garbage_bytes)
#undef CMP
    return ok;
}

static void run_vector(const tv_vector_t *v)
{
    static tw_decoder_t dec;
    size_t pos = 0;
    unsigned c, got = 0;
    current = v->name;
    tw_decoder_init(&dec);
    for (c = 0; c < v->n_chunks; c++) {
        size_t end = pos + v->chunk_lens[c];
        for (; pos < end; pos++) {
            tw_frame_view_t f;
            if (tw_decoder_push(&dec, v->data[pos], &f)) {
                CHECK(got < v->n_frames);
                if (got < v->n_frames) {
                    const tv_frame_t *want = &v->frames[got];
                    CHECK(f.result == want->result);
                    CHECK(f.version == want->version);
                    CHECK(f.type == want->type);
                    if (f.result != TW_RESULT_UNSUPPORTED_VERSION) {
                        CHECK(f.seq == want->seq);
                        CHECK(same(f.payload, f.payload_len, want->payload, want->payload_len));
                    }
                    if (f.result == TW_RESULT_BAD_COMMAND) {
                        CHECK(f.ack_status == want->ack_status);
                    }
                }
                got++;
            }
        }
    }
    CHECK(got == v->n_frames);
    CHECK(counters_equal(&dec.counters, &v->counters));
}

static void test_vectors(void)
{
    unsigned i, k;
    static uint8_t wire[TW_MAX_WIRE_LEN];
    for (i = 0; i < TV_VECTORS_COUNT; i++) {
        const tv_vector_t *v = &tv_vectors[i];
        run_vector(v);
        for (k = 0; k < v->n_frames; k++) { /* the C encoder reproduces every canonical frame */
            const tv_frame_t *f = &v->frames[k];
            if (f->wire_len) {
                size_t n = tw_frame_encode(f->version, f->type, f->seq, f->payload, f->payload_len, wire, sizeof wire);
                CHECK(same(wire, n, f->wire, f->wire_len));
                if (f->type != TW_COMMAND) {
                    CHECK(tw_payload_valid(f->type, f->payload, f->payload_len));
                }
            }
        }
    }
}

/* ------------------------------------------------------------------ packers */

static void test_packers(void)
{
    static uint8_t buf[TW_MAX_PAYLOAD_LEN];
    unsigned i;
    size_t n;
    current = "packers";
    CHECK(TV_SAMPLES_COUNT >= 5 && TV_HELLOS_COUNT >= 2 && TV_STATUSES_COUNT >= 2 && TV_ACKS_COUNT >= 3);
    for (i = 0; i < TV_SAMPLES_COUNT; i++) {
        const tv_sample_case_t *s = &tv_samples[i];
        n = tw_pack_samples(buf, sizeof buf, s->t_first_us, s->counts, s->n, s->channels);
        CHECK(same(buf, n, s->payload, s->payload_len));
    }
    for (i = 0; i < TV_HELLOS_COUNT; i++) {
        n = tw_pack_hello(buf, sizeof buf, &tv_hellos[i].hello);
        CHECK(same(buf, n, tv_hellos[i].payload, tv_hellos[i].payload_len));
        CHECK(tw_payload_valid(TW_HELLO, buf, n));
        CHECK(!tw_payload_valid(TW_HELLO, buf, n - 1));
        CHECK(tw_pack_hello(buf, n - 1, &tv_hellos[i].hello) == 0);
    }
    for (i = 0; i < TV_STATUSES_COUNT; i++) {
        n = tw_pack_status(buf, sizeof buf, &tv_statuses[i].status);
        CHECK(same(buf, n, tv_statuses[i].payload, tv_statuses[i].payload_len));
    }
    for (i = 0; i < TV_MARKS_COUNT; i++) {
        n = tw_pack_mark(buf, sizeof buf, tv_marks[i].t_us);
        CHECK(same(buf, n, tv_marks[i].payload, tv_marks[i].payload_len));
    }
    for (i = 0; i < TV_ACKS_COUNT; i++) {
        const tv_ack_case_t *a = &tv_acks[i];
        n = tw_pack_ack(buf, sizeof buf, a->command_seq, a->code, a->status, a->t_us);
        CHECK(same(buf, n, a->payload, a->payload_len));
    }
    for (i = 0; i < TV_COMMANDS_COUNT; i++) {
        tw_command_t parsed;
        n = tw_pack_command(buf, sizeof buf, &tv_commands[i].command);
        CHECK(same(buf, n, tv_commands[i].payload, tv_commands[i].payload_len));
        CHECK(tw_command_parse(buf, n, &parsed) == TW_ACK_OK);
        CHECK(parsed.code == tv_commands[i].command.code);
        CHECK(parsed.accel_rate_mhz == tv_commands[i].command.accel_rate_mhz);
        CHECK(parsed.emg_rate_mhz == tv_commands[i].command.emg_rate_mhz);
    }
    {   /* limits */
        static int16_t zeros[2 * 252];
        memset(zeros, 0, sizeof zeros);
        CHECK(tw_max_samples_per_frame(2) == 251 && tw_max_samples_per_frame(3) == 167);
        CHECK(tw_pack_samples(buf, sizeof buf, 0, zeros, 251, 2) == TW_MAX_PAYLOAD_LEN);
        CHECK(tw_pack_samples(buf, sizeof buf, 0, zeros, 252, 2) == 0);
        CHECK(tw_pack_samples(buf, sizeof buf, 0, zeros, 1, 0) == 0);
        CHECK(tw_pack_samples(buf, 20, 0, zeros, 5, 1) == 0);
        CHECK(tw_frame_encode(1, TW_EMG, 0, buf, TW_MAX_PAYLOAD_LEN + 1, buf, sizeof buf) == 0);
    }
}

static void test_command_parse(void)
{
    static const uint8_t empty[1] = {0};
    static const uint8_t unknown[] = {0x63};
    static const uint8_t start_extra[] = {TW_CMD_START, 0};
    static const uint8_t rates_short[] = {TW_CMD_SET_RATES, 1, 2, 3};
    static const uint8_t rates[] = {TW_CMD_SET_RATES, 0x40, 0x96, 0x01, 0x00, 0x20, 0xA1, 0x07, 0x00};
    tw_command_t cmd;
    current = "command_parse";
    CHECK(tw_command_parse(empty, 0, &cmd) == TW_ACK_BAD_LENGTH);
    CHECK(tw_command_parse(unknown, sizeof unknown, &cmd) == TW_ACK_UNKNOWN_COMMAND);
    CHECK(tw_command_parse(start_extra, sizeof start_extra, &cmd) == TW_ACK_BAD_LENGTH);
    CHECK(tw_command_parse(rates_short, sizeof rates_short, &cmd) == TW_ACK_BAD_LENGTH);
    CHECK(tw_command_parse(rates, sizeof rates, &cmd) == TW_ACK_OK);
    CHECK(cmd.accel_rate_mhz == 104000u && cmd.emg_rate_mhz == 500000u);
}

/* ------------------------------------------------------------------ device */

typedef struct {
    tw_frame_view_t f[4];
    uint8_t payload[4][TW_MAX_PAYLOAD_LEN];
    unsigned n;
} collected_t;

static void collect(const uint8_t *wire, size_t len, collected_t *out)
{
    static tw_decoder_t dec;
    size_t i;
    tw_decoder_init(&dec);
    out->n = 0;
    for (i = 0; i < len; i++) {
        tw_frame_view_t f;
        if (tw_decoder_push(&dec, wire[i], &f) && out->n < 4) {
            memcpy(out->payload[out->n], f.payload, f.payload_len);
            f.payload = out->payload[out->n];
            out->f[out->n++] = f;
        }
    }
}

static size_t command_frame(uint32_t seq, const tw_command_t *cmd, uint8_t *wire, size_t cap)
{
    uint8_t payload[9];
    size_t n = tw_pack_command(payload, sizeof payload, cmd);
    return tw_frame_encode(TW_PROTOCOL_VERSION, TW_COMMAND, seq, payload, n, wire, cap);
}

static size_t device_answer(tw_device_t *d, const uint8_t *wire, size_t len, uint64_t now, uint8_t *out, size_t cap,
                            uint8_t *actions)
{
    collected_t in;
    collect(wire, len, &in);
    if (in.n != 1) {
        return 0;
    }
    return tw_device_on_frame(d, &in.f[0], now, out, cap, actions);
}

static void test_device(void)
{
    static const uint32_t accel_rates[] = {12500, 26000, 52000, 104000, 208000, 416000, 833000};
    static const uint32_t emg_rates[] = {500000, 1000000, 2000000};
    static const char *const xyz[] = {"x", "y", "z"};
    static tw_device_t dev;
    static uint8_t out[2 * TW_MAX_WIRE_LEN], wire[64];
    static collected_t got;
    tw_hello_t hello;
    tw_rate_limits_t limits = {accel_rates, 7, emg_rates, 3};
    tw_command_t cmd;
    uint8_t actions;
    size_t n;
    int16_t block[26 * 3];
    unsigned i;

    current = "device";
    memset(&hello, 0, sizeof hello);
    hello.placement = "foot";
    hello.device_id = "tw-test";
    hello.firmware_version = "0.1.0";
    hello.n_streams = 2;
    hello.streams[0].kind = TW_KIND_ACCEL;
    hello.streams[0].channels = 3;
    hello.streams[0].rate_mhz = 208000;
    hello.streams[0].range = 16.0f;
    hello.streams[0].scale = 16.0f / 32768.0f;
    hello.streams[0].channel_names = xyz;
    hello.streams[1].kind = TW_KIND_EMG;
    hello.streams[1].channels = 2;
    hello.streams[1].rate_mhz = 1000000;
    hello.streams[1].range = 2500.0f;
    hello.streams[1].scale = 2500.0f / 32768.0f;
    tw_device_init(&dev, &hello, &limits);
    for (i = 0; i < 26 * 3; i++) {
        block[i] = (int16_t)(i * 100 - 3000);
    }

    /* not streaming: no sample frames */
    CHECK(tw_device_samples(&dev, 0, block, 26, out, sizeof out) == 0);

    /* START at t = 5 s: ACK OK, then HELLO */
    memset(&cmd, 0, sizeof cmd);
    cmd.code = TW_CMD_START;
    n = command_frame(0, &cmd, wire, sizeof wire);
    n = device_answer(&dev, wire, n, 5000000u, out, sizeof out, &actions);
    collect(out, n, &got);
    CHECK(actions == TW_ACTION_START && dev.running);
    CHECK(got.n == 2 && got.f[0].type == TW_ACK && got.f[1].type == TW_HELLO);
    CHECK(got.f[0].payload[5] == TW_ACK_OK && got.f[0].payload[4] == TW_CMD_START);

    /* two accel blocks: timestamps follow the sample index at 208 Hz from START */
    n = tw_device_samples(&dev, 0, block, 26, out, sizeof out);
    n += tw_device_samples(&dev, 0, block, 26, out + n, sizeof out - n);
    collect(out, n, &got);
    CHECK(got.n == 2 && got.f[0].type == TW_ACCEL && got.f[0].seq == 0 && got.f[1].seq == 1);
    CHECK(tw_get_u64(got.f[0].payload) == 5000000u);
    CHECK(tw_get_u64(got.f[1].payload) == 5000000u + 125000u); /* 26 / 208 Hz = 125 ms */
    CHECK(tw_sample_time_us(0, 208, 208000) == 1000000u);
    /* an IMU block timed from its FIFO read; a resync restarts the stream clock */
    n = tw_device_samples_at(&dev, 0, tw_fifo_first_sample_us(6000000u, 27, 208000), block, 26, out, sizeof out);
    collect(out, n, &got);
    CHECK(got.n == 1 && tw_get_u64(got.f[0].payload) == 6000000u - 125000u && got.f[0].seq == 2);
    CHECK(tw_fifo_first_sample_us(10, 1000, 208000) == 0 && tw_fifo_first_sample_us(10, 1, 208000) == 10);
    tw_device_resync(&dev, 1, 5500000u);
    n = tw_device_samples(&dev, 1, block, 25, out, sizeof out);
    n += tw_device_samples(&dev, 1, block, 25, out + n, sizeof out - n);
    collect(out, n, &got);
    CHECK(got.n == 2 && got.f[0].type == TW_EMG && tw_get_u64(got.f[0].payload) == 5500000u);
    CHECK(tw_get_u64(got.f[1].payload) == 5525000u && got.f[1].payload[10] == 2);

    /* SET_RATES with an accel rate the IMU cannot do: BAD_ARGUMENT, nothing changes, no HELLO */
    cmd.code = TW_CMD_SET_RATES;
    cmd.accel_rate_mhz = 200000;
    cmd.emg_rate_mhz = 500000;
    n = command_frame(1, &cmd, wire, sizeof wire);
    n = device_answer(&dev, wire, n, 6000000u, out, sizeof out, &actions);
    collect(out, n, &got);
    CHECK(got.n == 1 && got.f[0].payload[5] == TW_ACK_BAD_ARGUMENT && actions == 0);
    CHECK(dev.hello.streams[0].rate_mhz == 208000u && dev.hello.streams[1].rate_mhz == 1000000u);

    /* accepted SET_RATES: ACK OK + HELLO with the new EMG rate, accel unchanged (0) */
    cmd.accel_rate_mhz = 0;
    n = command_frame(2, &cmd, wire, sizeof wire);
    n = device_answer(&dev, wire, n, 7000000u, out, sizeof out, &actions);
    collect(out, n, &got);
    CHECK(got.n == 2 && got.f[0].payload[5] == TW_ACK_OK && actions == TW_ACTION_RATES);
    CHECK(dev.hello.streams[1].rate_mhz == 500000u && dev.hello.streams[0].rate_mhz == 208000u);
    CHECK(got.f[1].type == TW_HELLO && got.f[1].seq == 1);

    /* malformed commands get an error ACK echoing the code and the command's seq */
    {
        static const uint8_t bad[] = {0x63};
        n = tw_frame_encode(TW_PROTOCOL_VERSION, TW_COMMAND, 77, bad, sizeof bad, wire, sizeof wire);
        n = device_answer(&dev, wire, n, 8000000u, out, sizeof out, &actions);
        collect(out, n, &got);
        CHECK(got.n == 1 && got.f[0].type == TW_ACK);
        CHECK(got.f[0].payload[0] == 77 && got.f[0].payload[4] == 0x63);
        CHECK(got.f[0].payload[5] == TW_ACK_UNKNOWN_COMMAND);
        n = tw_frame_encode(TW_PROTOCOL_VERSION, TW_COMMAND, 78, bad, 0, wire, sizeof wire);
        n = device_answer(&dev, wire, n, 8000000u, out, sizeof out, &actions);
        collect(out, n, &got);
        CHECK(got.n == 1 && got.f[0].payload[5] == TW_ACK_BAD_LENGTH);
    }

    /* PING: ACK carries the device time; STOP ends streaming */
    cmd.code = TW_CMD_PING;
    n = command_frame(3, &cmd, wire, sizeof wire);
    n = device_answer(&dev, wire, n, 9000123u, out, sizeof out, &actions);
    collect(out, n, &got);
    CHECK(got.n == 1 && tw_get_u64(got.f[0].payload + 8) == 9000123u);
    cmd.code = TW_CMD_STOP;
    n = command_frame(4, &cmd, wire, sizeof wire);
    n = device_answer(&dev, wire, n, 9100000u, out, sizeof out, &actions);
    CHECK(actions == TW_ACTION_STOP && !dev.running);
    CHECK(tw_device_samples(&dev, 0, block, 26, out, sizeof out) == 0);

    /* STATUS and MARK get their own sequence numbers */
    {
        tw_status_t st;
        memset(&st, 0, sizeof st);
        st.battery_pct = 255;
        n = tw_device_status(&dev, &st, out, sizeof out);
        n += tw_device_mark(&dev, 42, out + n, sizeof out - n);
        n += tw_device_mark(&dev, 43, out + n, sizeof out - n);
        collect(out, n, &got);
        CHECK(got.n == 3 && got.f[0].type == TW_STATUS && got.f[0].seq == 0);
        CHECK(got.f[1].type == TW_MARK && got.f[1].seq == 0 && got.f[2].seq == 1);
    }
}

/* ------------------------------------------------------------------ ring buffer */

static void test_ring(void)
{
    static int16_t storage[8 * 2];
    tw_ring_t r;
    int16_t rec[2], out[16];
    uint32_t i;
    current = "ring";
    CHECK(tw_ring_init(&r, storage, 6, 2) == -1); /* not a power of two */
    CHECK(tw_ring_init(&r, storage, 8, 0) == -1);
    CHECK(tw_ring_init(&r, storage, 8, 2) == 0);
    for (i = 0; i < 10; i++) {
        rec[0] = (int16_t)i;
        rec[1] = (int16_t)-i;
        CHECK(tw_ring_push(&r, rec) == (i < 8));
    }
    CHECK(tw_ring_count(&r) == 8 && r.overruns == 2);
    CHECK(tw_ring_pop(&r, out, 3) == 3);
    CHECK(out[0] == 0 && out[1] == 0 && out[4] == 2 && out[5] == -2);
    CHECK(tw_ring_pop(&r, out, 100) == 5 && out[0] == 3 && out[9] == -7);
    CHECK(tw_ring_pop(&r, out, 100) == 0);
    /* indices wrap modulo 2^32 */
    r.head = r.tail = 0xFFFFFFFCu;
    for (i = 0; i < 8; i++) {
        rec[0] = (int16_t)(100 + i);
        CHECK(tw_ring_push(&r, rec) == 1);
    }
    CHECK(tw_ring_push(&r, rec) == 0 && r.overruns == 3);
    CHECK(tw_ring_count(&r) == 8 && r.head == 4u);
    CHECK(tw_ring_pop(&r, out, 8) == 8 && out[0] == 100 && out[14] == 107);
}

static void test_bytes(void)
{
    static uint8_t storage[16];
    static const uint8_t msg[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    uint8_t out[16];
    tw_bytes_t q;
    current = "bytes";
    CHECK(tw_bytes_init(&q, storage, 12) == -1);
    CHECK(tw_bytes_init(&q, storage, 16) == 0);
    CHECK(tw_bytes_write(&q, msg, 10) == 1);
    CHECK(tw_bytes_write(&q, msg, 10) == 0 && q.refused_bytes == 10); /* all or nothing */
    CHECK(tw_bytes_peek(&q, out, 4) == 4 && out[0] == 1 && out[3] == 4);
    CHECK(tw_bytes_count(&q) == 10); /* peek does not consume */
    tw_bytes_consume(&q, 8);
    CHECK(tw_bytes_write(&q, msg, 10) == 1 && tw_bytes_count(&q) == 12); /* wraps around */
    CHECK(tw_bytes_peek(&q, out, 16) == 12 && out[0] == 9 && out[1] == 10 && out[2] == 1 && out[11] == 10);
    tw_bytes_consume(&q, 100);
    CHECK(tw_bytes_count(&q) == 0);
}

/* ------------------------------------------------------------------ clock */

static void test_clock(void)
{
    tw_clock_t c;
    uint32_t hw = 0xFFF000u; /* a 24-bit RTC close to wrapping */
    uint64_t total = 0, us = 0;
    unsigned i;
    current = "clock";
    CHECK(tw_clock_init(&c, 0, 24, 0) == -1);
    CHECK(tw_clock_init(&c, 32768, 33, 0) == -1);
    CHECK(tw_clock_init(&c, 32768, 24, hw) == 0);
    for (i = 0; i < 3000; i++) { /* 3000 steps of 10000 ticks: > 1.7 wraps of 2^24 */
        hw = (hw + 10000u) & 0xFFFFFFu;
        total += 10000u;
        us = tw_clock_update(&c, hw | 0xAB000000u); /* bits above the counter width are ignored */
    }
    CHECK(us == total * 1000000u / 32768u);
    CHECK(tw_clock_init(&c, 1000000, 32, 0xFFFFFF00u) == 0);
    CHECK(tw_clock_update(&c, 0x00000100u) == 512u);
    CHECK(tw_ticks_to_us(32768ull * 86400u * 365u * 100u, 32768u) == 1000000ull * 86400u * 365u * 100u);
    CHECK(tw_sample_time_us(7, 1000000000000ull, 1000000u) == 7u + 1000000000000000ull); /* 10^12 samples at 1 kHz */
    CHECK(tw_sample_time_us(0, 1, 12500) == 80000u);
    {
        /* an IMU running 2 % fast, read every 26 samples with up to one period of jitter */
        tw_fifo_timer_t ft;
        uint32_t s = 99u;
        uint64_t prev = 0, t;
        double true_period_us = 1e6 / (208.0 * 1.02), worst_vs_nominal = 0, worst_vs_true = 0, worst_lag = 0;
        tw_fifo_timer_init(&ft, 208000, 100000);
        for (i = 0; i < 2000; i++) { /* ~4 min */
            double truth = 1e6 + i * 26 * true_period_us, step, lag;
            s = s * 1103515245u + 12345u;
            t = tw_fifo_timer_block(&ft, (uint64_t)(truth + (s >> 16) % 4800u), 26);
            step = (double)(t - prev);
            if (i > 0 && fabs(step - 125000.0) > worst_vs_nominal) {
                worst_vs_nominal = fabs(step - 125000.0);
            }
            lag = fabs(truth - (double)t);
            if (i > 200 && fabs(step - 26 * true_period_us) > worst_vs_true) {
                worst_vs_true = fabs(step - 26 * true_period_us);
            }
            if (i > 200 && lag > worst_lag) {
                worst_lag = lag;
            }
            prev = t;
        }
        CHECK(ft.resyncs == 0);
        CHECK(worst_vs_nominal < 1.5 * 4808.0 * 0.5); /* well inside a host's 1.5-period gap tolerance */
        CHECK(worst_vs_true < 4808.0 / 4);            /* once settled, evenly spaced at the true rate */
        CHECK(worst_lag < 30000.0);                    /* and never drifting from the device clock */
        t = tw_fifo_timer_block(&ft, prev + 2000000u, 26); /* samples lost: restart at the measured time */
        CHECK(ft.resyncs == 1 && t == prev + 2000000u);
    }
}

/* ------------------------------------------------------------------ signal checks */

static void test_signal(void)
{
    static const int16_t acc[] = {0, 32767, -32768, 32766, -32767, 5};
    int16_t emg[2 * 300];
    tw_leadoff_t l;
    unsigned i;
    current = "signal";
    CHECK(tw_count_saturated(acc, 6, 32767) == 3);
    CHECK(tw_count_saturated(acc, 6, 32766) == 4);
    tw_leadoff_init(&l, 2, 2000, 200);
    for (i = 0; i < 300; i++) {
        emg[2 * i] = (int16_t)(i % 2 ? 40 : -40); /* channel 0: normal signal */
        emg[2 * i + 1] = (int16_t)(i < 50 ? 30 : -2047); /* channel 1: railed after 50 samples */
    }
    tw_leadoff_update(&l, emg, 249);
    CHECK(tw_leadoff_bits(&l) == 0); /* 199 railed samples: not yet */
    tw_leadoff_update(&l, emg + 2 * 249, 51);
    CHECK(tw_leadoff_bits(&l) == 2);
    emg[1] = 0;
    tw_leadoff_update(&l, emg, 1); /* one sample back inside clears it */
    CHECK(tw_leadoff_bits(&l) == 0);
}

/* ------------------------------------------------------------------ robustness */

static uint32_t xorshift(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void test_garbage_and_frames(void)
{
    static tw_decoder_t dec;
    static uint8_t wire[TW_MAX_WIRE_LEN];
    uint8_t payload[8];
    uint32_t s = 12345u, i, sent = 0, got = 0, fed = 0;
    current = "garbage";
    tw_decoder_init(&dec);
    for (i = 0; i < 400; i++) {
        size_t n, k, g = xorshift(&s) % 80;
        tw_frame_view_t f;
        for (k = 0; k < g; k++) { /* garbage, zeros included */
            got += (uint32_t)tw_decoder_push(&dec, (uint8_t)xorshift(&s), &f);
            fed++;
        }
        tw_pack_mark(payload, sizeof payload, (uint64_t)i * 1000u);
        n = tw_frame_encode(TW_PROTOCOL_VERSION, TW_MARK, i, payload, sizeof payload, wire, sizeof wire);
        sent++;
        for (k = 0; k < n; k++) {
            if (tw_decoder_push(&dec, wire[k], &f)) {
                got++;
                CHECK(f.type == TW_MARK && f.seq == i);
            }
            fed++;
        }
    }
    CHECK(got == sent); /* every frame, in order; garbage forged none (checked via seq above) */
    CHECK(dec.counters.bytes == fed && dec.counters.frames == sent);
    CHECK(dec.counters.garbage_bytes > 0);
    {
        uint16_t longest = 0;
        for (i = 0; i < 200000; i++) { /* random bytes, mostly without zeros: never past the bound */
            tw_frame_view_t f;
            (void)tw_decoder_push(&dec, (uint8_t)(xorshift(&s) | (i % 3000 ? 1u : 0u)), &f);
            longest = dec.len > longest ? dec.len : longest;
        }
        CHECK(longest == TW_MAX_ENCODED_LEN && dec.counters.oversize > 0);
    }
}

int main(void)
{
    test_crc_and_cobs();
    test_vectors();
    test_packers();
    test_command_parse();
    test_device();
    test_ring();
    test_bytes();
    test_clock();
    test_signal();
    test_garbage_and_frames();
#ifdef TW_TEST_FORCE_FAILURE
    current = "forced";
    CHECK(!"this build must fail: it proves the exit code reaches the caller");
#endif
    printf("firmware core tests: %d checks, %d failed, %u golden vectors\n", checks, failures, TV_VECTORS_COUNT);
    return failures ? 1 : 0;
}
