"""IKEv2 numbers (RFC 7296 section 3 and the IANA "IKEv2 Parameters" registry).

Names follow the RFC: exchange types, payload types, notify message types, transform types
and their IDs, ID types, authentication methods and traffic selector types.
"""

from __future__ import annotations

import enum

__all__ = [
    "IKEV2_VERSION",
    "AuthMethod",
    "ExchangeType",
    "Flag",
    "IdType",
    "NotifyType",
    "PayloadType",
    "ProtocolId",
    "TransformType",
    "TsType",
]

IKEV2_VERSION = 0x20  # major 2, minor 0 (RFC 7296 section 3.1)


class ExchangeType(enum.IntEnum):
    """RFC 7296 section 3.1."""

    IKE_SA_INIT = 34
    IKE_AUTH = 35
    CREATE_CHILD_SA = 36
    INFORMATIONAL = 37


class Flag(enum.IntFlag):
    """Header flags (RFC 7296 section 3.1): Initiator, Version, Response."""

    INITIATOR = 0x08
    VERSION = 0x10
    RESPONSE = 0x20


class PayloadType(enum.IntEnum):
    """RFC 7296 section 3.2 (and RFC 7383 for SKF)."""

    NONE = 0
    SA = 33
    KE = 34
    IDi = 35
    IDr = 36
    CERT = 37
    CERTREQ = 38
    AUTH = 39
    NONCE = 40
    N = 41
    D = 42
    V = 43
    TSi = 44
    TSr = 45
    SK = 46
    CP = 47
    EAP = 48
    SKF = 53


class ProtocolId(enum.IntEnum):
    """Protocol ID of proposals, notifies and deletes (RFC 7296 section 3.3.1)."""

    NONE = 0
    IKE = 1
    AH = 2
    ESP = 3


class TransformType(enum.IntEnum):
    """RFC 7296 section 3.3.2."""

    ENCR = 1
    PRF = 2
    INTEG = 3
    DH = 4
    ESN = 5


KEY_LENGTH_ATTRIBUTE = 14  # RFC 7296 section 3.3.5, always TV format (0x800E)


class IdType(enum.IntEnum):
    """RFC 7296 section 3.5."""

    ID_IPV4_ADDR = 1
    ID_FQDN = 2
    ID_RFC822_ADDR = 3
    ID_IPV6_ADDR = 5
    ID_DER_ASN1_DN = 9
    ID_KEY_ID = 11


class AuthMethod(enum.IntEnum):
    """RFC 7296 section 3.8."""

    RSA_SIGNATURE = 1
    SHARED_KEY_MIC = 2
    DSS_SIGNATURE = 3


class TsType(enum.IntEnum):
    """RFC 7296 section 3.13.1."""

    TS_IPV4_ADDR_RANGE = 7
    TS_IPV6_ADDR_RANGE = 8


class NotifyType(enum.IntEnum):
    """RFC 7296 section 3.10.1 (errors below 16384, status above) and RFC 7383."""

    UNSUPPORTED_CRITICAL_PAYLOAD = 1
    INVALID_IKE_SPI = 4
    INVALID_MAJOR_VERSION = 5
    INVALID_SYNTAX = 7
    INVALID_MESSAGE_ID = 9
    INVALID_SPI = 11
    NO_PROPOSAL_CHOSEN = 14
    INVALID_KE_PAYLOAD = 17
    AUTHENTICATION_FAILED = 24
    SINGLE_PAIR_REQUIRED = 34
    NO_ADDITIONAL_SAS = 35
    INTERNAL_ADDRESS_FAILURE = 36
    FAILED_CP_REQUIRED = 37
    TS_UNACCEPTABLE = 38
    INVALID_SELECTORS = 39
    TEMPORARY_FAILURE = 43
    CHILD_SA_NOT_FOUND = 44
    INITIAL_CONTACT = 16384
    SET_WINDOW_SIZE = 16385
    ADDITIONAL_TS_POSSIBLE = 16386
    IPCOMP_SUPPORTED = 16387
    NAT_DETECTION_SOURCE_IP = 16388
    NAT_DETECTION_DESTINATION_IP = 16389
    COOKIE = 16390
    USE_TRANSPORT_MODE = 16391
    HTTP_CERT_LOOKUP_SUPPORTED = 16392
    REKEY_SA = 16393
    ESP_TFC_PADDING_NOT_SUPPORTED = 16394
    NON_FIRST_FRAGMENTS_ALSO = 16395
    MOBIKE_SUPPORTED = 16396
    MULTIPLE_AUTH_SUPPORTED = 16404
    REDIRECT_SUPPORTED = 16406
    IKEV2_FRAGMENTATION_SUPPORTED = 16430
    SIGNATURE_HASH_ALGORITHMS = 16431
    CHILDLESS_IKEV2_SUPPORTED = 16418
    EAP_ONLY_AUTHENTICATION = 16417
    IKEV2_MESSAGE_ID_SYNC_SUPPORTED = 16420

    @classmethod
    def name_of(cls, value: int) -> str:
        """The RFC name, or the number for a type this table does not know."""
        try:
            return cls(value).name
        except ValueError:
            return str(value)
