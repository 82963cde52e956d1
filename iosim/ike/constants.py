"""ISAKMP / IKEv1 / IPsec DOI numbers, named as in the RFCs.

RFC 2408 (ISAKMP), RFC 2407 (IPsec DOI), RFC 2409 (IKE) Appendix A, RFC 3947 (NAT-T),
RFC 3706 (DPD). Hyphens in the RFC names become underscores.
"""

from __future__ import annotations

from enum import IntEnum, IntFlag

__all__ = [
    "AuthenticationMethod",
    "CertificateEncoding",
    "DOI",
    "EncapsulationMode",
    "EspTransformId",
    "ExchangeType",
    "GroupType",
    "IdType",
    "IkeAttributeType",
    "IpsecAttributeType",
    "IpsecAuthenticationAlgorithm",
    "IsakmpFlag",
    "IsakmpTransformId",
    "LifeType",
    "NotifyType",
    "PayloadType",
    "ProtocolId",
    "Situation",
]


class PayloadType(IntEnum):
    """RFC 2408 section 3.1 "Next Payload Types"; RFC 3947 sections 3.2 and 5.2."""

    NONE = 0
    SA = 1  # Security Association
    P = 2  # Proposal
    T = 3  # Transform
    KE = 4  # Key Exchange
    ID = 5  # Identification
    CERT = 6  # Certificate
    CR = 7  # Certificate Request
    HASH = 8
    SIG = 9  # Signature
    NONCE = 10
    N = 11  # Notification
    D = 12  # Delete
    VID = 13  # Vendor ID
    NAT_D = 20  # RFC 3947 NAT Discovery
    NAT_OA = 21  # RFC 3947 NAT Original Address
    NAT_D_DRAFT = 130  # draft-ietf-ipsec-nat-t-ike-02/03 NAT-D
    NAT_OA_DRAFT = 131  # draft-ietf-ipsec-nat-t-ike-02/03 NAT-OA


class ExchangeType(IntEnum):
    """RFC 2408 section 3.1 "Exchange Type"; RFC 2409 section 9 (Quick Mode, New Group Mode)."""

    NONE = 0
    BASE = 1
    IDENTITY_PROTECTION = 2  # IKE Main Mode
    AUTHENTICATION_ONLY = 3
    AGGRESSIVE = 4
    INFORMATIONAL = 5
    TRANSACTION = 6  # draft-ietf-ipsec-isakmp-mode-cfg
    QUICK_MODE = 32
    NEW_GROUP_MODE = 33

    MAIN_MODE = 2  # alias: RFC 2409 calls Identity Protection "Main Mode"


class IsakmpFlag(IntFlag):
    """RFC 2408 section 3.1 header "Flags"."""

    NONE = 0
    E = 0x01  # Encryption: the payloads after the header are encrypted
    C = 0x02  # Commit
    A = 0x04  # Authentication Only


class DOI(IntEnum):
    """Domain of Interpretation (RFC 2408 section 3.4, RFC 2407 section 4.2)."""

    ISAKMP = 0
    IPSEC = 1


class Situation(IntFlag):
    """IPsec DOI situation bitmap (RFC 2407 section 4.2)."""

    SIT_IDENTITY_ONLY = 0x01
    SIT_SECRECY = 0x02
    SIT_INTEGRITY = 0x04


class ProtocolId(IntEnum):
    """IPsec DOI security protocol identifiers (RFC 2407 section 4.4.1)."""

    RESERVED = 0
    PROTO_ISAKMP = 1
    PROTO_IPSEC_AH = 2
    PROTO_IPSEC_ESP = 3
    PROTO_IPCOMP = 4


class IsakmpTransformId(IntEnum):
    """ISAKMP transform identifiers (RFC 2407 section 4.4.2)."""

    RESERVED = 0
    KEY_IKE = 1


class EspTransformId(IntEnum):
    """IPsec ESP transform identifiers (RFC 2407 section 4.4.4; ESP_AES RFC 3602)."""

    ESP_DES_IV64 = 1
    ESP_DES = 2
    ESP_3DES = 3
    ESP_RC5 = 4
    ESP_IDEA = 5
    ESP_CAST = 6
    ESP_BLOWFISH = 7
    ESP_3IDEA = 8
    ESP_DES_IV32 = 9
    ESP_RC4 = 10
    ESP_NULL = 11
    ESP_AES = 12


class IkeAttributeType(IntEnum):
    """Phase-1 SA attribute classes (RFC 2409 Appendix A)."""

    ENCRYPTION_ALGORITHM = 1
    HASH_ALGORITHM = 2
    AUTHENTICATION_METHOD = 3
    GROUP_DESCRIPTION = 4
    GROUP_TYPE = 5
    GROUP_PRIME = 6
    GROUP_GENERATOR_ONE = 7
    GROUP_GENERATOR_TWO = 8
    GROUP_CURVE_A = 9
    GROUP_CURVE_B = 10
    LIFE_TYPE = 11
    LIFE_DURATION = 12
    PRF = 13
    KEY_LENGTH = 14
    FIELD_SIZE = 15
    GROUP_ORDER = 16


