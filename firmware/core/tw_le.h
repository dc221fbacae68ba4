/* Explicit little-endian packing (no struct layout, no bitfields). */
#ifndef TW_LE_H
#define TW_LE_H

#include <stdint.h>
#include <string.h>

static inline void tw_put_u16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void tw_put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline void tw_put_u64(uint8_t *p, uint64_t v)
{
    tw_put_u32(p, (uint32_t)v);
    tw_put_u32(p + 4, (uint32_t)(v >> 32));
}
static inline void tw_put_f32(uint8_t *p, float f)
{
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    tw_put_u32(p, bits);
}
static inline uint16_t tw_get_u16(const uint8_t *p) { return (uint16_t)(p[0] | (uint16_t)p[1] << 8); }
static inline uint32_t tw_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t tw_get_u64(const uint8_t *p) { return (uint64_t)tw_get_u32(p) | (uint64_t)tw_get_u32(p + 4) << 32; }
static inline float tw_get_f32(const uint8_t *p)
{
    uint32_t bits = tw_get_u32(p);
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

#endif
