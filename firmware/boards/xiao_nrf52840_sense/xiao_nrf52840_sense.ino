// twitchwatch sensor firmware for the Seeed XIAO nRF52840 Sense (board glue only).
//
// Board package: "Seeed nRF52 Boards" (Adafruit nRF52 core with Bluefruit, NOT the mbed one),
// FQBN Seeeduino:nrf52:xiaonRF52840Sense. Before building, copy the portable core next to this
// sketch:  make -C firmware sketch-src   (creates src/twcore/). See firmware/README.md.
//
// NOT BUILT OR RUN IN THIS REPOSITORY'S CI: no Nordic SDK / board package can be installed there.
// Everything that decides something (framing, commands, timestamps, lead-off, rings) is in
// firmware/core and is tested on the host and on a Cortex-M4F under QEMU; this file only moves
// bytes and samples between the hardware and the core.
//
// Data path:
//   TIMER2 compare (1 kHz) --PPI--> SAADC sample (EMG A0, A1 + battery) --END IRQ--> emg_ring
//   loop(): LSM6DS3TR-C FIFO over I2C (208 Hz, +-16 g)    emg_ring  --> frames --> USB CDC + BLE
//   USB / BLE command bytes --> tw_decoder --> tw_device_on_frame --> ACK (+ HELLO)

#include <Arduino.h>
#include <Wire.h>
#include <bluefruit.h>
#include <nrf_soc.h>

#include "src/twcore/tw_bytes.h"
#include "src/twcore/tw_clock.h"
#include "src/twcore/tw_device.h"
#include "src/twcore/tw_frame.h"
#include "src/twcore/tw_ring.h"
#include "src/twcore/tw_signal.h"

// ------------------------------------------------------------------ configuration
#define FIRMWARE_VERSION "0.1.0"
static const char *const PLACEMENT = "foot";  // "foot", "ankle" or "wrist": where it is worn
#define EMG_CHANNELS 2                         // 1 or 2 MyoWare 2.0 boards on A0 (, A1)
#define MARK_BUTTON_PIN D2                     // push button to GND (D0/D1 are the EMG inputs A0/A1)
#define STATUS_PERIOD_MS 5000
#define HELLO_PERIOD_MS 60000
#define ACCEL_BLOCK 26                         // samples per ACCEL frame (FIFO watermark)
#define EMG_BLOCK 50                           // samples per EMG frame

// LSM6DS3TR-C (datasheet DocID030071): I2C address and registers
#define IMU_ADDR 0x6A
#define REG_FIFO_CTRL1 0x06
#define REG_FIFO_CTRL2 0x07
#define REG_FIFO_CTRL3 0x08
#define REG_FIFO_CTRL5 0x0A
#define REG_WHO_AM_I 0x0F  // reads 0x6A
#define REG_CTRL1_XL 0x10
#define REG_CTRL3_C 0x12
#define REG_FIFO_STATUS1 0x3A
#define REG_FIFO_STATUS2 0x3B
#define REG_FIFO_STATUS3 0x3C
#define REG_FIFO_DATA_OUT_L 0x3E
#define IMU_FS_16G_BITS 0x04        // CTRL1_XL FS_XL = 01: +-16 g
#define IMU_SCALE_G 0.000488f       // 0.488 mg/LSB at +-16 g (datasheet table 3)
#define IMU_FIFO_SAMPLES 682        // 4 kB FIFO / 6 bytes per 3-axis sample

// EMG: MyoWare 2.0 RAW output (gain 200 per its datasheet), centred at VDD/2, into the SAADC at
// gain 1/4 with reference VDD/4 (input range 0..3.3 V), 12 bits: 3.3 V / 4096 / 200 per count.
#define EMG_GAIN 200.0f
#define EMG_SCALE_UV (3.3e6f / 4096.0f / EMG_GAIN)  // ~4.03 uV per count at the electrodes
#define EMG_RANGE_UV (2048.0f * EMG_SCALE_UV)       // ~8250 uV
#define EMG_MIDSCALE 2048
#define EMG_RAIL_COUNTS 2000                        // within 48 counts of a rail
#define EMG_LEADOFF_HOLD 200                        // 200 ms at 1 kHz railed -> lead off

