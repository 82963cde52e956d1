"""iosim: a Cisco IOS router emulator for IPsec VPN labs."""

__version__ = "0.1.0"
