"""show layer."""