class IpsecAttributeType(IntEnum):
    """Phase-2 (IPsec DOI) SA attributes (RFC 2407 section 4.5)."""

    SA_LIFE_TYPE = 1
    SA_LIFE_DURATION = 2
    GROUP_DESCRIPTION = 3
    ENCAPSULATION_MODE = 4
    AUTHENTICATION_ALGORITHM = 5
    KEY_LENGTH = 6
    KEY_ROUNDS = 7
    COMPRESS_DICTIONARY_SIZE = 8
    COMPRESS_PRIVATE_ALGORITHM = 9


class AuthenticationMethod(IntEnum):
    """RFC 2409 Appendix A "Authentication Method"."""

    PRE_SHARED_KEY = 1
    DSS_SIGNATURES = 2
    RSA_SIGNATURES = 3
    RSA_ENCRYPTION = 4
    REVISED_RSA_ENCRYPTION = 5


class GroupType(IntEnum):
    """RFC 2409 Appendix A "Group Type"."""

    MODP = 1
    ECP = 2
    EC2N = 3


class LifeType(IntEnum):
    """RFC 2409 Appendix A "Life Type" (also the RFC 2407 SA Life Type values)."""

    SECONDS = 1
    KILOBYTES = 2


class EncapsulationMode(IntEnum):
    """RFC 2407 section 4.5 "Encapsulation Mode"; UDP modes RFC 3947 section 5.1 and draft."""

    TUNNEL = 1
    TRANSPORT = 2
    UDP_ENCAPSULATED_TUNNEL = 3
    UDP_ENCAPSULATED_TRANSPORT = 4
    UDP_ENCAPSULATED_TUNNEL_DRAFT = 61443
    UDP_ENCAPSULATED_TRANSPORT_DRAFT = 61444


class IpsecAuthenticationAlgorithm(IntEnum):
    """RFC 2407 section 4.5 "Authentication Algorithm"; SHA-2 values RFC 4868 / IANA."""

    HMAC_MD5 = 1
    HMAC_SHA = 2
    DES_MAC = 3
    KPDK = 4
    HMAC_SHA2_256 = 5
    HMAC_SHA2_384 = 6
    HMAC_SHA2_512 = 7


class IdType(IntEnum):
    """IPsec DOI identification types (RFC 2407 section 4.6.2.1)."""

    ID_IPV4_ADDR = 1
    ID_FQDN = 2
    ID_USER_FQDN = 3
    ID_IPV4_ADDR_SUBNET = 4
    ID_IPV6_ADDR = 5
    ID_IPV6_ADDR_SUBNET = 6
    ID_IPV4_ADDR_RANGE = 7
    ID_IPV6_ADDR_RANGE = 8
    ID_DER_ASN1_DN = 9
    ID_DER_ASN1_GN = 10
    ID_KEY_ID = 11


class CertificateEncoding(IntEnum):
    """RFC 2408 section 3.9 "Certificate Encoding"."""

    NONE = 0
    PKCS7_WRAPPED_X509 = 1
    PGP = 2
    DNS_SIGNED_KEY = 3
    X509_SIGNATURE = 4
    X509_KEY_EXCHANGE = 5
    KERBEROS_TOKENS = 6
    CRL = 7
    ARL = 8
    SPKI = 9
    X509_ATTRIBUTE = 10


class NotifyType(IntEnum):
    """Notify message types: RFC 2408 section 3.14.1, RFC 2407 section 4.6.3, RFC 3706."""

    INVALID_PAYLOAD_TYPE = 1
    DOI_NOT_SUPPORTED = 2
    SITUATION_NOT_SUPPORTED = 3
    INVALID_COOKIE = 4
    INVALID_MAJOR_VERSION = 5
    INVALID_MINOR_VERSION = 6
    INVALID_EXCHANGE_TYPE = 7
    INVALID_FLAGS = 8
    INVALID_MESSAGE_ID = 9
    INVALID_PROTOCOL_ID = 10
    INVALID_SPI = 11
    INVALID_TRANSFORM_ID = 12
    ATTRIBUTES_NOT_SUPPORTED = 13
    NO_PROPOSAL_CHOSEN = 14
    BAD_PROPOSAL_SYNTAX = 15
    PAYLOAD_MALFORMED = 16
    INVALID_KEY_INFORMATION = 17
    INVALID_ID_INFORMATION = 18
    INVALID_CERT_ENCODING = 19
    INVALID_CERTIFICATE = 20
    CERT_TYPE_UNSUPPORTED = 21
    INVALID_CERT_AUTHORITY = 22
    INVALID_HASH_INFORMATION = 23
    AUTHENTICATION_FAILED = 24
    INVALID_SIGNATURE = 25
    ADDRESS_NOTIFICATION = 26
    NOTIFY_SA_LIFETIME = 27
    CERTIFICATE_UNAVAILABLE = 28
    UNSUPPORTED_EXCHANGE_TYPE = 29
    UNEQUAL_PAYLOAD_LENGTHS = 30
    CONNECTED = 16384
    RESPONDER_LIFETIME = 24576
    REPLAY_STATUS = 24577
    INITIAL_CONTACT = 24578
    R_U_THERE = 36136
    R_U_THERE_ACK = 36137
