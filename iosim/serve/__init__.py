"""``iosim serve``: the routers of a lab on telnet and SSH, in real time."""
