"""Hand-ins: a student's whole lab in one file, graded on the instructor's machine.

``iosim lab export LAB FILE [--seed WORD]`` writes every router's saved startup-config (what
``write memory`` put in the state directory; a router never saved is left out and boots the
lab's own config), the seed and a digest of the lab file, as JSON. ``iosim lab check LAB --from
FILE`` boots the lab from those configs in memory, runs the lab's steps and grades the
objectives: the grade comes from behaviour, not from the text of the configs.

A hand-in is a file from someone else: it is read with a size limit, every field is type
checked, device names must be the lab's, and configs must fit a router's NVRAM.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from iosim.atomic import write_atomic
from iosim.cli.lines import to_bytes
from iosim.lab.labfile import find_definition
from iosim.lab.running import nvram_directory
from iosim.lab.schema import LabError
from iosim.router import NVRAM_SIZE, Nvram, NvramError

FORMAT = "iosim-handin/1"
MAX_HANDIN_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class HandIn:
    """What a student handed in."""

    lab: str
    seed: str
    digest: str
    exported: str
    startup: dict[str, str]  # device -> startup-config


def lab_digest(lab_toml: Path) -> str:
    """SHA-256 of a lab's ``lab.toml``: tells the grader whether the lab changed since."""
    return hashlib.sha256(lab_toml.read_bytes()).hexdigest()


def export_handin(name_or_path: str | None, file: Path, seed: str = "") -> HandIn:
    """Write the student's saved configs of a lab into ``file`` (atomically)."""
    definition = find_definition(name_or_path)
    resolved = definition.resolve(seed)
    base = nvram_directory(resolved)
    startup: dict[str, str] = {}
    for device in resolved.topology.routers:
        try:
            text = Nvram(base / f"{device}.startup-config").read()
        except NvramError as e:
            raise LabError(f"{device}: {e}") from None
        if text is not None:
            startup[device] = text
    if not startup and not seed and (base / "seeds").is_dir() and any(
            (base / "seeds").glob("*/*.startup-config")):
        raise LabError(f"nothing saved for {definition.info.name} without a seed, but there "
                       "are saved configs of a seeded lab: export with the --seed you were "
                       "given")
    handin = HandIn(definition.info.name, seed, lab_digest(definition.path),
                    datetime.now(UTC).isoformat(timespec="seconds"), startup)
    data = {"format": FORMAT, "lab": handin.lab, "seed": handin.seed,
            "lab_digest": handin.digest, "exported": handin.exported,
            "startup_configs": handin.startup}
    # ASCII JSON: bytes typed that are not UTF-8 travel as escapes and come back as typed
    write_atomic(file, json.dumps(data, indent=2) + "\n")
    return handin


def _field(data: dict[str, object], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or "\x00" in value:
        raise LabError(f"{where}: {key} must be text")
    return value


def read_handin(file: Path) -> HandIn:
    """Read and check a hand-in file (a LabError says what is wrong with it)."""
    where = str(file)
    try:
        with file.open("rb") as f:
            raw = f.read(MAX_HANDIN_BYTES + 1)
    except OSError as e:
        raise LabError(f"{where}: {e.strerror or e}") from None
    if len(raw) > MAX_HANDIN_BYTES:
        raise LabError(f"{where}: larger than {MAX_HANDIN_BYTES // (1024 * 1024)} MiB: "
                       "not a hand-in")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise LabError(f"{where}: not a hand-in file ({e})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise LabError(f"{where}: not a hand-in file (format {FORMAT} expected)")
    configs = data.get("startup_configs")
    if not isinstance(configs, dict):
        raise LabError(f"{where}: startup_configs must be a table of device -> config")
    startup: dict[str, str] = {}
    for device, text in configs.items():
        if not isinstance(text, str) or "\x00" in text:
            raise LabError(f"{where}: startup_configs.{device} must be config text")
        if len(to_bytes(text)) > NVRAM_SIZE:
            raise LabError(f"{where}: startup_configs.{device} is larger than a router's "
                           f"NVRAM ({NVRAM_SIZE} bytes)")
        startup[str(device)] = text
    return HandIn(_field(data, "lab", where), _field(data, "seed", where),
                  _field(data, "lab_digest", where), _field(data, "exported", where), startup)


def handin_for(name_or_path: str | None, handin: HandIn, file: Path) -> list[str]:
    """Check a hand-in against the lab it is graded on; the warnings to show."""
    definition = find_definition(name_or_path)
    if handin.lab != definition.info.name:
        raise LabError(f"{file}: this hand-in is for lab {handin.lab!r}, not "
                       f"{definition.info.name!r}")
    routers = definition.resolve(handin.seed).topology.routers
    for device in handin.startup:
        if device not in routers:
            raise LabError(f"{file}: startup_configs names {device!r}, which is not a "
                           f"router of {definition.info.name}")
    warnings = []
    if definition.variables and not handin.seed:
        warnings.append(f"iosim: {file}: no seed: graded on the lab as published (the one "
                        "whose solution everyone can see); give --seed to require a student's")
    if handin.digest != lab_digest(definition.path):
        warnings.append(f"iosim: {file}: the lab file changed since this hand-in was "
                        "exported; grading with the current lab")
    missing = [d for d in routers if d not in handin.startup]
    if missing:
        warnings.append(f"iosim: {file}: nothing saved on {', '.join(missing)}: "
                        f"{'it boots' if len(missing) == 1 else 'they boot'} the lab's "
                        "initial config")
    return warnings
