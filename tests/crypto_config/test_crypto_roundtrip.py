"""Round trip: a generated crypto configuration, rendered as running-config text, replays
through the CLI with no error and renders back to the very same text
(``render(parse(x)) == x``)."""

from __future__ import annotations

from ipaddress import IPv4Address

from crypto_helpers import INTERFACES, new_router
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iosim.cli.replay import replay_config
from iosim.config.crypto_model import (
    PFS_GROUPS,
    CryptoConfig,
    CryptoMap,
    CryptoMapEntry,
    IpsecProfile,
    IsakmpPolicy,
    IsakmpProfile,
    Keyring,
    PresharedKey,
    TransformSet,
    crypto_of,
)
from iosim.config.render import running_config_text
from iosim.router import Router
from iosim.show.crypto_config import running_config_section

NAMES = st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,8}", fullmatch=True)
KEYS = st.from_regex(r"[A-Za-z][A-Za-z0-9!@#_-]{0,12}", fullmatch=True)
TEXT = st.from_regex(r"[A-Za-z][A-Za-z0-9 ._-]{0,20}[A-Za-z0-9]", fullmatch=True).filter(
    lambda s: "  " not in s)
ADDRS = st.integers(1, 0xDFFFFFFF).map(IPv4Address)
MASKS = st.integers(0, 32).map(lambda n: IPv4Address((0xFFFFFFFF << (32 - n)) & 0xFFFFFFFF))
IFACES = st.sampled_from(INTERFACES)

policies = st.builds(
    IsakmpPolicy,
    priority=st.integers(1, 10000),
    encryption=st.sampled_from(["des", "3des", "aes", "aes 192", "aes 256"]),
    hash=st.sampled_from(["md5", "sha", "sha256", "sha384", "sha512"]),
    authentication=st.sampled_from(["pre-share", "rsa-sig", "rsa-encr"]),
    group=st.sampled_from([1, 2, 5, 14, 15, 16, 19, 20, 21, 24]),
    lifetime=st.integers(60, 86400),
)


@st.composite
def psk(draw: st.DrawFn, global_key: bool) -> PresharedKey:
    key = PresharedKey(draw(KEYS), encrypted=draw(st.booleans()))
    if draw(st.booleans()):
        key.hostname = draw(NAMES)
    else:
        key.address = draw(ADDRS)
        key.mask = draw(st.none() | MASKS)
        key.no_xauth = global_key and draw(st.booleans())
    return key


def unique_keys(keys: list[PresharedKey]) -> dict[tuple[str | int, ...], PresharedKey]:
    out: dict[tuple[str | int, ...], PresharedKey] = {}
    for k in keys:
        out.setdefault(k.peer, k)
    return out


@st.composite
def transform_list(draw: st.DrawFn) -> list[str]:
    parts: list[str] = []
    if draw(st.booleans()):
        parts.append(draw(st.sampled_from(["ah-md5-hmac", "ah-sha-hmac", "ah-sha256-hmac",
                                           "ah-sha384-hmac", "ah-sha512-hmac"])))
    bits = st.sampled_from(["", " 192", " 256"])
    cipher = draw(st.sampled_from(["", "esp-des", "esp-3des", "esp-null", "esp-aes", "esp-gcm",
                                   "esp-gmac"]))
    if cipher:
        parts.append(cipher + (draw(bits) if cipher in ("esp-aes", "esp-gcm", "esp-gmac")
                               else ""))
    if cipher not in ("esp-gcm", "esp-gmac") and draw(st.booleans()):
        parts.append(draw(st.sampled_from(["esp-md5-hmac", "esp-sha-hmac", "esp-sha256-hmac",
                                           "esp-sha384-hmac", "esp-sha512-hmac"])))
    if draw(st.booleans()) or not parts:
        parts.append("comp-lzs")
    return draw(st.permutations(parts))


def settings_of(draw: st.DrawFn, target: CryptoMapEntry | IpsecProfile, ts_names: list[str],
                profiles: list[str]) -> None:
    if ts_names:
        target.transform_sets = draw(st.lists(st.sampled_from(ts_names), max_size=6,
                                              unique=True))
    target.pfs = draw(st.none() | st.sampled_from(PFS_GROUPS))
    target.lifetime_seconds = draw(st.none() | st.integers(120, 86400))
    target.lifetime_kilobytes = draw(st.none() | st.integers(2560, 4294967295))
    if profiles:
        target.isakmp_profile = draw(st.none() | st.sampled_from(profiles))
    target.description = draw(st.none() | TEXT)


