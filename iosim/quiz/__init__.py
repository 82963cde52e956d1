"""``iosim quiz``: CCNA practice questions on IPsec, some read from a lab running at that moment.

``topics`` names the topics (light: the command line imports it for ``--help``);
``model`` is a question and how a reply is judged; ``facts`` and ``commands`` are the banks
of fact and fill-in-the-command questions; ``lab_run`` boots the site-to-site VPN for a question,
``live_output`` and ``live_faults`` ask about what it shows; ``runner`` picks, asks, reads and
scores; ``cli`` is the ``iosim quiz`` subcommand.
"""
