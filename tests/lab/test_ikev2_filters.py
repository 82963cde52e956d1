"""The IKEv2 filters of a hub with two IKEv2 spokes: ``show crypto ikev2 sa local|remote|
fvrf``, ``clear crypto ikev2 sa local|remote``, ``show crypto ipsec sa identity [detail]``
and ``debug crypto ikev2 error|packet``, driven through the lab console."""

from __future__ import annotations

import re
from pathlib import Path

from labkit import marks, run

from iosim.lab.console import Lab, LabConsole
from iosim.lab.hub_and_spoke import spoke_address, spoke_lan, write_lab

HUB = "10.0.0.1"
HUB_HOST = "192.168.100.1"
S1, S2 = spoke_address(1), spoke_address(2)
HEAD = "Tunnel-id Local                 Remote                fvrf/ivrf            Status "


def _spoke_host(n: int) -> str:
    return spoke_lan(n)[:-1] + "1"


def _hub(tmp_path: Path, s2_setup: str = "") -> LabConsole:
    """The hub and two IKEv2 spokes (``s2_setup``: privileged lines run on S2 first); each
    spoke that can pings the hub's LAN, which brings its tunnel up; the console is then on
    the hub, privileged."""
    lab = Lab.load(str(write_lab(tmp_path / "lab", 2, ikev2=True).parent),
                   nvram_dir=tmp_path / "nv")
    c = LabConsole(lab, "HUB", paging=False)
    if s2_setup:
        out = run(c, "@S2\nenable\n" + s2_setup)
        assert "Invalid" not in out, out
    for n in (1, 2):
        c.feed(f"@S{n}")
        c.feed("enable")
        out = c.feed(f"ping {HUB_HOST} source {_spoke_host(n)} repeat 3")
        if not s2_setup or n == 1:
            assert marks(out) == [".!!"], (n, out)
    c.feed("@HUB")
    c.feed("enable")
    return c


def _rows(table: str) -> list[list[str]]:
    """The SA rows of an IKEv2 SA table: tunnel id, local, remote, vrfs, status."""
    return [line.split() for line in table.splitlines() if re.match(r"\d+ +\d", line)]


def test_show_crypto_ikev2_sa_remote_local_and_fvrf_keep_the_matching_sas(
        tmp_path: Path) -> None:
    c = _hub(tmp_path)
    whole = c.feed("show crypto ikev2 sa")
    assert [r[2] for r in _rows(whole)] == [f"{S1}/500", f"{S2}/500"]
    one = c.feed(f"show crypto ikev2 sa remote {S2}")
    assert _rows(one) == [["2", f"{HUB}/500", f"{S2}/500", "none/none", "READY"]]
    lines = one.splitlines()
    # a filtered table: the head line over each SA, no IPv4 / IPv6 headings
    assert lines[0] == HEAD and "IPv4 Crypto IKEv2" not in one and "IPv6" not in one
    assert lines[2].startswith("      Encr: AES-CBC, keysize: 256, PRF: SHA256")
    assert lines[3].startswith("      Life/Active Time: 86400/")
    # the same SA's lines as in the whole table, in the same order
    at = whole.splitlines().index(lines[1])
    assert whole.splitlines()[at:at + 3] == lines[1:4]
    detailed = c.feed(f"show crypto ikev2 sa remote {S1} detailed")
    assert _rows(detailed) == [["1", f"{HUB}/500", f"{S1}/500", "none/none", "READY"]]
    assert f"      Remote id: {S1}" in detailed and f"Remote id: {S2}" not in detailed
    assert "      Initiator of SA : No" in detailed
    both = c.feed(f"show crypto ikev2 sa local {HUB}")
    assert [r[2] for r in _rows(both)] == [f"{S1}/500", f"{S2}/500"]
    assert both.count(HEAD) == 2
    assert c.feed(f"show crypto ikev2 sa local {S1}") == ""  # no SA from that address
    assert c.feed("show crypto ikev2 sa remote 10.0.0.99") == ""
    # iosim has the global table only: no SA is in a front-door VRF of any name
    assert c.feed("show crypto ikev2 sa fvrf INTERNET") == ""
    assert c.feed("show crypto ikev2 sa fvrf INTERNET detailed") == ""
    c.feed("@S1")
    mine = c.feed(f"show crypto ikev2 sa remote {HUB}")
    assert _rows(mine) == [["1", f"{S1}/500", f"{HUB}/500", "none/none", "READY"]]


