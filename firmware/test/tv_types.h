/* Types of the generated golden-vector tables (build/vectors.h). */
#ifndef TV_TYPES_H
#define TV_TYPES_H

#include <stddef.h>
#include <stdint.h>

#include "tw_payload.h"
#include "tw_protocol.h"

typedef struct {
    uint8_t result, version, type, ack_status;
    uint32_t seq;
    const uint8_t *payload;
    uint16_t payload_len;
    const uint8_t *wire; /* canonical encoding, or length 0 */
    uint16_t wire_len;
} tv_frame_t;

typedef struct {
    const char *name;
    const uint8_t *data; /* all chunks back to back */
    const uint16_t *chunk_lens;
    uint16_t n_chunks;
    const tv_frame_t *frames;
    uint16_t n_frames;
    tw_counters_t counters;
} tv_vector_t;

typedef struct { const uint8_t *data; size_t len; const uint8_t *enc; size_t enc_len; } tv_cobs_case_t;
typedef struct { const uint8_t *data; size_t len; uint16_t crc; } tv_crc_case_t;
typedef struct {
    uint64_t t_first_us;
    uint16_t n;
    uint8_t channels;
    const int16_t *counts;
    const uint8_t *payload;
    size_t payload_len;
} tv_sample_case_t;
typedef struct { tw_hello_t hello; const uint8_t *payload; size_t payload_len; } tv_hello_case_t;
typedef struct { tw_status_t status; const uint8_t *payload; size_t payload_len; } tv_status_case_t;
typedef struct { uint64_t t_us; const uint8_t *payload; size_t payload_len; } tv_mark_case_t;
typedef struct {
    uint32_t command_seq;
    uint8_t code, status;
    uint64_t t_us;
    const uint8_t *payload;
    size_t payload_len;
} tv_ack_case_t;
typedef struct { tw_command_t command; const uint8_t *payload; size_t payload_len; } tv_command_case_t;

#endif
