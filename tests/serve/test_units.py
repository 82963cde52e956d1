"""The sans-IO parts of the server, and the router's RSA keys across a save and a reload."""

from __future__ import annotations

from pathlib import Path

from iosim.config.ssh_model import ssh_of
from iosim.lab.console import Lab, LabConsole
from iosim.serve.line_editor import MAX_LINE, LineEditor
from iosim.serve.login import authenticate, login_plan
from iosim.serve.telnet import GREETING, TelnetCodec, escape


def test_telnet_codec_takes_commands_out_and_answers_once() -> None:
    codec = TelnetCodec()
    got = codec.receive(b"ab\xff\xffc\xff\xfb\x1f\xff\xfa\x1f\x00\x84\x00\x30\xff\xf0\xff\xfd\x63")
    assert got.data == b"ab\xffc"
    assert got.window == (132, 48)
    assert got.replies == b"\xff\xfc\x63"  # DO 99 refused; WILL NAWS was the answer to our DO
    assert codec.receive(b"\xff\xfd\x63" * 100).replies == b""  # never again
    assert codec.receive(b"\xff\xfd\x01").replies == b""  # echo is on already
    assert codec.receive(b"\xff\xfa" + b"z" * 10_000 + b"\xff\xf0x").data == b"x"
    assert escape(b"\xff") == b"\xff\xff" and GREETING.startswith(b"\xff\xfb\x01")


def test_line_editor_line_ends_erase_and_bounds() -> None:
    ed = LineEditor()
    actions = [ed.key(b).action for b in b"sh\x7fho\r\nx\r\x00y\n"]
    assert actions.count("enter") == 3
    ed2 = LineEditor()
    for b in "shé".encode():
        ed2.key(b)
    assert ed2.key(0x7F).echo == b"\b \b" and ed2.text == b"sh"
    assert ed2.key(0x1B).action == "" and ed2.key(ord("[")).action == ""
    assert ed2.key(ord("A")).action == "up"
    ed3 = LineEditor()
    for _ in range(MAX_LINE + 100):
        ed3.key(ord("a"))
    assert len(ed3.text) == MAX_LINE


def test_login_rules_follow_the_line_and_aaa(tmp_path: Path) -> None:
    lab = Lab.load("site-to-site", nvram_dir=tmp_path)
    router = lab.routers["R1"]
    cfg = router.config
    vty = next(line for line in cfg.lines if line.kind == "vty")
    assert login_plan(cfg, vty).methods == ("local",)
    assert authenticate(cfg, vty, "admin", "admin").privilege == 15
    assert authenticate(cfg, vty, "ADMIN", "admin").privilege == 15  # local folds case
    assert not authenticate(cfg, vty, "admin", "nope").ok
    console = LabConsole(lab, paging=False)
    for line in ("enable", "conf t", "aaa new-model", "aaa authentication login default none",
                 "end"):
        console.feed(line)
    assert login_plan(router.config, vty).asks_nothing


def test_a_lab_key_repeats_and_a_saved_key_survives_a_reload(tmp_path: Path) -> None:
    first = Lab.load("site-to-site", nvram_dir=tmp_path / "a")
    second = Lab.load("site-to-site", nvram_dir=tmp_path / "b")
    key_a = ssh_of(first.routers["R1"].config).host_key()
    key_b = ssh_of(second.routers["R1"].config).host_key()
    assert key_a is not None and key_b is not None and key_a.pem == key_b.pem
    assert key_a.bits == 2048 and key_a.label == "R1.lab.local"
    console = LabConsole(first, paging=False)
    out = "".join(console.feed(line) for line in (
        "enable", "conf t", "crypto key generate rsa", "yes", "1024", "end", "write memory"))
    assert "% Generating 1024 bit RSA keys" in out
    fresh = ssh_of(first.routers["R1"].config).host_key()
    assert fresh is not None and fresh.bits == 1024 and fresh.pem != key_a.pem
    assert (tmp_path / "a" / "R1.private-config").is_file()
    again = Lab.load("site-to-site", nvram_dir=tmp_path / "a")
    kept = ssh_of(again.routers["R1"].config).host_key()
    assert kept is not None and kept.pem == fresh.pem
    shown = LabConsole(again, paging=False)
    shown.feed("enable")
    text = shown.feed("show crypto key mypubkey rsa")
    assert "Key name: R1.lab.local" in text and "30819F30 0D06092A" in text


def test_every_built_in_lab_ships_its_routers_ready_for_automation() -> None:
    from iosim.lab.topology import builtin_labs

    for lab_toml in builtin_labs():
        lab = Lab.load(str(lab_toml.parent), memory=True)
        for name, router in lab.routers.items():
            cfg = router.config
            where = f"{lab_toml.parent.name}/{name}"
            vty = next((line for line in cfg.lines if line.kind == "vty"), None)
            assert vty is not None and login_plan(cfg, vty).methods == ("local",), where
            assert authenticate(cfg, vty, "admin", "admin").privilege == 15, where
            assert ssh_of(cfg).host_key() is not None, where
            assert cfg.domain_name == "lab.local", where
