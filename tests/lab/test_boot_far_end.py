"""What the far end of a cable sees of a router's boot (``reload``, ``@reset``): only the state
the boot ends with, never the steps of the startup-config's replay.

In the default lab R2's GigabitEthernet0/0 is cabled to the ISP's GigabitEthernet0/1. A
reload takes no virtual time in iosim (the console answers "Press RETURN" at once), so the
ISP's messages about a reload carry the instant it was confirmed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from labkit import console, run

from iosim.lab.console import Lab, LabConsole

LABS = Path(__file__).resolve().parents[2] / "labs"

SHUT = "conf t\ninterface GigabitEthernet0/0\nshutdown\nend\n"
NO_SHUT = "conf t\ninterface GigabitEthernet0/0\nno shutdown\nend\n"
ISP_LINK = "Interface GigabitEthernet0/1, changed state to"
ISP_PROTO = "Line protocol on Interface GigabitEthernet0/1, changed state to"


def _on_r2(tmp_path: Path) -> LabConsole:
    """The default lab a few seconds after boot, the console on R2 (privileged)."""
    c = console(tmp_path)
    c.lab.clock.advance(5)
    run(c, "@R2\nenable\n")
    return c


def _isp_log_from(c: LabConsole, start: int) -> list[str]:
    """The ISP's messages logged since its buffer held ``start`` lines."""
    return c.lab.routers["ISP"].log_buffer[start:]


def _isp_line(c: LabConsole) -> str:
    """The ISP's Gi0/1 row of show ip interface brief; the console goes back to R2."""
    out = run(c, "@ISP\nshow ip interface brief | include GigabitEthernet0/1\n@R2\n")
    return next(line for line in out.splitlines() if line.startswith("GigabitEthernet0/1"))


def _went(c: LabConsole, state: str) -> list[str]:
    """The ISP's two messages of its Gi0/1 going ``state``, stamped now."""
    now = c.lab.routers["ISP"].timestamp()
    return [f"{now}: %LINK-3-UPDOWN: {ISP_LINK} {state}",
            f"{now}: %LINEPROTO-5-UPDOWN: {ISP_PROTO} {state}"]


def test_reload_into_a_saved_shutdown_takes_the_far_end_down_once(tmp_path: Path) -> None:
    c = _on_r2(tmp_path)
    run(c, SHUT + "write memory\n")  # saved shut ...
    run(c, NO_SHUT)  # ... and brought up again, unsaved
    assert _isp_line(c).endswith("up                    up")
    c.lab.clock.advance(3)
    start = len(c.lab.routers["ISP"].log_buffer)
    expected = _went(c, "down")
    out = run(c, "reload\nno\n\n")
    assert "Press RETURN" in out
    # the replay starts from a configuration with Gi0/0 up and shuts it on its way: the ISP
    # never sees it up, only the link down once the boot is over
    assert _isp_log_from(c, start) == expected
    assert _isp_line(c).endswith("down                  down")
    c.lab.clock.advance(10)
    assert _isp_log_from(c, start) == expected


def test_reload_of_a_router_shut_and_saved_so_tells_the_far_end_nothing(tmp_path: Path
                                                                         ) -> None:
    c = _on_r2(tmp_path)
    run(c, SHUT + "write memory\n")
    assert _isp_line(c).endswith("down                  down")
    start = len(c.lab.routers["ISP"].log_buffer)
    assert "Press RETURN" in run(c, "reload\n\n")
    assert _isp_log_from(c, start) == []
    assert _isp_line(c).endswith("down                  down")


def test_reload_with_the_link_up_tells_the_far_end_nothing(tmp_path: Path) -> None:
    c = _on_r2(tmp_path)
    run(c, "write memory\n")
    start = len(c.lab.routers["ISP"].log_buffer)
    assert "Press RETURN" in run(c, "reload\n\n")
    # no flap: the boot takes no virtual time, and the link ends as it was
    assert _isp_log_from(c, start) == []
    assert _isp_line(c).endswith("up                    up")
    # and the link carries traffic at once (the first echo waits for ARP: the cache of a
    # router that booted starts empty)
    assert "\n.!!!!\nSuccess rate is 80 percent (4/5)" in run(c, "\nenable\nping 203.0.113.1\n")


def test_lab_reset_brings_the_far_end_up_once(tmp_path: Path) -> None:
    c = _on_r2(tmp_path)
    run(c, SHUT + "write memory\n")
    assert _isp_line(c).endswith("down                  down")
    c.lab.clock.advance(2)
    start = len(c.lab.routers["ISP"].log_buffer)
    expected = _went(c, "up")
    run(c, "@reset R2\n")  # the lab's R2 config: Gi0/0 up
    assert _isp_log_from(c, start) == expected
    assert _isp_line(c).endswith("up                    up")


def test_lab_reset_into_a_lab_config_that_shuts_the_link_tells_the_far_end_nothing(
        tmp_path: Path) -> None:
    """A lab whose own R2 config shuts Gi0/0: R2 brought up by hand, then reset to it. The
    replay starts from Gi0/0 up and shuts it: the ISP sees the link down once, not up."""
    directory = tmp_path / "lab"
    shutil.copytree(LABS / "site-to-site", directory)
    r2 = directory / "R2.cfg"
    text = r2.read_text()
    address = " ip address {{wan2.2}} {{wan2.mask}}\n"
    assert address in text
    r2.write_text(text.replace(address, address + " shutdown\n", 1))  # last, as IOS saves it
    c = LabConsole(Lab.load(str(directory), nvram_dir=tmp_path / "nv"), paging=False)
    c.lab.clock.advance(5)
    run(c, "@R2\nenable\n")
    assert _isp_line(c).endswith("down                  down")
    start = len(c.lab.routers["ISP"].log_buffer)
    run(c, "@reset R2\n")  # shut as the lab's config has it: nothing changed for the ISP
    assert _isp_log_from(c, start) == []
    assert _isp_line(c).endswith("down                  down")
    run(c, "enable\n" + NO_SHUT)  # a reset router starts in user EXEC
    assert _isp_line(c).endswith("up                    up")
    start = len(c.lab.routers["ISP"].log_buffer)
    expected = _went(c, "down")
    run(c, "@reset R2\n")  # up by hand, then reset to the lab's shut Gi0/0
    assert _isp_log_from(c, start) == expected
    assert _isp_line(c).endswith("down                  down")


def test_lab_reset_of_a_router_already_up_tells_the_far_end_nothing(tmp_path: Path) -> None:
    c = _on_r2(tmp_path)
    start = len(c.lab.routers["ISP"].log_buffer)
    run(c, "@reset R2\n")
    assert _isp_log_from(c, start) == []
    assert _isp_line(c).endswith("up                    up")


def test_reload_from_an_erased_nvram_takes_the_far_end_down_once(tmp_path: Path) -> None:
    c = _on_r2(tmp_path)
    run(c, "write erase\n\n")
    start = len(c.lab.routers["ISP"].log_buffer)
    expected = _went(c, "down")
    assert "Press RETURN" in run(c, "reload\n\n")  # no config: every interface shut
    assert _isp_log_from(c, start) == expected
    assert _isp_line(c).endswith("down                  down")
