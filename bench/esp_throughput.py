"""ESP throughput: iosim's codec against the leanest complete ESP round trip, the cipher calls
alone and scapy.

Run: ``python bench/esp_throughput.py`` (about 30-60 s).  For each transform and payload size it
measures packets per second for one encapsulate plus one decapsulate of the same packet:

- ``iosim``        :func:`iosim.ipsec.esp.encapsulate` + :func:`~iosim.ipsec.esp.decapsulate`
                   (ESP packet in, ESP packet out; payload = an inner IPv4 packet, next header 4)
- ``iosim tunnel`` :func:`~iosim.ipsec.esp.tunnel_encapsulate` + ``tunnel_decapsulate`` (with the
                   outer IPv4 header, the same work scapy's tunnel-mode SA does)
- ``floor``        the leanest complete ESP round trip (:func:`esp_floor`): the work ESP
                   demands of each packet, the same cipher calls, no checks, no layers
- ``cipher``       only the cryptographic calls the codec needs, on key objects built once: each
                   way one cipher update on a long-lived context (or one AEAD call on the same
                   plaintext, nonce and AAD sizes) and one HMAC from pre-keyed hash states over
                   header and ciphertext (copy, update, digest, copy, update, digest, truncate,
                   the same calls the codec makes), plus the receiver's constant-time ICV
                   compare.  No ESP framing, no padding checks, no IV generation: a lower bound
                   no ESP implementation reaches.
- ``cipher/ctx``   (CBC only) the cipher calls with a fresh ``Cipher(...)`` context per packet,
                   which is how the `cryptography` CBC API is normally used when the IV changes.
- ``scapy``        ``scapy.layers.ipsec.SecurityAssociation.encrypt`` + ``decrypt`` in tunnel
                   mode on the same inner packet, if scapy is importable.

CBC IVs for iosim come from a buffered reader of the kernel's CSPRNG (what an engine would
inject); scapy draws its own with ``os.urandom``.  GCM uses the sequence number as IV in iosim
(RFC 4106 3.1), scapy draws a random one.
"""

from __future__ import annotations

import os
import struct
import sys
import time
from collections.abc import Callable
from hmac import compare_digest
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives import hashes, hmac  # noqa: E402
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes  # noqa: E402
from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402

from iosim.ipsec import esp  # noqa: E402
from iosim.ipsec.transforms import (  # noqa: E402
    CipherMode,
    EncryptionTransform,
    IntegrityTransform,
    encryption_transform,
    integrity_transform,
)

RUN_SECONDS = 0.08
ROUNDS = 6
SRC, DST = "192.0.2.1", "192.0.2.2"


def buffered_random() -> Callable[[int], bytes]:
    """Random source reading the kernel CSPRNG through a 64 KiB buffer: one C call per IV."""
    return open("/dev/urandom", "rb", buffering=1 << 16).read  # noqa: SIM115


def hmac_states(integ: IntegrityTransform, key: bytes) -> tuple[Any, Any]:
    """Hash states after ``K xor ipad`` and ``K xor opad`` (RFC 2104), as the codec keeps them."""
    inner, outer = integ.hash_ctor(), integ.hash_ctor()
    key = key.ljust(inner.block_size, b"\0")
    inner.update(bytes(b ^ 0x36 for b in key))
    outer.update(bytes(b ^ 0x5C for b in key))
    return inner, outer


def inner_packet(size: int) -> bytes:
    """An IPv4/ICMP echo packet of ``size`` bytes in total."""
    header = esp.build_ipv4_header("198.51.100.1", "203.0.113.1", 1, size - 20, ident=7)
    return header + b"\x08\x00\x00\x00\x00\x01\x00\x01" + (bytes(range(256)) * 8)[: size - 28]


def run_for(step: Callable[[int], object], seconds: float) -> float:
    """Packets/s of ``step(seq)`` over about ``seconds``."""
    n = 0
    seq = 1
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(100):
            step(seq)
            seq += 1
        n += 100
        now = time.perf_counter()
        if now >= deadline:
            return n / (now - start)


def measure(steps: dict[str, Callable[[int], object]]) -> dict[str, float]:
    """Best packets/s of each contender, runs interleaved so drift hits all alike."""
    best = dict.fromkeys(steps, 0.0)
    for _ in range(ROUNDS):
        for name, step in steps.items():
            best[name] = max(best[name], run_for(step, RUN_SECONDS))
    return best


def iosim_steps(
    enc: EncryptionTransform, integ: IntegrityTransform | None, packet: bytes
) -> tuple[Callable[[int], object], Callable[[int], object]]:
    keymat = os.urandom(enc.keymat_size + (integ.key_size if integ else 0))
    out_sa = esp.EspSa.from_keymat(0x1000, enc, integ, keymat)
    in_sa = esp.EspSa.from_keymat(0x1000, enc, integ, keymat)
    rand: esp.IvSource = None if enc.is_combined else buffered_random()
    encapsulate, decapsulate = esp.encapsulate, esp.decapsulate

    def codec(seq: int) -> tuple[int, int, bytes]:
        return decapsulate(in_sa, encapsulate(out_sa, seq, rand, packet, 4))

    t_enc, t_dec = esp.tunnel_encapsulate, esp.tunnel_decapsulate

    def tunnel(seq: int) -> tuple[int, bytes]:
        return t_dec(in_sa, t_enc(out_sa, seq, rand, packet, SRC, DST))

    assert codec(1)[2] == packet and tunnel(2)[1] == packet
    return codec, tunnel


