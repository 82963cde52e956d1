"""Syslog settings and show logging / clear logging on R1 of the default lab; show ip route
static|connected.

The show logging layout follows captured IOS 15.x output (a C2900 on 15.2(1)T1).
"""

from __future__ import annotations

import re
from pathlib import Path

from labkit import console as lab_console
from labkit import run, seeded

LOG_LINE = re.compile(r"^\*\w{3} +\d+ [\d:.]+: %[A-Z0-9_]+-\d-[A-Z0-9_]+: ", re.MULTILINE)

#: Three messages: %LINK-3-UPDOWN and %LINEPROTO-5-UPDOWN for the loopback, %SYS-5-CONFIG_I.
LOOPBACK = "conf t\ninterface Loopback7\nexit\nend\n"


def _buffer(show: str) -> str:
    """What follows the ``Log Buffer (N bytes):`` line."""
    return show.split("bytes):\n", 1)[1]


def test_show_logging_counts_and_buffers_what_was_logged(tmp_path: Path) -> None:
    console = lab_console(tmp_path)
    before = console.feed("show logging")
    assert before.startswith("Syslog logging: enabled (0 messages dropped, 0 messages "
                             "rate-limited, 0 flushes, 0 overruns, xml disabled, filtering "
                             "disabled)\n\nNo Active Message Discriminator.\n")
    n0 = int(re.search(r"Buffer logging:  level debugging, (\d+) messages logged", before)[1])
    shown = run(console, LOOPBACK)
    assert len(LOG_LINE.findall(shown)) == 3  # what the console printed
    out = console.feed("show logging")
    assert ("    Console logging: level debugging, "
            f"{n0 + 3} messages logged, xml disabled,\n"
            "                     filtering disabled\n") in out
    assert ("    Buffer logging:  level debugging, "
            f"{n0 + 3} messages logged, xml disabled,\n"
            "                    filtering disabled\n") in out
    assert "    Monitor logging: level debugging, 0 messages logged" in out
    assert f"    Trap logging: level informational, {n0 + 3} message lines logged\n" in out
    assert "\nLog Buffer (4096 bytes):\n\n" in out
    buffered = _buffer(out).splitlines()
    assert buffered[-3].endswith("%LINK-3-UPDOWN: Interface Loopback7, changed state to up")
    assert buffered[-2].endswith("%LINEPROTO-5-UPDOWN: Line protocol on Interface Loopback7, "
                                 "changed state to up")
    assert buffered[-1].endswith("%SYS-5-CONFIG_I: Configured from console by console")
    assert buffered[-3:] == [ln for ln in shown.splitlines() if LOG_LINE.match(ln)]


def test_the_buffer_keeps_its_size_in_bytes_dropping_the_oldest(tmp_path: Path) -> None:
    console = lab_console(tmp_path)
    run(console, "conf t\nlogging buffered 4096\n")
    for i in range(40):  # 80 messages of about 90 bytes: the 4096-byte ring wraps
        run(console, f"interface Loopback{i}\nshutdown\nexit\n")
    run(console, "end\n")
    out = console.feed("show logging")
    held = _buffer(out)
    assert len(held) == 4096
    assert held.endswith("%SYS-5-CONFIG_I: Configured from console by console\n")
    assert "Interface Loopback0," not in held  # the oldest are gone
    assert "Interface Loopback39, changed state to administratively down" in held
    assert re.search(r"Buffer logging:  level debugging, (\d+) messages logged", out)[1] \
        == re.search(r"Trap logging: level informational, (\d+) message", out)[1]


def test_levels_filter_the_console_and_the_buffer(tmp_path: Path) -> None:
    console = lab_console(tmp_path)
    run(console, "conf t\nlogging buffered 8192 warnings\nlogging console errors\nend\n")
    # %LINK-3 (errors) passes both; %LINEPROTO-5 and %SYS-5 pass neither
    shown = run(console, LOOPBACK)
    assert "%LINK-3-UPDOWN: Interface Loopback7" in shown
    assert "LINEPROTO" not in shown and "CONFIG_I" not in shown
    out = console.feed("show logging")
    # the counts include the boot's %SSH-5-ENABLED (the lab's RSA key), logged when the
    # levels were still debugging; the resized buffer holds only what came after
    assert "Console logging: level errors, 2 messages logged" in out
    assert "Buffer logging:  level warnings, 2 messages logged" in out
    assert "Log Buffer (8192 bytes):\n\n" in out
    assert [ln.split(": ", 1)[1] for ln in _buffer(out).split("\n") if ln] == [
        "%LINK-3-UPDOWN: Interface Loopback7, changed state to up"]


