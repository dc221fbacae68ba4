#include "tw_ring.h"

#include <string.h>

/* Compiler barrier: the record must be written before head moves (and read before tail moves).
 * Enough on a single-core Cortex-M where producer is an ISR; a multi-core port needs a DMB. */
#if defined(__GNUC__)
#define TW_BARRIER() __asm__ __volatile__("" ::: "memory")
#else
#define TW_BARRIER() ((void)0)
#endif

int tw_ring_init(tw_ring_t *r, int16_t *storage, uint32_t capacity, uint8_t record_len)
{
    if (!r || !storage || capacity == 0 || (capacity & (capacity - 1u)) != 0 || record_len == 0) {
        return -1;
    }
    r->storage = storage;
    r->capacity = capacity;
    r->record_len = record_len;
    r->head = 0;
    r->tail = 0;
    r->overruns = 0;
    return 0;
}

int tw_ring_push(tw_ring_t *r, const int16_t *record)
{
    uint32_t head = r->head;
    if (head - r->tail >= r->capacity) {
        r->overruns++;
        return 0;
    }
    memcpy(r->storage + (size_t)(head & (r->capacity - 1u)) * r->record_len, record,
           (size_t)r->record_len * sizeof(int16_t));
    TW_BARRIER();
    r->head = head + 1u;
    return 1;
}

uint32_t tw_ring_count(const tw_ring_t *r) { return r->head - r->tail; }

uint32_t tw_ring_pop(tw_ring_t *r, int16_t *out, uint32_t max_records)
{
    uint32_t tail = r->tail, avail = r->head - tail, n, i;
    TW_BARRIER();
    n = avail < max_records ? avail : max_records;
    for (i = 0; i < n; i++) {
        memcpy(out + (size_t)i * r->record_len, r->storage + (size_t)((tail + i) & (r->capacity - 1u)) * r->record_len,
               (size_t)r->record_len * sizeof(int16_t));
    }
    TW_BARRIER();
    r->tail = tail + n;
    return n;
}