def floor_steps(
    enc: EncryptionTransform, integ: IntegrityTransform | None, packet: bytes
) -> tuple[Callable[[int], object], Callable[[int], object] | None]:
    hdr = struct.pack(">II", 0x1000, 1)
    pad = -(len(packet) + 2) % enc.block_size
    plain = packet + bytes(pad + 2)
    if enc.is_combined:
        aead = AESGCM(os.urandom(enc.key_size))
        nonce = os.urandom(12)
        encrypt, decrypt = aead.encrypt, aead.decrypt

        def gcm(seq: int) -> object:
            return decrypt(nonce, encrypt(nonce, plain, hdr), hdr)

        return gcm, None
    assert integ is not None
    key = os.urandom(enc.key_size)
    iv = os.urandom(16)
    algorithm = algorithms.AES(key)
    enc_ctx = Cipher(algorithm, modes.CBC(iv)).encryptor()
    dec_ctx = Cipher(algorithm, modes.CBC(iv)).decryptor()
    inner, outer = hmac_states(integ, os.urandom(integ.key_size))
    icv = integ.icv_size
    cbc_encrypt, cbc_decrypt = enc_ctx.update, dec_ctx.update
    inner_copy, outer_copy = inner.copy, outer.copy
    ivplain = iv + plain

    def minimal(seq: int) -> object:
        body = cbc_encrypt(ivplain)
        h = inner_copy()  # sender's ICV over header || IV || ciphertext
        h.update(hdr)
        h.update(body)
        o = outer_copy()
        o.update(h.digest())
        sent = o.digest()[:icv]
        h = inner_copy()  # receiver's ICV, compared in constant time
        h.update(hdr)
        h.update(body)
        o = outer_copy()
        o.update(h.digest())
        compare_digest(o.digest()[:icv], sent)
        return cbc_decrypt(body)

    hash_algorithm = {"sha1": hashes.SHA1, "sha256": hashes.SHA256}[integ.hash_ctor().name]
    ckey = hmac.HMAC(os.urandom(integ.key_size), hash_algorithm())

    def fresh(seq: int) -> object:
        e = Cipher(algorithm, modes.CBC(iv)).encryptor()
        ct = e.update(plain) + e.finalize()
        for _ in range(2):
            h = ckey.copy()
            h.update(ct)
            h.finalize()
        d = Cipher(algorithm, modes.CBC(iv)).decryptor()
        return d.update(ct) + d.finalize()

    return minimal, fresh


def esp_floor(enc: EncryptionTransform, integ: IntegrityTransform | None,
              packet: bytes) -> Callable[[int], object]:
    """The leanest complete ESP round trip Python can write over the same cipher calls: the
    work ESP itself demands of every packet (RFC 4303, 4106, 4543), and nothing more.

    Sender: SPI and sequence number packed, a fresh IV (CBC: one block from the buffered
    CSPRNG through the running encryptor, as the codec does; GCM/GMAC: the counter in the
    nonce), the trailer appended, encryption, ICV, the packet put together. Receiver: the
    header read (SPI, sequence number and, for GCM/GMAC, the IV that makes the nonce: a
    receiver knows them only from the packet), the ICV verified over the packet's bytes
    (GCM: the tag), the bytes after the header decrypted, the payload cut out of the
    trailer. No length, SPI or padding checks and no function layers: those are the codec's
    own work, and the floor leaves them out.
    """
    pad = -(len(packet) + 2) % enc.block_size
    trailer = bytes(range(1, pad + 1)) + bytes((pad, 4))
    hdr = struct.Struct(">II").pack
    if enc.is_combined:
        aead = AESGCM(os.urandom(enc.key_size))
        encrypt, decrypt = aead.encrypt, aead.decrypt
        hdr_iv, nonce = struct.Struct(">IIQ").pack, struct.Struct(">IQ").pack
        salt = int.from_bytes(os.urandom(4))

        read = struct.Struct(">IIQ").unpack_from

        def gcm(seq: int) -> object:
            sent = hdr_iv(0x1000, seq, seq) + encrypt(nonce(salt, seq), packet + trailer,
                                                       hdr(0x1000, seq))
            _, _, iv = read(sent)
            out = decrypt(nonce(salt, iv), sent[16:], sent[:8])
            return out[: -2 - out[-2]]

        def gmac(seq: int) -> object:
            covered = b"".join((hdr_iv(0x1000, seq, seq), packet, trailer))
            sent = covered + encrypt(nonce(salt, seq), b"", covered)
            _, _, iv = read(sent)
            decrypt(nonce(salt, iv), sent[-16:], sent[:-16])
            return sent[16 : -18 - sent[-18]]

        step = gmac if enc.mode is CipherMode.GMAC else gcm
    else:
        assert integ is not None and enc.algorithm is not None
        bs = enc.block_size
        algorithm = enc.algorithm(os.urandom(enc.key_size))
        zero = modes.CBC(bytes(bs))
        cbc_encrypt = Cipher(algorithm, zero).encryptor().update
        cbc_decrypt = Cipher(algorithm, zero).decryptor().update
        inner, outer = hmac_states(integ, os.urandom(integ.key_size))
        inner_copy, outer_copy = inner.copy, outer.copy
        icv = integ.icv_size
        rand = buffered_random()
        join = b"".join
        read = struct.Struct(">II").unpack_from

        def cbc(seq: int) -> object:
            head = hdr(0x1000, seq)
            body = cbc_encrypt(join((rand(bs), packet, trailer)))
            h = inner_copy()
            h.update(head)
            h.update(body)
            o = outer_copy()
            o.update(h.digest())
            sent = join((head, body, o.digest()[:icv]))
            read(sent)
            end = len(sent) - icv
            h = inner_copy()
            h.update(sent[:end])
            o = outer_copy()
            o.update(h.digest())
            if not compare_digest(o.digest()[:icv], sent[end:]):
                raise AssertionError("ICV")
            out = cbc_decrypt(sent[8:end])
            return out[bs : -2 - out[-2]]

        step = cbc
    for seq in (1, 2):  # the running CBC contexts: the first packet's IV block is discarded
        assert step(seq) == packet
    return step