static const uint32_t ACCEL_RATES_MHZ[] = {12500, 26000, 52000, 104000, 208000, 416000, 833000};
static const uint8_t ACCEL_ODR_BITS[] = {1, 2, 3, 4, 5, 6, 7};  // CTRL1_XL / FIFO_CTRL5 ODR codes
// EMG rates whose timer period is a whole number of microseconds
static const uint32_t EMG_RATES_MHZ[] = {100000, 125000, 200000, 250000, 400000, 500000, 1000000, 2000000};

// BLE service and characteristics (firmware/PROTOCOL.md section 4), little-endian byte order
static const uint8_t UUID_SERVICE[16] = {0x3c, 0x2b, 0x1e, 0x0a, 0x1c, 0x6f, 0x2e, 0x9d,
                                         0x8a, 0x4b, 0x4e, 0x5c, 0x01, 0x00, 0x77, 0x74};
static const uint8_t UUID_DATA[16] = {0x3c, 0x2b, 0x1e, 0x0a, 0x1c, 0x6f, 0x2e, 0x9d,
                                      0x8a, 0x4b, 0x4e, 0x5c, 0x02, 0x00, 0x77, 0x74};
static const uint8_t UUID_COMMAND[16] = {0x3c, 0x2b, 0x1e, 0x0a, 0x1c, 0x6f, 0x2e, 0x9d,
                                         0x8a, 0x4b, 0x4e, 0x5c, 0x03, 0x00, 0x77, 0x74};

// ------------------------------------------------------------------ state
static const char *const ACCEL_NAMES[] = {"x", "y", "z"};
static const char *const EMG_NAMES[] = {"tibialis_anterior", "gastrocnemius"};
static char device_id[16];
static tw_device_t dev;
static tw_clock_t clk;
static tw_decoder_t usb_rx_decoder, ble_rx_decoder;
static tw_leadoff_t leadoff;
static tw_fifo_timer_t accel_timer;  // IMU block timestamps, locked to the device clock

static int16_t emg_storage[1024 * EMG_CHANNELS];  // 1 s of EMG between ISR and loop
static tw_ring_t emg_ring;
static uint8_t ble_tx_storage[8192];                // ~1.3 s of stream for BLE back-pressure
static tw_bytes_t ble_tx;
static uint8_t ble_rx_storage[512];                 // command bytes from the BLE write callback
static tw_bytes_t ble_rx;

static volatile int16_t saadc_buf[3];               // EMG 0, EMG 1, battery (one scan)
static volatile int16_t battery_raw;
static uint32_t accel_dropped, imu_saturated;
static uint8_t frame_out[2 * TW_MAX_WIRE_LEN];
static uint8_t accel_odr_bits = 5;                  // 208 Hz

BLEService tw_service(UUID_SERVICE);
BLECharacteristic data_chr(UUID_DATA);
BLECharacteristic command_chr(UUID_COMMAND);

// ------------------------------------------------------------------ clock: TIMER4, 32 bit, 1 MHz
static void clock_begin() {
  sd_clock_hfclk_request();  // crystal HFCLK: TIMERs on the +-1 % RC oscillator would drift
  NRF_TIMER4->MODE = TIMER_MODE_MODE_Timer;
  NRF_TIMER4->BITMODE = TIMER_BITMODE_BITMODE_32Bit;
  NRF_TIMER4->PRESCALER = 4;  // 16 MHz / 2^4 = 1 MHz
  NRF_TIMER4->TASKS_CLEAR = 1;
  NRF_TIMER4->TASKS_START = 1;
  tw_clock_init(&clk, 1000000, 32, 0);
}

static uint64_t now_us() {
  NRF_TIMER4->TASKS_CAPTURE[0] = 1;
  return tw_clock_update(&clk, NRF_TIMER4->CC[0]);  // called every loop: far below the 71 min wrap
}

// ------------------------------------------------------------------ output: USB CDC + BLE
static void send(const uint8_t *bytes, size_t n) {
  if (n == 0) return;
  if (Serial) Serial.write(bytes, n);  // TinyUSB CDC, when a host has the port open
  if (Bluefruit.connected() && data_chr.notifyEnabled()) {
    tw_bytes_write(&ble_tx, bytes, (uint32_t)n);  // whole frame or nothing; host sees a seq gap
  }
}

static void ble_pump() {
  uint8_t chunk[244];
  if (!Bluefruit.connected()) {
    tw_bytes_consume(&ble_tx, tw_bytes_count(&ble_tx));
    return;
  }
  uint16_t room = Bluefruit.Connection(0)->getMtu() - 3;
  if (room > sizeof chunk) room = sizeof chunk;
  for (int i = 0; i < 8 && tw_bytes_count(&ble_tx); i++) {
    uint32_t n = tw_bytes_peek(&ble_tx, chunk, room);
    if (!data_chr.notify(chunk, (uint16_t)n)) break;  // no buffer now: retry next loop
    tw_bytes_consume(&ble_tx, n);
  }
}

