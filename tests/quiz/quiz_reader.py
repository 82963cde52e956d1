"""A student who answers the quiz's live questions from the text on the screen, nothing else.

``answer(block)`` takes what the quiz printed for one question (from "Question k of N" to the
prompt) and answers it by reading the router output it shows: the ``#pkts encaps`` counter,
the SPI under "inbound esp sas:", the state column of ``show crypto isakmp sa``, R2's debug
lines. It never looks at the quiz's objects, so a question whose answer disagrees with its
own output is answered wrong.
"""

from __future__ import annotations

import re

_CHOICE = re.compile(r"^  ([A-D])\) (.*)$", re.MULTILINE)


def choices(block: str) -> dict[str, str]:
    """Choice text -> letter."""
    return {text: letter for letter, text in _CHOICE.findall(block)}


def choose(block: str, *words: str) -> str:
    """The letter of the one choice containing every word of ``words``."""
    found = [letter for text, letter in choices(block).items()
             if all(w.lower() in text.lower() for w in words)]
    assert len(found) == 1, (words, choices(block))
    return found[0]


def output_of(block: str, prompt_command: str) -> str:
    """The text from the line ``prompt_command`` (e.g. ``R1#show crypto ipsec sa``) to the next
    prompt line."""
    start = block.index(prompt_command + "\n") + len(prompt_command) + 1
    following = re.compile(r"^(R1|R2|ISP|PC1|PC2)[#>]", re.MULTILINE).search(block, start)
    end = following.start() if following else len(block)
    return block[start:end]


def _after(text: str, marker: str) -> str:
    return text[text.index(marker) + len(marker):]


def _asked(block: str) -> str:
    """The question's last sentence before the choices or the hint."""
    lines = [ln for ln in block.splitlines() if ln.strip()]
    for line in reversed(lines):
        if line.endswith("?"):
            return line
    raise AssertionError(block)


def _isakmp_row(text: str) -> list[str]:
    rows = [ln.split() for ln in text.splitlines() if " ACTIVE" in ln]
    return rows[-1]


def answer(block: str) -> str:
    """The reply a careful student types to the question in ``block``."""
    asked = _asked(block)
    m = re.search(r"How many packets did (R\d) (encrypt|decrypt)\?", asked)
    if m:
        field = "encaps" if m[2] == "encrypt" else "decaps"
        shown = output_of(block, f"{m[1]}#show crypto ipsec sa")
        found = re.search(rf"#pkts {field}: (\d+)", shown)
        assert found is not None
        return found[1]
    m = re.search(r"What is the SPI of (R\d)'s inbound ESP SA\?", asked)
    if m:
        shown = _after(output_of(block, f"{m[1]}#show crypto ipsec sa"), "inbound esp sas:")
        found = re.search(r"spi: (0x[0-9A-F]+)", shown)
        assert found is not None
        return found[1]
    m = re.search(r"Which address is (R\d)'s current peer\?", asked)
    if m:
        found = re.search(r"current_peer (\S+) port",
                          output_of(block, f"{m[1]}#show crypto ipsec sa"))
        assert found is not None
        return found[1]
    m = re.search(r"How many seconds does (R\d)'s inbound ESP SA have left\?", asked)
    if m:
        shown = _after(output_of(block, f"{m[1]}#show crypto ipsec sa"), "inbound esp sas:")
        found = re.search(r"remaining key lifetime \(k/sec\): \((\d+)/(\d+)\)", shown)
        assert found is not None
        return found[2]
    m = re.search(r"How long does (R\d)'s ISAKMP SA have left\?", asked)
    if m:
        row = _isakmp_row(output_of(block, f"{m[1]}#show crypto isakmp sa detail"))
        return next(cell for cell in row if re.fullmatch(r"\d+:\d\d:\d\d", cell))
    m = re.search(r"Which (encryption|hash|Diffie-Hellman group) did phase 1 negotiate\?", asked)
    if m:
        router = re.search(r"(R\d)#show crypto isakmp sa detail", block)
        assert router is not None
        row = _isakmp_row(output_of(block, f"{router[1]}#show crypto isakmp sa detail"))
        encr, hash_, _auth, group = row[row.index("ACTIVE") + 1:][:4]
        value = {"encryption": encr, "hash": hash_, "Diffie-Hellman group": group}[m[1]]
        return choices(block)[value]
    if asked == "How does the ESP traffic travel between R1 and R2?":
        shown = output_of(block, re.findall(r"^(R\d#show crypto ipsec sa)$", block, re.M)[-1])
        if "UDP-Encaps" in shown and "port 4500" in shown:
            return choose(block, "UDP port 4500")
        return choose(block, "IP protocol 50")
    if asked == "What is wrong?":
        state = _isakmp_row(output_of(block, "R1#show crypto isakmp sa"))[2]
        if state == "MM_KEY_EXCH":
            return choose(block, "pre-shared keys")
        if state == "QM_IDLE":
            return choose(block, "transform sets")
        assert state == "MM_NO_STATE", state
        if "phase 1 SA policy not acceptable" in block:
            return choose(block, "ISAKMP policy")
        return choose(block, "does not answer")
    if asked == "Which IKE phase failed?":
        state = _isakmp_row(output_of(block, "R1#show crypto isakmp sa"))[2]
        inbound = _after(output_of(block, "R1#show crypto ipsec sa"), "inbound esp sas:")
        has_sa = re.match(r"\s*spi: 0x", inbound) is not None
        if state == "QM_IDLE":
            return choose(block, "Neither:") if has_sa else choose(block, "Phase 2")
        return choose(block, "Phase 1")
    if asked == "Which attribute of the ISAKMP policy differs?":
        found = re.search(r"ISAKMP:\(0\):(.+) does not match policy", block)
        assert found is not None, block
        word = {"Encryption algorithm offered": "encryption",
                "Proposed key length": "encryption",  # AES 128/192/256: the cipher's key
                "Hash algorithm offered": "hash",
                "Diffie-Hellman group offered": "Diffie-Hellman",
                "Authentication method offered": "authentication"}[found[1]]
        return choose(block, word)
    raise AssertionError(f"a question this reader cannot read: {asked!r}")


def wrong(block: str) -> str:
    """A reply to ``block`` that the output shows to be wrong: another choice, or the value
    read off by one."""
    right = answer(block)
    letters = [letter for letter in choices(block).values() if letter != right]
    if letters:
        return letters[0]
    if ":" in right:  # H:MM:SS
        h, m, s = (int(p) for p in right.split(":"))
        return f"{h}:{m:02d}:{(s + 1) % 60:02d}" if s < 59 else f"{h}:{m:02d}:00"
    if right.startswith("0x"):
        return hex(int(right, 16) + 1)
    if right.count(".") == 3:
        *head, last = right.split(".")
        return ".".join([*head, str((int(last) + 1) % 256)])
    return str(int(right) + 1)
