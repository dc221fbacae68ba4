"""`twitchwatch devices [--ble-timeout S] [--no-ble] [--no-brainflow]`: serial ports, BLE sensors
found, and the BrainFlow boards ``record --brainflow`` can open (from BrainFlow's own board
descriptions: their accelerometer and EMG streams and rates; streams the detector cannot analyse
are marked)."""

from __future__ import annotations

from twitchwatch.core.config import DetectorConfig
from twitchwatch.errors import DeviceError
from twitchwatch.sources import ble
from twitchwatch.sources.brainflow import list_boards
from twitchwatch.sources.serial import SENSOR_USB_IDS, list_ports


def add_arguments(p) -> None:
    p.add_argument("--ble-timeout", type=float, default=3.0, metavar="S", help="how long to scan for BLE sensors (s)")
    p.add_argument("--no-ble", action="store_true", help="do not scan for BLE sensors")
    p.add_argument("--no-brainflow", action="store_true", help="do not list BrainFlow boards")


def print_brainflow_boards() -> None:
    """The boards BrainFlow can open that have an accelerometer or EMG."""

    print("BrainFlow boards (record --brainflow NAME [--brainflow-param KEY=VALUE ...]):")
    try:
        boards = list_boards()
    except (ImportError, DeviceError) as exc:
        print(f"  BrainFlow unavailable: {exc}")
        return
    cfg = DetectorConfig()
    minimum = {"accel": cfg.min_accel_rate_hz, "emg": cfg.min_emg_rate_hz}
    width = max(len(b.name) for b in boards)
    for b in boards:
        if not b.streams:
            what = b.described_name
        else:
            what = ", ".join(f"{kind} {rate:g} Hz x{n}" + ("" if rate >= minimum[kind] else " (too slow, left out)")
                             for kind, rate, n in b.streams)
        print(f"  {b.name:<{width}}  id {b.board_id:>3}  {what}")


def run(args) -> int:
    ports = list_ports()
    print("Serial ports:")
    if not ports:
        print("  (none)")
    else:
        width = max(len(p.device) for p in ports)
        for p in ports:
            mark = {"sensor": "SENSOR", "bootloader": "bootloader (not streaming)", "other": ""}[p.kind]
            print(f"  {p.device:<{width}}  {p.usb_id:<9}  {p.description or '-'}" + (f"  <- {mark}" if mark else ""))
    ids = ", ".join(f"{v:04x}:{pid:04x}" for v, pid in SENSOR_USB_IDS)
    print(f"  (the sensor is recognised by USB {ids}; any port works with --serial PORT)")
    if not args.no_brainflow:
        print_brainflow_boards()
    if args.no_ble:
        return 0
    print("BLE sensors:")
    try:
        found = ble.scan(args.ble_timeout)
    except DeviceError as exc:
        print(f"  {exc}")
        return 0
    if not found:
        print(f"  (none found in {args.ble_timeout:g} s)")
    for d in found:
        print(f"  {d.address}  {d.name or '(no name)'}  {d.rssi} dBm")
    return 0