// ------------------------------------------------------------------ commands in
static void apply_rates() {
  const tw_stream_desc_t *acc = &dev.hello.streams[0];
  for (unsigned i = 0; i < sizeof ACCEL_RATES_MHZ / sizeof ACCEL_RATES_MHZ[0]; i++) {
    if (ACCEL_RATES_MHZ[i] == acc->rate_mhz) accel_odr_bits = ACCEL_ODR_BITS[i];
  }
  if (dev.hello.n_streams > 1) {
    NRF_TIMER2->CC[0] = (uint32_t)(1000000000ull / dev.hello.streams[1].rate_mhz);  // period, us
  }
}

static void imu_start();
static void imu_stop();

static void handle_rx(tw_decoder_t *decoder, const uint8_t *bytes, size_t n) {
  for (size_t i = 0; i < n; i++) {
    tw_frame_view_t f;
    if (!tw_decoder_push(decoder, bytes[i], &f)) continue;
    uint8_t actions = 0;
    size_t len = tw_device_on_frame(&dev, &f, now_us(), frame_out, sizeof frame_out, &actions);
    if (actions & TW_ACTION_RATES) apply_rates();
    if (actions & (TW_ACTION_START | TW_ACTION_RATES)) {
      int16_t stale[64 * EMG_CHANNELS];
      while (tw_ring_pop(&emg_ring, stale, 64)) {
      }
      imu_start();
      NRF_TIMER2->TASKS_CLEAR = 1;
      NRF_TIMER2->TASKS_START = 1;
    }
    if (actions & TW_ACTION_STOP) {
      NRF_TIMER2->TASKS_STOP = 1;
      imu_stop();
    }
    send(frame_out, len);
  }
}

static void on_command_write(uint16_t conn, BLECharacteristic *chr, uint8_t *data, uint16_t len) {
  (void)conn;
  (void)chr;
  tw_bytes_write(&ble_rx, data, len);  // decoded in loop(), never in the BLE task
}

static void poll_commands() {
  uint8_t buf[64];
  int avail;
  while ((avail = Serial.available()) > 0) {
    size_t n = Serial.readBytes(buf, avail < (int)sizeof buf ? avail : sizeof buf);
    handle_rx(&usb_rx_decoder, buf, n);
  }
  uint32_t n;
  while ((n = tw_bytes_peek(&ble_rx, buf, sizeof buf)) > 0) {
    tw_bytes_consume(&ble_rx, n);
    handle_rx(&ble_rx_decoder, buf, n);
  }
}

// ------------------------------------------------------------------ IMU: LSM6DS3TR-C FIFO
static void imu_write(uint8_t reg, uint8_t value) {
  Wire.beginTransmission(IMU_ADDR);
  Wire.write(reg);
  Wire.write(value);
  Wire.endTransmission();
}

static bool imu_read(uint8_t reg, uint8_t *out, uint8_t n) {
  Wire.beginTransmission(IMU_ADDR);
  Wire.write(reg);
  if (Wire.endTransmission(false) != 0) return false;
  if (Wire.requestFrom((uint8_t)IMU_ADDR, n) != n) return false;
  for (uint8_t i = 0; i < n; i++) out[i] = (uint8_t)Wire.read();
  return true;
}

static bool imu_begin() {
  pinMode(PIN_LSM6DS3TR_C_POWER, OUTPUT);
  digitalWrite(PIN_LSM6DS3TR_C_POWER, HIGH);  // the Sense board powers its IMU from a GPIO
  delay(50);
  Wire.begin();
  Wire.setClock(400000);
  uint8_t who = 0;
  return imu_read(REG_WHO_AM_I, &who, 1) && who == 0x6A;
}

static void imu_stop() {
  imu_write(REG_FIFO_CTRL5, 0x00);  // FIFO bypass: empties it
  imu_write(REG_CTRL1_XL, 0x00);    // accelerometer power-down
}