def test_no_logging_console_and_no_logging_buffered(tmp_path: Path) -> None:
    console = lab_console(tmp_path)
    run(console, "conf t\nno logging console\nno logging buffered\nlogging monitor 6\nend\n")
    assert "%" not in run(console, LOOPBACK)  # no message reaches the console
    out = console.feed("show logging")
    assert "    Console logging: disabled\n" in out
    assert ("    Buffer logging:  disabled, xml disabled,\n"
            "                    filtering disabled\n") in out
    assert "Monitor logging: level informational, 0 messages logged" in out
    assert "Log Buffer" not in out
    running = console.feed("show running-config")
    assert "boot-end-marker\n!\n!\nno logging buffered\nno logging console\n" \
           "logging monitor informational\n" in running
    run(console, "conf t\nlogging buffered\nlogging console\nlogging monitor\nend\n")
    running = console.feed("show running-config")
    assert "logging buffered" not in running and "logging console" not in running
    assert "logging monitor" not in running


def test_logging_host_and_trap(tmp_path: Path) -> None:
    console = lab_console(tmp_path)
    run(console, "conf t\nlogging host 192.0.2.50\nlogging 192.0.2.51\nlogging trap debugging\n"
                 "logging buffered 20010 informational\nend\n")
    running = console.feed("show running-config")
    assert "logging buffered 20010 informational\n" in running
    assert ("logging trap debugging\nlogging host 192.0.2.50\nlogging host 192.0.2.51\n"
            "ipv6 ioam timestamp\n") in running
    run(console, LOOPBACK)
    out = console.feed("show logging")
    # the boot's %SSH-5-ENABLED, the %SYS-5-CONFIG_I of the first "end", then the three
    # of LOOPBACK; the host counts from its configuration on
    assert ("    Trap logging: level debugging, 5 message lines logged\n"
            "        Logging to 192.0.2.50  (udp port 514, audit disabled,\n"
            "              link up),\n"
            "              4 message lines logged,\n"
            "              0 message lines rate-limited,\n"
            "              0 message lines dropped-by-MD,\n"
            "              xml disabled, sequence number disabled\n"
            "              filtering disabled\n"
            "        Logging to 192.0.2.51  (udp port 514") in out
    assert "Log Buffer (20010 bytes):" in out
    run(console, "conf t\nno logging host 192.0.2.50\nend\n")
    out = console.feed("show logging")
    assert "192.0.2.50" not in out and "Logging to 192.0.2.51" in out
    # the settings survive a save and a reload
    run(console, "write memory\nreload\n\n\nenable\n")
    assert "logging host 192.0.2.51\n" in console.feed("show running-config")


def test_clear_logging_asks_then_empties_the_buffer(tmp_path: Path) -> None:
    console = lab_console(tmp_path)
    run(console, LOOPBACK)
    console.feed("clear logging")
    assert console.prompt == "Clear logging buffer [confirm]"
    assert console.feed("n") == ""
    assert "Loopback7" in console.feed("show logging")
    console.feed("clear logging")
    assert console.feed("") == ""
    out = console.feed("show logging")
    assert out.endswith("\nLog Buffer (4096 bytes):\n\n")
    assert "Buffer logging:  level debugging, 0 messages logged" not in out  # counts stay


def test_bad_logging_lines_are_rejected_with_the_caret(tmp_path: Path) -> None:
    console = lab_console(tmp_path)
    console.feed("conf t")
    # cli-errors-and-help.txt [2]: the caret under the first character of the bad address
    assert console.feed("logging 0255.255.1") == (
        " " * len("R1(config)#logging ") + "^\n% Invalid input detected at '^' marker.\n\n")
    assert console.feed("logging") == "% Incomplete command.\n\n"
    assert console.feed("logging host 300.1.1.1").startswith(
        " " * len("R1(config)#logging host ") + "^\n")
    assert console.feed("logging buffered 100").startswith(
        " " * len("R1(config)#logging buffered ") + "^\n")
    assert console.feed("logging console 8").startswith(" " * len("R1(config)#logging console ")
                                                        + "^\n")
    console.feed("end")
    running = console.feed("show running-config")
    assert "logging host" not in running and "logging buffered" not in running


