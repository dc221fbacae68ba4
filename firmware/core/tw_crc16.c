#include "tw_crc16.h"

uint16_t tw_crc16_update(uint16_t crc, const uint8_t *data, size_t len)
{
    /* Bitwise form: 8 shifts a byte, no 512-byte table (flash matters more than speed here:
     * ~6 kB/s of frames at the default rates). */
    size_t i;
    for (i = 0; i < len; i++) {
        int bit;
        crc ^= (uint16_t)((uint16_t)data[i] << 8);
        for (bit = 0; bit < 8; bit++) {
            crc = (crc & 0x8000u) ? (uint16_t)((crc << 1) ^ 0x1021u) : (uint16_t)(crc << 1);
        }
    }
    return crc;
}