def scapy_step(
    scapy_algos: tuple[str, str | None], enc: EncryptionTransform,
    integ: IntegrityTransform | None, packet: bytes,
) -> Callable[[int], object] | None:
    try:
        from scapy.layers.inet import IP
        from scapy.layers.ipsec import ESP, SecurityAssociation
    except ImportError:
        return None
    crypt, auth = scapy_algos
    kwargs: dict[str, object] = {
        "crypt_algo": crypt, "crypt_key": os.urandom(enc.keymat_size),
        "tunnel_header": IP(src=SRC, dst=DST),
    }
    if auth is not None and integ is not None:
        kwargs.update(auth_algo=auth, auth_key=os.urandom(integ.key_size))
    sa = SecurityAssociation(ESP, spi=0x1000, **kwargs)
    pkt = IP(packet)

    def step(seq: int) -> object:
        return sa.decrypt(sa.encrypt(pkt))

    step(0)
    return step


CASES = [
    ("AES-256-CBC + HMAC-SHA-256-128", "esp-aes 256", "esp-sha256-hmac",
     ("AES-CBC", "SHA2-256-128")),
    ("AES-128-CBC + HMAC-SHA1-96", "esp-aes", "esp-sha-hmac", ("AES-CBC", "HMAC-SHA1-96")),
    ("AES-256-GCM (16-byte ICV)", "esp-gcm 256", None, ("AES-GCM", None)),
]


def main() -> None:
    rows = []
    scapy_missing = False
    for label, enc_name, integ_name, scapy_algos in CASES:
        enc = encryption_transform(enc_name)
        integ = integrity_transform(integ_name) if integ_name else None
        for size in (100, 1400):
            packet = inner_packet(size)
            codec, tunnel = iosim_steps(enc, integ, packet)
            minimal, fresh = floor_steps(enc, integ, packet)
            scapy = scapy_step(scapy_algos, enc, integ, packet)
            scapy_missing |= scapy is None
            steps = {"codec": codec, "tunnel": tunnel, "floor": esp_floor(enc, integ, packet),
                     "cipher": minimal}
            if fresh:
                steps["fresh"] = fresh
            if scapy:
                steps["scapy"] = scapy
            got = measure(steps)
            rows.append((
                label, size, got["codec"], got["tunnel"], got["floor"], got["cipher"],
                got.get("fresh"), got.get("scapy"),
            ))
    head = (f"{'transform':32} {'size':>5} {'iosim':>9} {'tunnel':>9} {'floor':>9} "
            f"{'cipher':>9} {'cipher/ctx':>10} {'scapy':>8} {'floor/iosim':>11} "
            f"{'tunnel/scapy':>12}")
    print("packets/s, one encapsulate + one decapsulate each (no replay window)")
    print(head)
    print("-" * len(head))
    for label, size, p_codec, p_tunnel, p_floor, p_cipher, p_fresh, p_scapy in rows:
        fresh_txt = f"{p_fresh:10.0f}" if p_fresh else f"{'-':>10}"
        scapy_txt = f"{p_scapy:8.0f}" if p_scapy else f"{'-':>8}"
        vs_scapy = f"{p_tunnel / p_scapy:11.0f}x" if p_scapy else f"{'-':>12}"
        print(f"{label:32} {size:5} {p_codec:9.0f} {p_tunnel:9.0f} {p_floor:9.0f} "
              f"{p_cipher:9.0f} {fresh_txt} {scapy_txt} {p_floor / p_codec:10.2f}x {vs_scapy}")
    if scapy_missing:
        print("scapy not installed")


if __name__ == "__main__":
    main()
