"""What a hostile or unlucky network does to a running tunnel: spoofed and reserved SPIs,
fragmented ESP, packets outside the SA's proxy identities, big packets in transport mode,
an ISAKMP SA cleared under traffic, a rebooted peer behind NAT."""

from __future__ import annotations

from pathlib import Path

from labkit import ISP_NAT, configure_seed, inject, marks, reload_r2_unsaved, run
from labkit import console as lab_console
from test_vpn import TRANSPORT, _seed

from iosim.ipsec.esp import tunnel_encapsulate
from iosim.ipsec.router_crypto import RouterCrypto
from iosim.lab.console import LabConsole
from iosim.net.fragments import fragment
from iosim.net.packets import (
    IcmpEcho,
    IpProtocol,
    Ipv4Packet,
    ip_to_int,
    pull_ipv4,
    push_icmp,
    push_ipv4,
)

PING = "ping 10.0.2.10 source 192.168.1.1"
R1_OUT, R2_OUT = ip_to_int("198.51.100.1"), ip_to_int("203.0.113.2")


def _plane(console: LabConsole, name: str) -> RouterCrypto:
    plane = console.lab.routers[name].crypto_plane
    assert isinstance(plane, RouterCrypto)
    return plane


def _echo(src: str, dst: str, size: int = 0) -> bytes:
    return push_ipv4(Ipv4Packet(protocol=IpProtocol.ICMP, src=ip_to_int(src), dst=ip_to_int(dst),
                                payload=push_icmp(IcmpEcho(7, 1, bytes(size)))))


def _through_r1_sa(console: LabConsole, inner: bytes) -> bytes:
    """``inner`` as R1's live outbound SA would encapsulate it (a genuine ESP packet)."""
    r1 = _plane(console, "R1")
    bundle = r1.sad.bundles[0]
    bundle.outbound.seq += 1
    assert bundle.outbound.esp is not None
    return tunnel_encapsulate(bundle.outbound.esp, bundle.outbound.seq, r1.rand, inner,
                              R1_OUT.to_bytes(4, "big"), R2_OUT.to_bytes(4, "big"), ident=77,
                              ttl=255)


def test_a_spoofed_reserved_spi_cannot_tear_the_tunnel_down(tmp_path: Path) -> None:
    console = _seed(tmp_path)
    assert marks(console.feed(PING)) == [".!!!!"]
    # the first echo found no SA: counted as such while IKE negotiated
    assert "    #pkts no sa (send) 1, #pkts invalid sa (rcv) 0" in console.feed(
        "show crypto ipsec sa detail")
    for spi in (0, 1, 255):
        esp = spi.to_bytes(4, "big") + bytes(40)
        inject(console, "R2", push_ipv4(Ipv4Packet(protocol=IpProtocol.ESP, src=R1_OUT,
                                                    dst=R2_OUT, payload=esp)))
    assert len(_plane(console, "R1").sad.bundles) == 1
    assert marks(console.feed(PING)) == ["!!!!!"]


def test_fragmented_esp_is_reassembled_before_it_is_decrypted(tmp_path: Path) -> None:
    console = _seed(tmp_path)
    console.feed(PING)
    counters = _plane(console, "R2").sad.bundles[0].counters
    before = (counters.decaps, counters.recv_errors)
    outer = _through_r1_sa(console, _echo("192.168.1.1", "10.0.2.10", 1460))
    pieces = fragment(pull_ipv4(outer), 1500)
    assert len(pieces) == 2
    for piece in reversed(pieces):  # out of order, as a network may deliver them
        inject(console, "R2", piece)
    assert (counters.decaps, counters.recv_errors) == (before[0] + 1, before[1])


