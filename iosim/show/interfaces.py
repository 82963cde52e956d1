"""Pure renderers of the interfaces: ``show interfaces [IF]``, ``show interfaces
description``, ``show ip interface [IF]``, ``show ip interface brief`` and ``show [ip] arp``.

What an interface is (its hardware line, MTU, bandwidth, delay, encapsulation, whether it
has Ethernet's media and error lines) is one row of ``HARDWARE`` per interface type; the
numbers are the router's live state: addresses from the running-config, counters and rates
of the frames that really crossed the interface, the time of the last frame each way and of
the last ``clear counters``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from iosim.cli.interfaces import interface_type, short_name
from iosim.config.model import InterfaceConfig
from iosim.net.packets import format_ip, mac_to_str
from iosim.net.routing import NULL_INTERFACE
from iosim.net.stack import ArpEntry, interface_mac
from iosim.router import InterfaceCounters, InterfaceState
from iosim.show.durations import since
from iosim.show.tunnels import bandwidth_kbit, interface_mtu, ip_mtu, keepalive_line, tunnel_lines

if TYPE_CHECKING:
    from iosim.router import Router


@dataclass(frozen=True)
class Hardware:
    """What ``show interfaces`` says about an interface type (its bandwidth and keepalives,
    and a tunnel's MTUs, as :mod:`iosim.show.tunnels` reads them from the configuration)."""

    hardware: str  # "Hardware is ..." (with the MAC address for Ethernet)
    mtu: int
    delay: int  # usec
    encapsulation: str
    output_queue: int  # the max of "Output queue: 0/N (size/max)"
    ethernet: bool  # media, flow control, ARP type and the Ethernet error counters
    ip_mtu: int  # "MTU is N bytes" of show ip interface


_ETHERNET = Hardware("iGbE", 1500, 10, "ARPA", 40, True, 1500)
HARDWARE: dict[str, Hardware] = {
    "GigabitEthernet": _ETHERNET,
    "FastEthernet": Hardware("Fast Ethernet", 1500, 100, "ARPA", 40, True, 1500),
    "Loopback": Hardware("Loopback", 1514, 5000, "LOOPBACK", 0, False, 1514),
    "Tunnel": Hardware("Tunnel", 17916, 50000, "TUNNEL", 0, False, 1476),
}

#: ``duplex`` and ``speed`` as the media line of ``show interfaces`` words them.
_DUPLEX = {None: "Auto Duplex", "auto": "Auto Duplex", "full": "Full Duplex",
           "half": "Half Duplex"}
_SPEED = {None: "Auto Speed", "auto": "Auto Speed", "10": "10Mbps", "100": "100Mbps",
          "1000": "1000Mbps"}


def hardware_of(name: str) -> Hardware:
    t = interface_type(name)
    return HARDWARE.get(t.name, _ETHERNET) if t is not None else _ETHERNET


def _mac(router: Router, name: str) -> str:
    stack = router.stack  # the lab's (unique) address; a router not on a fabric derives it
    return mac_to_str(stack.mac(name) if stack is not None else interface_mac(router.name, name))


def _prefix(intf: InterfaceConfig) -> str | None:
    net = intf.network
    return None if net is None else f"{intf.address}/{net.prefixlen}"


def _rate(value: float) -> int:
    """Bits per second as IOS prints them: in thousands."""
    return int(value / 1000 + 0.5) * 1000


def _rate_lines(c: InterfaceCounters, now: float) -> list[str]:
    out = []
    for word, meter in (("input", c.input_rate), ("output", c.output_rate)):
        bits, packets = meter.rates(now)
        out.append(f"  5 minute {word} rate {_rate(bits)} bits/sec, "
                   f"{int(packets + 0.5)} packets/sec")
    return out


def _media_line(intf: InterfaceConfig) -> str:
    speed = intf.speed if intf.speed in _SPEED else None
    link = "auto" if speed in (None, "auto") else "force-up"
    return (f"  {_DUPLEX.get(intf.duplex, 'Auto Duplex')}, {_SPEED[speed]}, link type is {link}, "
            "media type is RJ45")


def _counter_lines(c: InterfaceCounters, hw: Hardware) -> list[str]:
    """The indented counters at the end of the block."""
    out = [f"     {c.input_packets} packets input, {c.input_bytes} bytes, 0 no buffer",
           f"     Received {c.broadcasts} broadcasts ({c.ip_multicasts} IP multicasts)",
           "     0 runts, 0 giants, 0 throttles ",
           f"     {c.input_errors} input errors, 0 CRC, 0 frame, 0 overrun, 0 ignored"
           + ("" if hw.ethernet else ", 0 abort")]
    if hw.ethernet:
        out.append(f"     0 watchdog, {c.multicasts} multicast, 0 pause input")
    out += [f"     {c.output_packets} packets output, {c.output_bytes} bytes, 0 underruns",
            f"     0 output errors, 0 collisions, {c.interface_resets} interface resets",
            f"     {c.unknown_protocol} unknown protocol drops"]
    if hw.ethernet:
        out += ["     0 babbles, 0 late collision, 0 deferred",
                "     0 lost carrier, 0 no carrier, 0 pause output"]
    out.append("     0 output buffer failures, 0 output buffers swapped out")
    return out


def _interface_block(router: Router, intf: InterfaceConfig, st: InterfaceState,
                     now: float) -> list[str]:
    status, protocol = router.interface_up(intf.name)
    hw = hardware_of(intf.name)
    out = [f"{intf.name} is {status}, line protocol is {protocol} "]
    if hw.ethernet:
        mac = _mac(router, intf.name)
        out.append(f"  Hardware is {hw.hardware}, address is {mac} (bia {mac})")
    else:
        out.append(f"  Hardware is {hw.hardware}")
    if intf.description is not None:
        out.append(f"  Description: {intf.description}")
    prefix = _prefix(intf)
    if prefix is not None:
        out.append(f"  Internet address is {prefix}")
    out += [f"  MTU {interface_mtu(intf, hw.mtu)} bytes, BW {bandwidth_kbit(intf)} Kbit/sec, "
            f"DLY {hw.delay} usec, ",
            "     reliability 255/255, txload 1/255, rxload 1/255",
            f"  Encapsulation {hw.encapsulation}, loopback not set", f"  {keepalive_line(intf)}"]
    if hw.ethernet:
        out += [_media_line(intf),
                "  output flow-control is unsupported, input flow-control is unsupported",
                "  ARP type: ARPA, ARP Timeout 04:00:00"]
    out += tunnel_lines(router, intf)
    return out + _traffic_lines(st, hw, now)


def _traffic_lines(st: InterfaceState, hw: Hardware, now: float) -> list[str]:
    """The block's second half: last input and output, queues, rates and counters."""
    c = st.counters
    return [f"  Last input {since(now, st.last_input)}, output {since(now, st.last_output)}, "
            "output hang never",
            f'  Last clearing of "show interface" counters {since(now, st.cleared_at)}',
            "  Input queue: 0/75/0/0 (size/max/drops/flushes); "
            f"Total output drops: {c.output_drops}",
            "  Queueing strategy: fifo",
            f"  Output queue: 0/{hw.output_queue} (size/max)",
            *_rate_lines(c, now), *_counter_lines(c, hw)]


#: Null0 as ``show interfaces Null0`` describes it: no hardware, a bandwidth of 10 Gbit/s,
#: no delay, reliability and load 0/255, and no keepalive.
_NULL = Hardware("Unknown", 1500, 0, "ARPA", 0, False, 1500)
_NULL_BANDWIDTH = 10000000  # Kbit/sec


def _null_block(st: InterfaceState, now: float) -> list[str]:
    """``show interfaces Null0``: always up; its output counts what routes discarded."""
    return [f"{NULL_INTERFACE} is up, line protocol is up ",
            f"  Hardware is {_NULL.hardware}",
            f"  MTU {_NULL.mtu} bytes, BW {_NULL_BANDWIDTH} Kbit/sec, DLY {_NULL.delay} usec, ",
            "     reliability 0/255, txload 0/255, rxload 0/255",
            f"  Encapsulation {_NULL.encapsulation}, loopback not set",
            *_traffic_lines(st, _NULL, now)]


def _selected(router: Router, only: str | None) -> Iterable[InterfaceConfig]:
    return (i for i in router.config.sorted_interfaces() if only is None or i.name == only)


def show_interfaces(router: Router, only: str | None = None) -> str:
    """``show interfaces [IF]``: the IOS 15 block of each interface. Null0 is shown when
    named only, as IOS leaves it out of the full listing."""
    now = router.clock.now
    if only == NULL_INTERFACE:
        return "".join(line + "\n" for line in _null_block(
            router.state.get(NULL_INTERFACE) or InterfaceState(), now))
    out: list[str] = []
    for intf in _selected(router, only):
        st = router.state.get(intf.name) or InterfaceState()
        out += _interface_block(router, intf, st, now)
    return "".join(line + "\n" for line in out)


#: ``show interfaces description`` shortens the status.
_DESCRIPTION_STATUS = {"administratively down": "admin down"}


def show_interfaces_description(router: Router) -> str:
    """``show interfaces description``: short name, status, protocol, description."""
    out = ["Interface                      Status         Protocol Description"]
    for intf in router.config.sorted_interfaces():
        status, protocol = router.interface_up(intf.name)
        status = _DESCRIPTION_STATUS.get(status, status)
        out.append(f"{short_name(intf.name):<31}{status:<15}{protocol:<9}"
                   f"{intf.description or ''}")
    return "".join(line + "\n" for line in out)


def show_ip_interface_brief(router: Router) -> str:
    """``show ip interface brief``."""
    out = ["Interface                  IP-Address      OK? Method Status                Protocol"]
    for intf in router.config.sorted_interfaces():
        status, proto = router.interface_up(intf.name)
        st = router.state.get(intf.name)
        method = "unset" if intf.address is None else (st.method if st else "NVRAM")
        if intf.address is None and st is not None and st.method == "NVRAM":
            method = "NVRAM"
        addr = str(intf.address) if intf.address else "unassigned"
        out.append(f"{intf.name:<27}{addr:<16}YES {method:<7}{status:<22}{proto}")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- show ip interface

#: "Address determined by ..." for each way an address was set (show ip interface brief's
#: Method column).
_DETERMINED_BY = {"NVRAM": "non-volatile memory", "manual": "setup command"}


def access_group(intf: InterfaceConfig, direction: str) -> str | None:
    """The access list ``ip access-group ACL in|out`` applies to ``intf`` in ``direction``
    ("in" or "out"): the interface's ``access_group_in`` / ``access_group_out``, None when
    there is none (or the ACL feature is not there to set one)."""
    name = getattr(intf, f"access_group_{direction}", None)
    return name if isinstance(name, str) else None


def _unreachables(intf: InterfaceConfig) -> str:
    """``no ip unreachables`` (the interface's ``unreachables`` false) stops them."""
    sent = getattr(intf, "unreachables", True) is not False
    return f"  ICMP unreachables are {'always' if sent else 'never'} sent"


def _acl_lines(intf: InterfaceConfig) -> list[str]:
    outgoing = access_group(intf, "out") or "not set"
    inbound = access_group(intf, "in") or "not set"
    return ["  Outgoing Common access list is not set ",
            f"  Outgoing access list is {outgoing}",
            "  Inbound Common access list is not set ",
            f"  Inbound  access list is {inbound}"]


def _features(intf: InterfaceConfig) -> list[str]:
    """The Input/Output features lines: what acts on the interface's packets."""
    crypto = bool(intf.features.get("crypto_map"))
    inputs = (["Access List"] if access_group(intf, "in") else []) + (
        ["IPSec input classification"] if crypto else []) + ["MCI Check"]
    outputs = ["IPSec output classification", "IPSec: to crypto engine",
               "Post-encryption output features"] if crypto else []
    out = [f"  Input features: {', '.join(inputs)}"]
    if outputs:
        out.append(f"  Output features: {', '.join(outputs)}")
    return out


def _nat_line(intf: InterfaceConfig) -> str:
    role = intf.features.get("nat")
    if isinstance(role, str):
        return f"  Network address translation is enabled, interface in domain {role}"
    return "  Network address translation is disabled"


def _ip_interface_block(router: Router, intf: InterfaceConfig) -> list[str]:
    status, protocol = router.interface_up(intf.name)
    out = [f"{intf.name} is {status}, line protocol is {protocol}"]
    prefix = _prefix(intf)
    if prefix is None:
        return [*out, "  Internet protocol processing disabled"]
    st = router.state.get(intf.name)
    method = st.method if st is not None else "NVRAM"
    out += [f"  Internet address is {prefix}", "  Broadcast address is 255.255.255.255",
            f"  Address determined by {_DETERMINED_BY.get(method, 'setup command')}"]
    for addr, mask in intf.secondaries:
        out.append(f"  Secondary address {addr}/{bin(int(mask)).count('1')}")
    state = "UP" if (status, protocol) == ("up", "up") else "DOWN"
    out += [f"  MTU is {ip_mtu(router, intf, hardware_of(intf.name).ip_mtu)} bytes",
            "  Helper address is not set",
            "  Directed broadcast forwarding is disabled", *_acl_lines(intf),
            "  Proxy ARP is enabled", "  Local Proxy ARP is disabled",
            "  Security level is default", "  Split horizon is enabled",
            "  ICMP redirects are always sent", _unreachables(intf),
            "  ICMP mask replies are never sent", "  IP fast switching is enabled",
            "  IP Flow switching is disabled", "  IP CEF switching is enabled",
            "  IP CEF switching turbo vector", "  IP Null turbo vector",
            "  Associated unicast routing topologies:",
            f'        Topology "base", operation state is {state}',
            "  IP multicast fast switching is enabled",
            "  IP multicast distributed fast switching is disabled",
            "  IP route-cache flags are Fast, CEF", "  Router Discovery is disabled",
            "  IP output packet accounting is disabled",
            "  IP access violation accounting is disabled",
            "  TCP/IP header compression is disabled", "  RTP/IP header compression is disabled",
            "  Probe proxy name replies are disabled", "  Policy routing is disabled",
            _nat_line(intf), "  BGP Policy Mapping is disabled", *_features(intf),
            "  IPv4 WCCP Redirect outbound is disabled",
            "  IPv4 WCCP Redirect inbound is disabled",
            "  IPv4 WCCP Redirect exclude is disabled"]
    return out


def show_ip_interface(router: Router, only: str | None = None) -> str:
    """``show ip interface [IF]``: every line IOS 15 prints for each interface (Null0, when
    named, has no address: IP processing is disabled on it)."""
    if only == NULL_INTERFACE:
        return (f"{NULL_INTERFACE} is up, line protocol is up\n"
                "  Internet protocol processing disabled\n")
    out: list[str] = []
    for intf in _selected(router, only):
        out += _ip_interface_block(router, intf)
    return "".join(line + "\n" for line in out)


# ---------------------------------------------------------------- ARP


def show_arp(entries: Iterable[ArpEntry], now: float) -> str:
    """``show arp`` / ``show ip arp``: our own addresses (age ``-``) and what ARP learnt,
    on the interfaces that speak ARP (a loopback's address has no entry)."""
    rows = ["Protocol  Address          Age (min)  Hardware Addr   Type   Interface"]
    for entry in sorted(entries, key=lambda e: e.address):
        if not hardware_of(entry.interface).ethernet:
            continue
        age = "-" if entry.learnt is None else str(int((now - entry.learnt) // 60))
        rows.append(f"Internet  {format_ip(entry.address):<15}{age:>10}   "
                    f"{mac_to_str(entry.mac)}  ARPA   {entry.interface}")
    return "\n".join(rows) + "\n"