@st.composite
def crypto_configs(draw: st.DrawFn) -> tuple[CryptoConfig, dict[str, str]]:
    c = CryptoConfig()
    for p in draw(st.lists(policies, max_size=3, unique_by=lambda p: p.priority)):
        c.policies[p.priority] = p
    c.default_policies = draw(st.booleans())
    c.keys = unique_keys(draw(st.lists(psk(True), max_size=4)))
    if draw(st.booleans()):
        c.keepalive = (draw(st.integers(10, 3600)), draw(st.none() | st.integers(2, 60)),
                       draw(st.none() | st.just("periodic")))
    c.nat_keepalive = draw(st.none() | st.integers(5, 3600))
    c.identity = draw(st.sampled_from(["address", "hostname"]))
    c.aggressive_mode_disabled = draw(st.booleans())
    c.invalid_spi_recovery = draw(st.booleans())
    for name in draw(st.lists(NAMES, max_size=2, unique=True)):
        c.keyrings[name] = Keyring(name, draw(st.none() | TEXT), draw(st.none() | IFACES),
                                   unique_keys(draw(st.lists(psk(False), max_size=3))))
    for name in draw(st.lists(NAMES, max_size=2, unique=True)):
        prof = IsakmpProfile(name, draw(st.none() | TEXT), draw(st.none() | NAMES))
        prof.match_addresses = draw(st.lists(st.tuples(ADDRS, MASKS), max_size=2, unique=True))
        prof.match_hosts = draw(st.lists(NAMES, max_size=2, unique=True))
        prof.self_identity = draw(st.none() | st.sampled_from(["address", "fqdn"]))
        prof.local_address = draw(st.none() | IFACES)
        prof.keepalive = draw(st.none() | st.tuples(st.integers(10, 3600), st.integers(2, 60)))
        c.isakmp_profiles[name] = prof
    for name in draw(st.lists(NAMES, max_size=3, unique=True)):
        c.transform_sets[name] = TransformSet(name, draw(transform_list()),
                                              draw(st.sampled_from(["tunnel", "transport"])))
    c.sa_lifetime_seconds = draw(st.integers(120, 86400))
    c.sa_lifetime_kilobytes = draw(st.integers(2560, 4294967295))
    c.replay_window = draw(st.sampled_from([64, 128, 256, 512, 1024]))
    c.replay_disabled = draw(st.booleans())
    ts_names, prof_names = list(c.transform_sets), list(c.isakmp_profiles)
    for name in draw(st.lists(NAMES, max_size=2, unique=True)):
        ip = IpsecProfile(name=name)
        settings_of(draw, ip, ts_names, prof_names)
        c.ipsec_profiles[name] = ip
    for name in draw(st.lists(NAMES, max_size=2, unique=True)):
        dmap = CryptoMap(name)
        for seq in sorted(draw(st.lists(st.integers(1, 65535), min_size=1, max_size=2,
                                        unique=True))):
            e = CryptoMapEntry(map_name=name, seq=seq, is_dynamic_map=True)
            settings_of(draw, e, ts_names, prof_names)
            e.peers = draw(st.lists(ADDRS, max_size=2, unique=True))
            e.match_acl = draw(st.none() | NAMES)
            c.dynamic_maps[name] = dmap
            dmap.entries[seq] = e
    applied: dict[str, str] = {}
    for name in draw(st.lists(NAMES, max_size=2, unique=True)):
        cmap = CryptoMap(name, local_address=draw(st.none() | IFACES))
        for seq in sorted(draw(st.lists(st.integers(1, 65535), min_size=1, max_size=3,
                                        unique=True))):
            e = CryptoMapEntry(map_name=name, seq=seq)
            if draw(st.integers(0, 4)) == 0:
                e.dynamic_template = draw(NAMES)
            else:
                e.kind = draw(st.sampled_from(["ipsec-isakmp", "ipsec-manual"]))
                settings_of(draw, e, ts_names, prof_names)
                e.peers = draw(st.lists(ADDRS, max_size=3, unique=True))
                e.match_acl = draw(st.none() | NAMES | st.integers(100, 199).map(str))
                e.reverse_route = draw(st.booleans())
            cmap.entries[seq] = e
        c.maps[name] = cmap
        intf = draw(st.none() | IFACES)
        if intf is not None:
            applied[intf] = name
    return c, applied


def configured(crypto: CryptoConfig, applied: dict[str, str]) -> Router:
    router = new_router()
    router.config.features["crypto"] = crypto
    for intf, name in applied.items():
        router.config.interfaces[intf].features["crypto_map"] = name
    return router


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(crypto_configs())
def test_render_parse_render(generated: tuple[CryptoConfig, dict[str, str]]) -> None:
    crypto, applied = generated
    text = running_config_text(configured(crypto, applied).config)
    fresh = new_router()
    errors = replay_config(fresh, text.split("\n", 3)[3], "test")
    assert errors == []
    assert running_config_text(fresh.config) == text
    assert running_config_section(fresh.config) == running_config_section(
        configured(crypto, applied).config)
    parsed = crypto_of(fresh.config)
    assert parsed.transform_sets == crypto.transform_sets
    assert parsed.policies == crypto.policies