def test_the_filters_help_and_errors(tmp_path: Path) -> None:
    c = _hub(tmp_path)
    assert c.feed("show crypto ikev2 sa ?").splitlines()[:4] == [
        "  detailed  detailed", "  fvrf      Front door VRF", "  local     Local IKE Address",
        "  remote    Remote IKE Address"]
    assert "A.B.C.D  IP address of remote crypto endpoint" in c.feed(
        "show crypto ikev2 sa remote ?")
    assert "WORD  VRF name" in c.feed("show crypto ikev2 sa fvrf ?")
    help_after = c.feed(f"show crypto ikev2 sa remote {S1} ?")
    assert "detailed" in help_after and "local" not in help_after
    bad = c.feed("show crypto ikev2 sa remote 10.0.0.300")
    assert bad.splitlines()[0] == " " * len("HUB#show crypto ikev2 sa remote ") + "^", bad
    assert "% Invalid input detected at '^' marker." in bad
    assert "% Incomplete command." in c.feed("show crypto ikev2 sa local")
    assert c.feed("clear crypto ikev2 sa ?").splitlines()[:2] == [
        "  local   Local IKE Address", "  remote  Remote IKE Address"]
    bad = c.feed(f"clear crypto ikev2 sa local {HUB} remote {S1}")
    assert bad.splitlines()[0].index("^") == len(f"HUB#clear crypto ikev2 sa local {HUB} ")
    assert len(_rows(c.feed("show crypto ikev2 sa"))) == 2  # the rejected line cleared nothing


def test_clear_crypto_ikev2_sa_remote_ends_that_peer_s_sa_only(tmp_path: Path) -> None:
    c = _hub(tmp_path)
    c.feed("debug crypto ikev2")
    out = c.feed(f"clear crypto ikev2 sa remote {S1}")
    # the Delete goes to that peer alone, as the plain clear sends it to each
    assert re.findall(r"Sending Packet \[To ([\d.]+):500", out) == [S1], out
    assert "IKEv2 INFORMATIONAL Exchange REQUEST" in out
    c.feed("undebug all")
    assert [r[2] for r in _rows(c.feed("show crypto ikev2 sa"))] == [f"{S2}/500"]
    assert c.feed("show logging").count("%IKEV2-5-SA_DOWN: SA DOWN") == 1
    ipsec = c.feed("show crypto ipsec sa")
    flows = ipsec.split("   protected vrf: (none)")[1:]
    # S1's pair went with its IKE SA: the hub's dynamic entry shows no flow for it
    assert [f for f in flows if f"current_peer {S1} " in f] == []
    (s2_flow,) = [f for f in flows if f"current_peer {S2} " in f]
    assert "current outbound spi: 0x0(0)" not in s2_flow
    before = int(re.search(r"#pkts encaps: (\d+),", s2_flow).group(1))  # type: ignore[union-attr]
    assert marks(c.feed(f"ping {_spoke_host(2)} source {HUB_HOST}")) == ["!!!!!"]
    after = c.feed(f"show crypto ipsec sa peer {S2}")
    assert f"#pkts encaps: {before + 5}," in after, after
    c.feed("@wait 1")
    c.feed("@S1")
    assert _rows(c.feed("show crypto ikev2 sa")) == []  # S1 was told with a Delete
    c.feed("@S2")
    assert len(_rows(c.feed("show crypto ikev2 sa"))) == 1
    c.feed("@S1")  # S1's next packet negotiates anew
    assert marks(c.feed(f"ping {HUB_HOST} source {_spoke_host(1)} repeat 3")) == [".!!"]


def test_clear_crypto_ikev2_sa_local_ends_the_sas_of_that_address(tmp_path: Path) -> None:
    c = _hub(tmp_path)
    c.feed(f"clear crypto ikev2 sa local {S1}")  # not one of the hub's addresses
    assert len(_rows(c.feed("show crypto ikev2 sa"))) == 2
    c.feed(f"clear crypto ikev2 sa local {HUB}")
    assert _rows(c.feed("show crypto ikev2 sa")) == []
    assert c.feed("show logging").count("%IKEV2-5-SA_DOWN: SA DOWN") == 2
    c.feed("@wait 1")
    for spoke in ("@S1", "@S2"):
        c.feed(spoke)
        assert _rows(c.feed("show crypto ikev2 sa")) == []


def _flow_heads(text: str) -> list[str]:
    """Each flow block of a ``show crypto ipsec sa [identity]`` output, up to and with its
    error counters (the part the two commands share)."""
    blocks = text.split("\n   protected vrf: (none)\n")[1:]
    return [b.split("\n\n")[0].rstrip("\n") for b in blocks]


