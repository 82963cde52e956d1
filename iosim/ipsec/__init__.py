"""ipsec layer."""
