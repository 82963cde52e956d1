"""ike layer."""
