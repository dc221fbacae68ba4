/* Payload packers: explicit little-endian layouts of PROTOCOL.md section 3.
 * Each returns the payload length written, or 0 if it does not fit out_cap / TW_MAX_PAYLOAD_LEN. */
#ifndef TW_PAYLOAD_H
#define TW_PAYLOAD_H

#include "tw_protocol.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    uint8_t kind;     /* enum tw_stream_kind */
    uint8_t channels; /* 1..TW_MAX_CHANNELS */
    uint32_t rate_mhz;
    float range; /* full scale, g or microvolts */
    float scale; /* g or microvolts per count */
    const char *const *channel_names; /* NULL or `channels` strings */
} tw_stream_desc_t;

typedef struct {
    const char *placement; /* "foot", "ankle", "wrist" */
    const char *device_id;
    const char *firmware_version;
    uint8_t n_streams;
    tw_stream_desc_t streams[TW_MAX_STREAMS];
} tw_hello_t;

typedef struct {
    uint64_t t_us;
    uint32_t dropped_samples;
    uint32_t imu_saturation_count;
    uint16_t battery_mv;  /* 0 = unknown */
    uint8_t battery_pct;  /* 255 = unknown */
    uint8_t lead_channels;
    uint8_t lead_off_bits;
} tw_status_t;

/* Sample block: t_first_us, n x channels interleaved int16 (s0c0 s0c1 .. s1c0 ..). */
size_t tw_pack_samples(uint8_t *out, size_t out_cap, uint64_t t_first_us, const int16_t *samples, uint16_t n,
                       uint8_t channels);
/* Largest n that fits one frame for this channel count. */
uint16_t tw_max_samples_per_frame(uint8_t channels);
size_t tw_pack_hello(uint8_t *out, size_t out_cap, const tw_hello_t *hello);
size_t tw_pack_status(uint8_t *out, size_t out_cap, const tw_status_t *status);
size_t tw_pack_mark(uint8_t *out, size_t out_cap, uint64_t t_us);
size_t tw_pack_ack(uint8_t *out, size_t out_cap, uint32_t command_seq, uint8_t code, uint8_t status, uint64_t t_us);
size_t tw_pack_command(uint8_t *out, size_t out_cap, const tw_command_t *cmd);

#ifdef __cplusplus
}
#endif

#endif
