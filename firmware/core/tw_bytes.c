#include "tw_bytes.h"

#if defined(__GNUC__)
#define TW_BARRIER() __asm__ __volatile__("" ::: "memory")
#else
#define TW_BARRIER() ((void)0)
#endif

int tw_bytes_init(tw_bytes_t *q, uint8_t *storage, uint32_t capacity)
{
    if (!q || !storage || capacity == 0 || (capacity & (capacity - 1u)) != 0) {
        return -1;
    }
    q->storage = storage;
    q->capacity = capacity;
    q->head = 0;
    q->tail = 0;
    q->refused_bytes = 0;
    return 0;
}

int tw_bytes_write(tw_bytes_t *q, const uint8_t *data, uint32_t n)
{
    uint32_t head = q->head, i;
    if (n > q->capacity - (head - q->tail)) {
        q->refused_bytes += n;
        return 0;
    }
    for (i = 0; i < n; i++) {
        q->storage[(head + i) & (q->capacity - 1u)] = data[i];
    }
    TW_BARRIER();
    q->head = head + n;
    return 1;
}

uint32_t tw_bytes_count(const tw_bytes_t *q) { return q->head - q->tail; }

uint32_t tw_bytes_peek(const tw_bytes_t *q, uint8_t *out, uint32_t max)
{
    uint32_t tail = q->tail, avail = q->head - tail, n = avail < max ? avail : max, i;
    TW_BARRIER();
    for (i = 0; i < n; i++) {
        out[i] = q->storage[(tail + i) & (q->capacity - 1u)];
    }
    return n;
}

void tw_bytes_consume(tw_bytes_t *q, uint32_t n)
{
    uint32_t avail = q->head - q->tail;
    TW_BARRIER();
    q->tail += n < avail ? n : avail;
}
