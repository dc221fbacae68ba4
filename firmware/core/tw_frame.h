/* Framing: COBS + CRC-16 encoder and the streaming, byte-at-a-time decoder (PROTOCOL.md 1-2). */
#ifndef TW_FRAME_H
#define TW_FRAME_H

#include "tw_protocol.h"

#ifdef __cplusplus
extern "C" {
#endif

/* COBS-encode len bytes into out (no delimiters). Returns the encoded length, 0 if out_cap is too
 * small. Standard COBS exactly as the Wikipedia examples (no trailing code after a final 0xFF run). */
size_t tw_cobs_encode(const uint8_t *data, size_t len, uint8_t *out, size_t out_cap);

/* Decode a COBS body (no delimiters) into out; out may equal enc (in place). Returns the decoded
 * length, or -1 if a block runs past the end, a 0x00 appears, or out_cap is too small. */
long tw_cobs_decode(const uint8_t *enc, size_t len, uint8_t *out, size_t out_cap);

/* Complete wire bytes of one frame: 0x00 | COBS(header | payload | crc) | 0x00.
 * Returns the number of bytes written, 0 if the frame exceeds TW_MAX_FRAME_LEN or out_cap. */
size_t tw_frame_encode(uint8_t version, uint8_t type, uint32_t seq, const uint8_t *payload, size_t payload_len,
                       uint8_t *out, size_t out_cap);

typedef struct {
    uint8_t buf[TW_MAX_ENCODED_LEN]; /* COBS body so far; decoded in place when the delimiter comes */
    uint16_t len;
    uint8_t skipping; /* inside an oversize candidate: drop bytes until the next 0x00 */
    uint8_t have_seq; /* bit t set: last_seq[t] is valid */
    uint32_t last_seq[TW_NUM_FRAME_TYPES];
    tw_counters_t counters;
} tw_decoder_t;

void tw_decoder_init(tw_decoder_t *d);

/* Push one received byte. Returns 1 and fills *out when the byte completed a deliverable frame
 * (out->payload stays valid until the next push), else 0. Never fails; counts what it drops. */
int tw_decoder_push(tw_decoder_t *d, uint8_t byte, tw_frame_view_t *out);

/* Payload check of an intact v1 frame of a known type (PROTOCOL.md section 3): 1 if consistent.
 * For COMMAND use tw_command_parse instead. */
int tw_payload_valid(uint8_t type, const uint8_t *payload, size_t len);

/* Parse a COMMAND payload. Returns TW_ACK_OK (and fills *cmd, seq left to the caller) or the
 * error status the device answers with: TW_ACK_BAD_LENGTH or TW_ACK_UNKNOWN_COMMAND. */
uint8_t tw_command_parse(const uint8_t *payload, size_t len, tw_command_t *cmd);

#ifdef __cplusplus
}
#endif

#endif
