#ifndef TW_CRC16_H
#define TW_CRC16_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TW_CRC16_INIT 0xFFFFu

/* CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, not reflected, no final xor.
 * tw_crc16_update(TW_CRC16_INIT, "123456789", 9) == 0x29B1. Chain calls to cover split buffers. */
uint16_t tw_crc16_update(uint16_t crc, const uint8_t *data, size_t len);

#ifdef __cplusplus
}
#endif

#endif