static void imu_start() {
  const uint16_t watermark_words = ACCEL_BLOCK * 3;
  tw_fifo_timer_init(&accel_timer, dev.hello.streams[0].rate_mhz, 100000);  // > 100 ms off: restart
  imu_write(REG_CTRL3_C, 0x44);  // BDU + register auto-increment
  imu_write(REG_CTRL1_XL, (uint8_t)(accel_odr_bits << 4 | IMU_FS_16G_BITS));
  imu_write(REG_FIFO_CTRL5, 0x00);  // bypass (clears), then continuous
  imu_write(REG_FIFO_CTRL1, (uint8_t)(watermark_words & 0xFF));
  imu_write(REG_FIFO_CTRL2, (uint8_t)(watermark_words >> 8 & 0x07));
  imu_write(REG_FIFO_CTRL3, 0x01);  // accelerometer in FIFO, no decimation; gyro not stored
  imu_write(REG_FIFO_CTRL5, (uint8_t)(accel_odr_bits << 3 | 0x06));  // FIFO ODR = accel ODR, continuous
}

static void imu_poll() {
  uint8_t st[2];
  if (!dev.running || !imu_read(REG_FIFO_STATUS1, st, 2)) return;
  uint64_t t_read = now_us();
  uint16_t words = (uint16_t)((st[1] & 0x07) << 8 | st[0]);
  if (st[1] & 0x40) {  // overrun: the oldest samples are gone; count a lower bound, restart
    accel_dropped += IMU_FIFO_SAMPLES;
    imu_start();
    return;
  }
  uint8_t pattern[2];  // FIFO_PATTERN: 0 = the next word is an x axis value
  while (words > 0 && imu_read(REG_FIFO_STATUS3, pattern, 2) && (pattern[0] | (pattern[1] & 0x03)) != 0) {
    uint8_t skip[2];  // realign on an x sample
    if (!imu_read(REG_FIFO_DATA_OUT_L, skip, 2)) return;
    words--;
  }
  uint32_t samples = words / 3;
  while (samples >= ACCEL_BLOCK) {
    int16_t block[ACCEL_BLOCK * 3];
    for (int i = 0; i < ACCEL_BLOCK * 3; i++) {
      uint8_t b[2];
      if (!imu_read(REG_FIFO_DATA_OUT_L, b, 2)) return;
      block[i] = (int16_t)(b[0] | b[1] << 8);
    }
    imu_saturated += tw_count_saturated(block, ACCEL_BLOCK * 3, 32767);
    uint64_t measured = tw_fifo_first_sample_us(t_read, samples, dev.hello.streams[0].rate_mhz);
    uint64_t t_first = tw_fifo_timer_block(&accel_timer, measured, ACCEL_BLOCK);
    send(frame_out, tw_device_samples_at(&dev, 0, t_first, block, ACCEL_BLOCK, frame_out, sizeof frame_out));
    samples -= ACCEL_BLOCK;
  }
}

// ------------------------------------------------------------------ EMG: TIMER2 -> PPI -> SAADC
extern "C" void SAADC_IRQHandler(void) {
  if (NRF_SAADC->EVENTS_END) {
    NRF_SAADC->EVENTS_END = 0;
    int16_t rec[EMG_CHANNELS];
    for (int c = 0; c < EMG_CHANNELS; c++) rec[c] = (int16_t)(saadc_buf[c] - EMG_MIDSCALE);
    battery_raw = saadc_buf[2];
    tw_ring_push(&emg_ring, rec);  // full ring: dropped and counted in emg_ring.overruns
  }
}