def test_show_crypto_ipsec_sa_identity_is_the_flows_without_their_sas(tmp_path: Path) -> None:
    c = _hub(tmp_path)
    identity = c.feed("show crypto ipsec sa identity")
    lines = identity.splitlines()
    assert lines[:3] == ["", "interface: GigabitEthernet0/0",
                         f"    Crypto map tag: VPN, local addr {HUB}"]
    for absent in ("local crypto endpt.", "current outbound spi", "inbound esp sas",
                   "outbound esp sas", "PFS (Y/N)"):
        assert absent not in identity
    heads = _flow_heads(identity)
    assert heads == _flow_heads(c.feed("show crypto ipsec sa"))
    assert [re.search(r"current_peer ([\d.]+) port 500", h).group(1)  # type: ignore[union-attr]
            for h in heads] == [S1, S2]
    assert all(h.endswith("    #send errors 0, #recv errors 0") for h in heads)
    assert "    #pkts encaps: 2, #pkts encrypt: 2, #pkts digest: 2" in heads[1]
    # live counters: five more echoes through S2's tunnel
    assert marks(c.feed(f"ping {_spoke_host(2)} source {HUB_HOST}")) == ["!!!!!"]
    heads = _flow_heads(c.feed("show crypto ipsec sa identity"))
    assert "    #pkts encaps: 7, #pkts encrypt: 7, #pkts digest: 7" in heads[1]
    assert "    #pkts encaps: 2, #pkts encrypt: 2, #pkts digest: 2" in heads[0]
    detail = c.feed("show crypto ipsec sa identity detail")
    assert _flow_heads(detail) == _flow_heads(c.feed("show crypto ipsec sa detail"))
    assert "    #pkts invalid identity (recv) 0, #pkts invalid len (rcv) 0" in detail
    assert "#send errors" not in detail and "inbound esp sas" not in detail
    assert "  identity   IPSEC SADB identity tree" in c.feed("show crypto ipsec sa ?")
    bad = c.feed("show crypto ipsec sa identity peer")
    assert bad.splitlines()[0].index("^") == len("HUB#show crypto ipsec sa identity ")


WRONG_KEY = "conf t\ncrypto ikev2 keyring KR\npeer ANY\npre-shared-key WRONG\nend\n"


def test_debug_crypto_ikev2_error_prints_the_failures_alone(tmp_path: Path) -> None:
    c = _hub(tmp_path, s2_setup=WRONG_KEY + "debug crypto ikev2 error\n")
    c.feed("@S2")
    assert "IKEv2 error debugging is on" in c.feed("show debugging")
    out = c.feed(f"ping {HUB_HOST} source {_spoke_host(2)} repeat 1")
    assert marks(out) == ["."]
    debug = [line for line in out.splitlines() if "IKEv2" in line and "%IKEV2" not in line]
    assert debug and all("IKEv2-ERROR:(SESSION ID = " in line for line in debug), out
    assert "AUTHENTICATION_FAILED" in debug[0]
    assert "Sending Packet" not in out and "Generating IKE_SA_INIT message" not in out
    c.feed("debug crypto ikev2")  # the default debug prints the same error line among all
    out = c.feed(f"ping {HUB_HOST} source {_spoke_host(2)} repeat 1")
    assert "Sending Packet" in out and "Generating IKE_SA_INIT message" in out
    errors = [line for line in out.splitlines() if "IKEv2-ERROR:" in line]
    assert len(errors) == 1 and "AUTHENTICATION_FAILED" in errors[0], out
    assert c.feed("undebug crypto ikev2 error") == "IKEv2 error debugging is off\n"
    assert "IKEv2 default debugging is on" in c.feed("show debugging")


def test_debug_crypto_ikev2_packet_prints_the_packets_alone(tmp_path: Path) -> None:
    c = _hub(tmp_path, s2_setup="debug crypto ikev2 packet\n")
    c.feed("@S2")
    c.feed("clear crypto ikev2 sa")
    c.feed("@wait 1")
    out = c.feed(f"ping {HUB_HOST} source {_spoke_host(2)} repeat 3")
    assert marks(out) == [".!!"]
    exchanges = re.findall(r"IKEv2 (\w+) Exchange (REQUEST|RESPONSE)", out)
    assert exchanges == [("IKE_SA_INIT", "REQUEST"), ("IKE_SA_INIT", "RESPONSE"),
                         ("IKE_AUTH", "REQUEST"), ("IKE_AUTH", "RESPONSE")], out
    headers = re.findall(r"\):(\w+) Packet \[", out)
    assert headers == ["Sending", "Received", "Sending", "Received"]
    for step in ("Building packet for encryption", "Generating IKE_SA_INIT message",
                 "Session with IKE ID PAIR", "IKEv2-ERROR"):
        assert step not in out, step
    debugging = c.feed("show debugging")
    assert debugging == "Cryptographic Subsystem:\n  IKEv2 packet debugging is on\n\n"
    assert c.feed("no debug crypto ikev2 packet") == "IKEv2 packet debugging is off\n"
    c.feed("clear crypto ikev2 sa")
    c.feed("@wait 1")
    out = c.feed(f"ping {HUB_HOST} source {_spoke_host(2)} repeat 3")
    assert "Packet [" not in out


def test_debug_crypto_ikev2_help_lists_what_is_emulated(tmp_path: Path) -> None:
    c = _hub(tmp_path)
    assert c.feed("debug crypto ikev2 ?") == (
        "  error   IKEv2 Error debugging\n  packet  IKEv2 Packet debugging\n  <cr>\n\n")
    assert c.feed("debug crypto ikev2 error ?") == "  <cr>\n\n"
    for word in ("internal", "client", "cluster"):
        out = c.feed(f"debug crypto ikev2 {word}")
        assert "% Invalid input detected at '^' marker." in out, word
        assert out.splitlines()[0].index("^") == len("HUB#debug crypto ikev2 "), out
    assert "% Invalid input" in c.feed("debug crypto ikev2 packet hexdump")
    assert c.feed("show debugging") == ""
