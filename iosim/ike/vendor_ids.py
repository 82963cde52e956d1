"""The vendor IDs IOS puts in main mode, and what its ``debug crypto isakmp`` says of those it
receives (RFC 2408 3.16: opaque bytes; each vendor defines its own).

Theory of operation
-------------------
IOS announces what it can do message by message, and ``IkeEngine`` sends the same:

=======  ==================================================================================
MM1      the four NAT-T versions it speaks: RFC 3947 and draft-ietf-ipsec-nat-t-ike-07, -03
         and -02 (``debug``: "constructed NAT-T vendor-rfc3947 ID" ...)
MM2      the NAT-T version chosen from the peer's MM1: RFC 3947, when the peer offered it
MM3      DPD (RFC 3706) and Cisco's "IOS box" ID
MM4      Cisco Unity, DPD and the "IOS box" ID
=======  ==================================================================================

(captured IOS traces: the responder reads four NAT-T IDs in MM1, the initiator one in MM2,
Unity, DPD and the IOS box in MM4.) Aggressive mode keeps RFC 3947 and DPD in its first two
messages.

Reading one (``vendor_id_words``) is IOS's test, in IOS's order: Cisco's "IOS box" ID (its
first four bytes) is recognised at once; any other 16-byte ID is first taken for a Unity/DPD
one, whose byte 14 is the major version 1 -- another major is reported as "seems Unity/DPD but
major N mismatch" (the RFC 3947 ID's byte 14 is 69), the right major with an unknown hash as
"hash mismatch"; then the NAT-T versions are looked up.
"""

from __future__ import annotations

import hashlib

from iosim.ike.dpd import DPD_VID

__all__ = [
    "IOS_VID",
    "MM1_VIDS",
    "MM3_VIDS",
    "MM4_VIDS",
    "NAT_T_VIDS",
    "RFC3947_VID",
    "UNITY_VID",
    "XAUTH_VID",
    "vendor_id_words",
]

RFC3947_VID = bytes.fromhex("4a131c81070358455c5728f20e95452f")  # MD5("RFC 3947")
#: NAT-T versions by the name IOS's "constructed NAT-T vendor-NAME ID" gives them, best first
NAT_T_VIDS: dict[str, bytes] = {
    "rfc3947": RFC3947_VID,
    "07": bytes.fromhex("439b59f8ba676c4c7737ae22eab8f582"),  # draft-ietf-ipsec-nat-t-ike-07
    "03": bytes.fromhex("7d9419a65310ca6f2c179d9215529d56"),  # draft-ietf-ipsec-nat-t-ike-03
    "02": bytes.fromhex("90cb80913ebb696e086381b5ec427b1f"),  # draft-ietf-ipsec-nat-t-ike-02\n
}
#: Cisco Unity: MD5("CISCO-UNITY") with its last two bytes replaced by the version 1.0
UNITY_VID = hashlib.md5(b"CISCO-UNITY").digest()[:14] + b"\x01\x00"
XAUTH_VID = bytes.fromhex("09002689dfd6b712")
#: Cisco IOS says "I am an IOS box" with an ID whose first four bytes are fixed
IOS_BOX_PREFIX = bytes.fromhex("3e984048")
IOS_VID = IOS_BOX_PREFIX + hashlib.md5(b"iosim IOS").digest()[:12]

MM1_VIDS: tuple[bytes, ...] = tuple(NAT_T_VIDS.values())
MM3_VIDS: tuple[bytes, ...] = (DPD_VID, IOS_VID)
MM4_VIDS: tuple[bytes, ...] = (UNITY_VID, DPD_VID, IOS_VID)

_NAT_T_WORDS = {RFC3947_VID: "RFC 3947", NAT_T_VIDS["07"]: "v7", NAT_T_VIDS["03"]: "v3",
                NAT_T_VIDS["02"]: "v2"}
_UNITY_DPD = {UNITY_VID: "Unity", DPD_VID: "DPD"}
_MAJOR = 14  # Unity/DPD IDs: 14 bytes of hash, then the major and minor version


def vendor_id_words(data: bytes) -> list[str]:
    """What ``debug crypto isakmp`` says of a received vendor ID, after "processing vendor
    id payload", each as it follows ``ISAKMP:(N):`` (a leading space where IOS puts one)."""
    if data.startswith(IOS_BOX_PREFIX):
        return [" speaking to another IOS box!"]
    out = []
    if len(data) == 16:
        if data[_MAJOR] != 1:
            out.append(f" vendor ID seems Unity/DPD but major {data[_MAJOR]} mismatch")
        elif data in _UNITY_DPD:
            out.append(f" vendor ID is {_UNITY_DPD[data]}")
        else:
            out.append("vendor ID seems Unity/DPD but hash mismatch")
    if data in _NAT_T_WORDS:
        out.append(f" vendor ID is NAT-T {_NAT_T_WORDS[data]}")
    elif data == XAUTH_VID:
        out.append(" vendor ID is XAUTH")
    return out