def test_logging_help_lists_levels_with_their_severity(tmp_path: Path) -> None:
    console = lab_console(tmp_path)
    console.feed("conf t")
    listing = console.feed("logging console ?")
    assert listing.startswith("  <0-7>          Logging severity level\n"
                              "  alerts         Immediate action needed           (severity=1)\n")
    assert "  notifications  Normal but significant conditions (severity=5)\n" in listing
    assert listing.endswith("  <cr>\n\n")
    top = console.feed("logging ?")
    assert top.startswith("  Hostname or A.B.C.D  IP address of the logging host\n"
                          "  buffered             Set buffered logging parameters\n")


def test_show_ip_route_static_and_connected(tmp_path: Path) -> None:
    console = lab_console(tmp_path)
    run(console, "conf t\ninterface Loopback0\nip address 10.1.1.1 255.255.255.255\nexit\n"
                 "ip route 10.9.9.0 255.255.255.0 198.51.100.2\nend\n")
    full = console.feed("show ip route")
    static = console.feed("show ip route static")
    legend_and_gateway = full.split("\n\n", 2)
    assert static.startswith(legend_and_gateway[0] + "\n\n" + legend_and_gateway[1] + "\n\n")
    body = static.split("to network 0.0.0.0\n\n", 1)[1]
    # the header counts every subnet of 10.0.0.0/8, as IOS does; only S routes are listed
    assert body == ("S*    0.0.0.0/0 [1/0] via 198.51.100.2\n"
                    "      10.0.0.0/8 is variably subnetted, 2 subnets, 2 masks\n"
                    "S        10.9.9.0/24 [1/0] via 198.51.100.2\n")
    connected = console.feed("show ip route connected").split("to network 0.0.0.0\n\n", 1)[1]
    assert "S" not in {ln[:1] for ln in connected.splitlines()}
    assert "      10.0.0.0/8 is variably subnetted, 2 subnets, 2 masks\n" \
           "C        10.1.1.1/32 is directly connected, Loopback0\n" in connected
    assert "L        192.168.1.1/32 is directly connected, GigabitEthernet0/1\n" in connected
    # every installed route is in exactly one of the two listings
    routes = {ln for ln in full.splitlines() if ln[:1] in "CLS"}
    both = {ln for ln in (static + connected).splitlines() if ln[:1] in "CLS"}
    assert routes == both


def test_debug_output_is_severity_7_buffered_and_silenced_with_the_console(tmp_path: Path
                                                                          ) -> None:
    console = seeded(tmp_path)
    run(console, "conf t\nno logging console\nlogging buffered 100000\nend\n"
                 "debug crypto isakmp\n")
    out = console.feed("ping 10.0.2.10 source 192.168.1.1")
    assert "ISAKMP" not in out  # the console shows no debug line any more
    buffered = console.feed("show logging")
    assert "ISAKMP:(0): beginning Main Mode exchange" in buffered
    run(console, "conf t\nlogging buffered informational\nend\n")
    assert "logging buffered 100000 informational" in console.feed(
        "show running-config | include logging buffered")


def test_a_replayed_wait_prints_every_message_of_the_attached_router(tmp_path: Path) -> None:
    """A script's ``@wait`` shows all the attached router printed meanwhile, as its console
    would: the whole main mode a ping set off, not the last few kilobytes of it."""
    c = seeded(tmp_path)
    run(c, "clear arp-cache\ndebug crypto isakmp")
    out = c.feed("ping 10.0.2.10 source 192.168.1.1 repeat 1") + c.feed("@wait 30")
    assert len(out) > 8192
    for step in ("retransmitting phase 1 MM_NO_STATE", "New State = IKE_I_MM2",
                 "New State = IKE_I_MM4", "New State = IKE_I_MM6", "IKE_QM_PHASE2_COMPLETE"):
        assert step in out, step
    times = re.findall(r"^\*Mar  1 (\d\d:\d\d:\d\d\.\d{3}):", out, re.M)
    assert times == sorted(times)
