/* Single-producer / single-consumer byte queue (e.g. BLE write callback -> main loop, or main loop
 * -> BLE notifications). Storage is the caller's, capacity a power of two. A write that does not
 * fit is refused whole (never half a frame) and counted in `refused_bytes`. */
#ifndef TW_BYTES_H
#define TW_BYTES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    uint8_t *storage;
    uint32_t capacity;
    volatile uint32_t head; /* bytes written (producer) */
    volatile uint32_t tail; /* bytes read (consumer) */
    volatile uint32_t refused_bytes; /* producer */
} tw_bytes_t;

int tw_bytes_init(tw_bytes_t *q, uint8_t *storage, uint32_t capacity);
/* Producer: append all n bytes, or none (returns 0 and counts them refused). */
int tw_bytes_write(tw_bytes_t *q, const uint8_t *data, uint32_t n);
/* Consumer: bytes available. */
uint32_t tw_bytes_count(const tw_bytes_t *q);
/* Consumer: copy up to max bytes out without consuming them (to retry a failed send). */
uint32_t tw_bytes_peek(const tw_bytes_t *q, uint8_t *out, uint32_t max);
/* Consumer: drop n bytes (n <= count). */
void tw_bytes_consume(tw_bytes_t *q, uint32_t n);

#ifdef __cplusplus
}
#endif

#endif
