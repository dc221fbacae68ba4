/* Single-producer / single-consumer ring of fixed-size int16 records (e.g. one EMG sample of k
 * channels), between a sampling ISR (producer) and the main loop (consumer) on one core.
 * Storage is the caller's; capacity is a power of two. When full, push drops the NEW record and
 * counts it in `overruns` (the consumer reports it as dropped samples). No locks: head is written
 * only by the producer, tail only by the consumer; indices run freely and wrap modulo 2^32. */
#ifndef TW_RING_H
#define TW_RING_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int16_t *storage;
    uint32_t capacity; /* records, power of two */
    uint8_t record_len; /* int16 values per record */
    volatile uint32_t head; /* records pushed (producer) */
    volatile uint32_t tail; /* records popped (consumer) */
    volatile uint32_t overruns; /* records dropped because the ring was full (producer) */
} tw_ring_t;

/* storage must hold capacity * record_len int16. Returns 0 on success, -1 on a bad argument. */
int tw_ring_init(tw_ring_t *r, int16_t *storage, uint32_t capacity, uint8_t record_len);
/* Producer side. Returns 1 if stored, 0 if the ring was full (record dropped, overruns + 1). */
int tw_ring_push(tw_ring_t *r, const int16_t *record);
/* Consumer side: records available now. */
uint32_t tw_ring_count(const tw_ring_t *r);
/* Consumer side: copy up to max_records records into out, oldest first; returns how many. */
uint32_t tw_ring_pop(tw_ring_t *r, int16_t *out, uint32_t max_records);

#ifdef __cplusplus
}
#endif

#endif