def test_a_packet_outside_the_sa_s_proxies_is_dropped_after_decryption(tmp_path: Path
                                                                       ) -> None:
    console = _seed(tmp_path)
    console.feed(PING)
    counters = _plane(console, "R2").sad.bundles[0].counters
    decaps, errors = counters.decaps, counters.recv_errors
    inject(console, "R2", _through_r1_sa(console, _echo("172.16.9.9", "10.0.2.10")))
    assert (counters.decaps, counters.recv_errors) == (decaps, errors + 1)
    assert "%CRYPTO-4-RECVD_PKT_INV_IDENTITY_ACL" in console.feed("@R2")
    detail = console.feed("show crypto ipsec sa detail")
    assert "    #pkts invalid identity (recv) 1, #pkts invalid len (rcv) 0" in detail
    assert "#pkts decaps failed (rcv) 0" in detail


def test_transport_mode_carries_a_packet_too_big_for_one_esp_packet(tmp_path: Path) -> None:
    console = _seed(tmp_path)
    run(console, TRANSPORT.format(dev="@R1", me="198.51.100.1", peer="203.0.113.2"))
    run(console, TRANSPORT.format(dev="@R2", me="203.0.113.2", peer="198.51.100.1"))
    console.feed("@R1")
    assert marks(console.feed("ping 203.0.113.2")) == [".!!!!"]
    assert marks(console.feed("ping 203.0.113.2 size 1500")) == ["!!!!!"]


def test_clearing_the_isakmp_sa_under_traffic_loses_nothing_at_the_next_rekey(
        tmp_path: Path) -> None:
    console = _seed(tmp_path)
    for router in ("@R1", "@R2"):
        run(console, f"{router}\nconf t\ncrypto map MYMAP 10 ipsec-isakmp\n"
                     "set security-association lifetime seconds 120\nend\n")
    console.feed("@R1")
    assert marks(console.feed(PING)) == [".!!!!"]
    console.feed("clear crypto isakmp")
    out = console.feed(PING + " repeat 6000")  # 6,000 x 22 ms spans the rekey at 108 s
    assert "Success rate is 100 percent (6000/6000)" in out
    assert "QM_IDLE" in console.feed("show crypto isakmp sa")  # the rekey made a new one
    assert "RECVD_PKT_INV_SPI" not in console.feed("@R2")


def test_a_rebooted_peer_behind_nat_is_recovered_by_invalid_spi_recovery(tmp_path: Path
                                                                        ) -> None:
    console = lab_console(tmp_path)
    run(console, ISP_NAT)
    recovery = "crypto isakmp invalid-spi-recovery\n"
    configure_seed(console, r1_extra=recovery, r2_extra=recovery,
                   r2_replace={"198.51.100.1": "203.0.113.1"})
    assert marks(console.feed(PING)) == [".!!!!"]
    reload_r2_unsaved(console, extra=recovery, replace={"198.51.100.1": "203.0.113.1"})
    assert "!" in marks(console.feed(PING))[0]
    assert marks(console.feed(PING)) == ["!!!!!"]


def test_the_lab_survives_a_burst_of_garbage_esp(tmp_path: Path) -> None:
    console = _seed(tmp_path)
    console.feed(PING)
    spi = _plane(console, "R2").sad.bundles[0].inbound.spi
    for n in range(300):
        body = spi.to_bytes(4, "big") + n.to_bytes(4, "big") + bytes((n * 7 + k) % 256
                                                                    for k in range(n % 90))
        inject(console, "R2", push_ipv4(Ipv4Packet(protocol=IpProtocol.ESP, src=R1_OUT,
                                                    dst=R2_OUT, payload=body)))
    assert _plane(console, "R2").sad.bundles[0].counters.recv_errors == 300
    assert marks(console.feed(PING)) == ["!!!!!"]


def test_a_pair_the_crypto_map_no_longer_wants_is_not_renewed(tmp_path: Path) -> None:
    console = _seed(tmp_path)
    assert marks(console.feed(PING)) == [".!!!!"]
    run(console, "conf t\ncrypto map MYMAP 10 ipsec-isakmp\nset peer 198.51.100.2\n"
                 "no set peer 203.0.113.2\nend\n")
    console.feed(PING + " repeat 100")  # traffic, so only the map's change stops the rekey
    console.feed("@wait 3700")
    assert "203.0.113.2" not in console.feed("show crypto ipsec sa | include current_peer")
    assert not _plane(console, "R1").sad.bundles
