/* Device-side protocol state: sequence numbers per frame type, streaming on/off, current rates,
 * sample timestamps, and the answer to every COMMAND (ACK, plus HELLO where the protocol says so).
 * The board layer only moves bytes and samples; all decisions are here, so they are tested. */
#ifndef TW_DEVICE_H
#define TW_DEVICE_H

#include "tw_payload.h"
#include "tw_protocol.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const uint32_t *accel_rates_mhz; /* rates the IMU can do */
    uint8_t n_accel_rates;
    const uint32_t *emg_rates_mhz; /* rates the EMG timer can do exactly */
    uint8_t n_emg_rates;
} tw_rate_limits_t;

typedef struct {
    uint64_t t0_us;  /* device time of sample 0 since START or the last rate change */
    uint64_t index;  /* samples sent since then */
} tw_stream_clock_t;

typedef struct {
    tw_hello_t hello; /* streams[i].rate_mhz follow SET_RATES */
    tw_rate_limits_t limits;
    uint8_t running;
    uint32_t seq[TW_NUM_FRAME_TYPES];
    tw_stream_clock_t clock[TW_MAX_STREAMS];
    uint8_t scratch[TW_MAX_PAYLOAD_LEN];
} tw_device_t;

/* Board actions requested by a command (bit mask written by tw_device_on_frame). */
enum { TW_ACTION_START = 1, TW_ACTION_STOP = 2, TW_ACTION_RATES = 4 };

void tw_device_init(tw_device_t *d, const tw_hello_t *hello, const tw_rate_limits_t *limits);
/* Frame `payload` as `type` with the next sequence number of that type. Returns bytes written. */
size_t tw_device_emit(tw_device_t *d, uint8_t type, const uint8_t *payload, size_t len, uint8_t *out, size_t cap);
size_t tw_device_hello(tw_device_t *d, uint8_t *out, size_t cap);
size_t tw_device_status(tw_device_t *d, const tw_status_t *status, uint8_t *out, size_t cap);
size_t tw_device_mark(tw_device_t *d, uint64_t t_us, uint8_t *out, size_t cap);
/* A block of n samples of stream `stream_index` (its kind from HELLO); its timestamp follows from
 * the stream clock (t0 + index / rate): right for a stream clocked by the MCU's own timer (EMG).
 * Returns 0 while not running or if it does not fit. */
size_t tw_device_samples(tw_device_t *d, uint8_t stream_index, const int16_t *samples, uint16_t n, uint8_t *out,
                         size_t cap);
/* The same with an explicit time of the first sample: for a stream clocked by its own oscillator
 * (the IMU), timed from when its FIFO was read, see tw_fifo_first_sample_us. */
size_t tw_device_samples_at(tw_device_t *d, uint8_t stream_index, uint64_t t_first_us, const int16_t *samples,
                            uint16_t n, uint8_t *out, size_t cap);
/* Device time of the oldest of `in_fifo` samples read at t_read_us, the newest taken just before
 * the read: t_read - (in_fifo - 1) / rate. */
uint64_t tw_fifo_first_sample_us(uint64_t t_read_us, uint32_t in_fifo, uint32_t rate_mhz);
/* Restart a stream's sample clock at t_us (after samples were lost on the device). */
void tw_device_resync(tw_device_t *d, uint8_t stream_index, uint64_t t_us);
/* Handle a received frame: COMMANDs (and BadCommands) get an ACK, then a HELLO after START,
 * SEND_HELLO and an accepted SET_RATES. Other frames are ignored. `out` should hold
 * 2 * TW_MAX_WIRE_LEN. Returns bytes written; *actions gets TW_ACTION_* bits. */
size_t tw_device_on_frame(tw_device_t *d, const tw_frame_view_t *f, uint64_t now_us, uint8_t *out, size_t cap,
                          uint8_t *actions);

#ifdef __cplusplus
}
#endif

#endif
