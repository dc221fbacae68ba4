"""`twitchwatch devices [--ble-timeout S] [--no-ble]`: serial ports and BLE sensors found."""

from __future__ import annotations

import importlib

from twitchwatch.errors import DeviceError


def add_arguments(p) -> None:
    p.add_argument("--ble-timeout", type=float, default=3.0, metavar="S", help="how long to scan for BLE sensors (s)")
    p.add_argument("--no-ble", action="store_true", help="do not scan for BLE sensors")


def run(args) -> int:
    from twitchwatch.sources.serial import SENSOR_USB_IDS, list_ports

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
    if args.no_ble:
        return 0
    print("BLE sensors:")
    try:
        ble = importlib.import_module("twitchwatch.sources.ble")
    except ImportError as exc:
        print(f"  BLE unavailable: {exc}")
        return 0
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