static void emg_begin() {
  NRF_SAADC->RESOLUTION = SAADC_RESOLUTION_VAL_12bit;
  const uint32_t emg_cfg = SAADC_CH_CONFIG_GAIN_Gain1_4 << SAADC_CH_CONFIG_GAIN_Pos |
                           SAADC_CH_CONFIG_REFSEL_VDD1_4 << SAADC_CH_CONFIG_REFSEL_Pos |
                           SAADC_CH_CONFIG_TACQ_10us << SAADC_CH_CONFIG_TACQ_Pos;
  NRF_SAADC->CH[0].PSELP = SAADC_CH_PSELP_PSELP_AnalogInput0;  // A0 = P0.02
  NRF_SAADC->CH[0].CONFIG = emg_cfg;
  NRF_SAADC->CH[1].PSELP = EMG_CHANNELS > 1 ? SAADC_CH_PSELP_PSELP_AnalogInput1 : SAADC_CH_PSELP_PSELP_VDD;
  NRF_SAADC->CH[1].CONFIG = emg_cfg;                           // A1 = P0.03
  NRF_SAADC->CH[2].PSELP = SAADC_CH_PSELP_PSELP_AnalogInput7;  // VBAT divider on P0.31
  NRF_SAADC->CH[2].CONFIG = SAADC_CH_CONFIG_GAIN_Gain1_6 << SAADC_CH_CONFIG_GAIN_Pos |
                            SAADC_CH_CONFIG_REFSEL_Internal << SAADC_CH_CONFIG_REFSEL_Pos |
                            SAADC_CH_CONFIG_TACQ_40us << SAADC_CH_CONFIG_TACQ_Pos;
  NRF_SAADC->RESULT.PTR = (uint32_t)(uintptr_t)saadc_buf;
  NRF_SAADC->RESULT.MAXCNT = 3;
  NRF_SAADC->ENABLE = 1;
  NRF_SAADC->EVENTS_CALIBRATEDONE = 0;
  NRF_SAADC->TASKS_CALIBRATEOFFSET = 1;
  while (!NRF_SAADC->EVENTS_CALIBRATEDONE) {
  }
  NRF_SAADC->EVENTS_END = 0;
  NRF_SAADC->INTENSET = SAADC_INTENSET_END_Msk;
  NVIC_SetPriority(SAADC_IRQn, 3);  // 0, 1, 4 belong to the SoftDevice
  NVIC_EnableIRQ(SAADC_IRQn);
  NRF_SAADC->TASKS_START = 1;

  NRF_TIMER2->MODE = TIMER_MODE_MODE_Timer;
  NRF_TIMER2->BITMODE = TIMER_BITMODE_BITMODE_32Bit;
  NRF_TIMER2->PRESCALER = 4;  // 1 MHz
  NRF_TIMER2->CC[0] = 1000;   // 1000 us: 1 kHz until SET_RATES says otherwise
  NRF_TIMER2->SHORTS = TIMER_SHORTS_COMPARE0_CLEAR_Msk;
  // PPI through the SoftDevice (it owns the PPI peripheral once Bluefruit is running)
  sd_ppi_channel_assign(0, &NRF_TIMER2->EVENTS_COMPARE[0], &NRF_SAADC->TASKS_SAMPLE);
  sd_ppi_channel_assign(1, &NRF_SAADC->EVENTS_END, &NRF_SAADC->TASKS_START);  // re-arm the buffer
  sd_ppi_channel_enable_set((1u << 0) | (1u << 1));
}

static void emg_poll() {
  int16_t block[EMG_BLOCK * EMG_CHANNELS];
  while (tw_ring_count(&emg_ring) >= EMG_BLOCK) {
    tw_ring_pop(&emg_ring, block, EMG_BLOCK);
    tw_leadoff_update(&leadoff, block, EMG_BLOCK);
    send(frame_out, tw_device_samples(&dev, 1, block, EMG_BLOCK, frame_out, sizeof frame_out));
  }
}

// ------------------------------------------------------------------ status, mark, hello
static void send_status() {
  tw_status_t s;
  memset(&s, 0, sizeof s);
  s.t_us = now_us();
  s.dropped_samples = accel_dropped + emg_ring.overruns;
  s.imu_saturation_count = imu_saturated;
  // VBAT: SAADC gain 1/6, 0.6 V reference, 12 bits; on-board divider 1M / 510k (Seeed schematic)
  float vbat = battery_raw * (3.6f / 4096.0f) * (1510.0f / 510.0f);
  s.battery_mv = battery_raw > 0 ? (uint16_t)(vbat * 1000.0f) : 0;
  // Rough LiPo charge from voltage (3.3 V empty .. 4.2 V full, linear): an estimate, not a gauge.
  float pct = (vbat - 3.3f) / (4.2f - 3.3f) * 100.0f;
  s.battery_pct = battery_raw > 0 ? (uint8_t)(pct < 0 ? 0 : pct > 100 ? 100 : pct) : 255;
  s.lead_channels = EMG_CHANNELS;
  s.lead_off_bits = tw_leadoff_bits(&leadoff);
  send(frame_out, tw_device_status(&dev, &s, frame_out, sizeof frame_out));
}

static void poll_button() {
  static bool was_down = false;
  static uint32_t changed_ms = 0;
  bool down = digitalRead(MARK_BUTTON_PIN) == LOW;
  if (down != was_down && millis() - changed_ms > 30) {  // 30 ms debounce
    changed_ms = millis();
    was_down = down;
    if (down) send(frame_out, tw_device_mark(&dev, now_us(), frame_out, sizeof frame_out));
  }
}

