/* twitchwatch wire protocol v1: constants and types shared by the encoder and the decoder.
 * Normative text: firmware/PROTOCOL.md. Portable C99, no SDK include, no malloc. */
#ifndef TW_PROTOCOL_H
#define TW_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TW_PROTOCOL_VERSION 1u
#define TW_HEADER_LEN 6u
#define TW_CRC_LEN 2u
#define TW_MAX_FRAME_LEN 1024u /* header + payload + CRC, bytes */
#define TW_MAX_PAYLOAD_LEN (TW_MAX_FRAME_LEN - TW_HEADER_LEN - TW_CRC_LEN)
/* COBS body: n + ceil(n / 254) bytes for n = TW_MAX_FRAME_LEN */
#define TW_MAX_ENCODED_LEN (TW_MAX_FRAME_LEN + (TW_MAX_FRAME_LEN + 253u) / 254u)
/* one frame on the wire: leading 0x00, COBS body, trailing 0x00 */
#define TW_MAX_WIRE_LEN (TW_MAX_ENCODED_LEN + 2u)
#define TW_MAX_CHANNELS 8u
#define TW_MAX_STREAMS 4u
#define TW_SAMPLE_HEADER_LEN 12u
#define TW_STATUS_LEN 22u
#define TW_MARK_LEN 8u
#define TW_ACK_LEN 16u

enum tw_frame_type {
    TW_HELLO = 1,
    TW_ACCEL = 2,
    TW_EMG = 3,
    TW_STATUS = 4,
    TW_MARK = 5,
    TW_COMMAND = 6,
    TW_ACK = 7
};
#define TW_NUM_FRAME_TYPES 8u /* array size indexed by frame type (0 unused) */

enum tw_command_code {
    TW_CMD_START = 1,
    TW_CMD_STOP = 2,
    TW_CMD_SET_RATES = 3,
    TW_CMD_SEND_HELLO = 4,
    TW_CMD_PING = 5
};

enum tw_ack_status {
    TW_ACK_OK = 0,
    TW_ACK_UNKNOWN_COMMAND = 1,
    TW_ACK_BAD_LENGTH = 2,
    TW_ACK_BAD_ARGUMENT = 3,
    TW_ACK_BUSY = 4
};
#define TW_ACK_STATUS_MAX 4u

enum tw_stream_kind { TW_KIND_ACCEL = 1, TW_KIND_EMG = 2 };

/* What a receiver delivers (see PROTOCOL.md section 2). */
enum tw_result {
    TW_RESULT_FRAME = 0,               /* an intact v1 frame of a known type, payload checked */
    TW_RESULT_UNSUPPORTED_VERSION = 1, /* intact frame of another version: only version/type valid */
    TW_RESULT_BAD_COMMAND = 2          /* intact COMMAND that cannot be executed: ack_status says why */
};

/* Counters, same names and meaning as host FrameDecoder.counters. */
typedef struct {
    uint32_t bytes;
    uint32_t frames;
    uint32_t checksum;
    uint32_t truncated;
    uint32_t oversize;
    uint32_t unknown_type;
    uint32_t unsupported_version;
    uint32_t malformed;
    uint32_t sequence_gap;
    uint32_t garbage_bytes;
} tw_counters_t;

/* A delivered frame; payload points into the decoder and is valid until the next byte is pushed. */
typedef struct {
    uint8_t result; /* enum tw_result */
    uint8_t version;
    uint8_t type;
    uint8_t ack_status; /* for TW_RESULT_BAD_COMMAND */
    uint32_t seq;
    const uint8_t *payload;
    uint16_t payload_len;
} tw_frame_view_t;

/* A parsed COMMAND. Rates in millihertz; 0 = leave unchanged (SET_RATES only). */
typedef struct {
    uint32_t seq;
    uint8_t code;
    uint32_t accel_rate_mhz;
    uint32_t emg_rate_mhz;
} tw_command_t;

#ifdef __cplusplus
}
#endif

#endif