// ------------------------------------------------------------------ BLE
static void on_connect(uint16_t conn_handle) {
  BLEConnection *conn = Bluefruit.Connection(conn_handle);
  conn->requestMtuExchange(247);
  conn->requestDataLengthUpdate();
  conn->requestPHY();  // 2M where the central supports it
}

static void ble_begin() {
  Bluefruit.configPrphBandwidth(BANDWIDTH_MAX);  // MTU 247, larger event length
  Bluefruit.begin();
  Bluefruit.setName("twitchwatch");
  Bluefruit.Periph.setConnectCallback(on_connect);
  tw_service.begin();
  data_chr.setProperties(CHR_PROPS_NOTIFY);
  data_chr.setPermission(SECMODE_OPEN, SECMODE_NO_ACCESS);
  data_chr.setMaxLen(244);
  data_chr.begin();
  command_chr.setProperties(CHR_PROPS_WRITE | CHR_PROPS_WRITE_WO_RESP);
  command_chr.setPermission(SECMODE_NO_ACCESS, SECMODE_OPEN);
  command_chr.setMaxLen(244);
  command_chr.setWriteCallback(on_command_write);
  command_chr.begin();
  Bluefruit.Advertising.addFlags(BLE_GAP_ADV_FLAGS_LE_ONLY_GENERAL_DISC_MODE);
  Bluefruit.Advertising.addService(tw_service);
  Bluefruit.ScanResponse.addName();
  Bluefruit.Advertising.restartOnDisconnect(true);
  Bluefruit.Advertising.start(0);
}

// ------------------------------------------------------------------ setup / loop
void setup() {
  Serial.begin(115200);  // USB CDC: the baud rate is ignored
  pinMode(MARK_BUTTON_PIN, INPUT_PULLUP);
  pinMode(VBAT_ENABLE, OUTPUT);
  digitalWrite(VBAT_ENABLE, LOW);  // connect the battery divider to P0.31
  snprintf(device_id, sizeof device_id, "tw-%08lx", (unsigned long)NRF_FICR->DEVICEID[0]);

  tw_hello_t hello;
  memset(&hello, 0, sizeof hello);
  hello.placement = PLACEMENT;
  hello.device_id = device_id;
  hello.firmware_version = FIRMWARE_VERSION;
  hello.n_streams = 2;
  hello.streams[0] = {TW_KIND_ACCEL, 3, 208000, 16.0f, IMU_SCALE_G, ACCEL_NAMES};
  hello.streams[1] = {TW_KIND_EMG, EMG_CHANNELS, 1000000, EMG_RANGE_UV, EMG_SCALE_UV, EMG_NAMES};
  tw_rate_limits_t limits = {ACCEL_RATES_MHZ, sizeof ACCEL_RATES_MHZ / sizeof ACCEL_RATES_MHZ[0], EMG_RATES_MHZ,
                             sizeof EMG_RATES_MHZ / sizeof EMG_RATES_MHZ[0]};
  tw_device_init(&dev, &hello, &limits);
  tw_decoder_init(&usb_rx_decoder);
  tw_decoder_init(&ble_rx_decoder);
  tw_ring_init(&emg_ring, emg_storage, 1024, EMG_CHANNELS);
  tw_bytes_init(&ble_tx, ble_tx_storage, sizeof ble_tx_storage);
  tw_bytes_init(&ble_rx, ble_rx_storage, sizeof ble_rx_storage);
  tw_leadoff_init(&leadoff, EMG_CHANNELS, EMG_RAIL_COUNTS, EMG_LEADOFF_HOLD);

  ble_begin();  // first: the SoftDevice must own the clock and PPI before we use them
  clock_begin();
  imu_begin();  // a missing IMU shows as no ACCEL frames; STATUS and EMG still flow
  emg_begin();
  send(frame_out, tw_device_hello(&dev, frame_out, sizeof frame_out));
}

void loop() {
  static uint32_t last_status = 0, last_hello = 0;
  now_us();
  poll_commands();
  imu_poll();
  emg_poll();
  poll_button();
  uint32_t ms = millis();
  if (ms - last_status >= STATUS_PERIOD_MS) {
    last_status = ms;
    send_status();
  }
  if (dev.running && ms - last_hello >= HELLO_PERIOD_MS) {
    last_hello = ms;
    send(frame_out, tw_device_hello(&dev, frame_out, sizeof frame_out));
  }
  ble_pump();
  delay(1);
}
