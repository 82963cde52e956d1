"""A command's undo: what a failed command may have changed, put back.

Handlers validate first and change the model last (``iosim.config.handlers``), so a line
IOS rejects changes nothing.  A handler that fails half-way through its changes (a bug:
an exception that is not a ``CliError``) must not leave half a command in the
running-config either, so the session takes a :class:`Checkpoint` before every command
and restores it when the command fails that way.

Theory of operation
-------------------
Copying the whole running-config before every line would make a config of N lines cost
N² to type or boot.  A checkpoint instead keeps, in O(size of the top-level tables):

* the running-config's own settings (``hostname``, ``banner_motd`` ...) and a shallow copy
  of each of its tables (interfaces, ACLs, routes, users, lines, features), so entries a
  command added, removed or replaced come back as they were; likewise for the objects it
  holds directly (``logging``);
* the same for each feature's object (``features["crypto"]``, ``features["nat"]``): its
  settings and its tables;
* the object of the current sub-mode (the interface, ACL, crypto map entry ... a command in
  that mode edits): its settings and its lists and tables.  A table that can be large keeps
  its own undo log instead (``checkpoint()``: an ACL's entries), so that typing line N of a
  long ACL does not copy the N-1 before it.

Objects below those levels are the handlers' to change only after validating.  Indexes
derived from the config (``RunningConfig.rebuild_indexes``) are rebuilt after a restore.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from iosim.config.model import RunningConfig

#: Puts one thing back as it was.  A large table may keep an undo log of its own: a
#: ``checkpoint()`` method returning (restore, close), the second ending the log when the
#: command went well (cheaper than copying the table).
Restore = Callable[[], None]

_ATOMS = (str, int, float, bool, bytes, tuple, frozenset, type(None))


def _own_checkpoint(value: object) -> Callable[[], tuple[Restore, Restore]] | None:
    method = getattr(type(value), "checkpoint", None)
    return None if method is None else getattr(value, "checkpoint")  # noqa: B009


def _container(value: object, restores: list[Restore], closes: list[Restore]) -> bool:
    """Remember the items of a table or list (not the items' own contents); whether
    ``value`` is one."""
    if isinstance(value, dict):
        saved_items = value.copy()

        def restore_dict(d: dict[Any, Any] = value, saved: dict[Any, Any] = saved_items) -> None:
            d.clear()
            d.update(saved)

        restores.append(restore_dict)
    elif isinstance(value, list):
        saved_list = value.copy()

        def restore_list(lst: list[Any] = value, saved: list[Any] = saved_list) -> None:
            lst[:] = saved

        restores.append(restore_list)
    else:
        own = _own_checkpoint(value)
        if own is None:
            return False
        restore, close = own()
        restores.append(restore)
        closes.append(close)
    return True


def _object(obj: object, restores: list[Restore], closes: list[Restore]) -> list[object]:
    """Remember an object's attributes and the items of its tables; return the values that
    are objects of their own (not tables, not plain values)."""
    attrs = getattr(obj, "__dict__", None)
    if attrs is None:
        return []
    saved = dict(attrs)

    def restore_attrs(o: object = obj, before: dict[str, Any] = saved) -> None:
        now = vars(o)
        for key in [k for k in now if k not in before]:
            del now[key]
        now.update(before)

    restores.append(restore_attrs)
    nested: list[object] = []
    for value in saved.values():
        if not isinstance(value, _ATOMS) and not _container(value, restores, closes):
            nested.append(value)
    return nested


class Checkpoint:
    """The state a command starts from, to restore if the command fails (see module doc)."""

    def __init__(self, config: RunningConfig, target: object = None) -> None:
        self.config = config
        self._restores: list[Restore] = []
        self._closes: list[Restore] = []
        restores, closes = self._restores, self._closes
        roots: list[object] = [config]
        roots += [f for f in config.features.values() if not isinstance(f, _ATOMS)]
        roots += _mode_objects(config, target)
        for root in roots:
            for inner in _object(root, restores, closes):
                _object(inner, restores, closes)

    def restore(self) -> None:
        """Put everything back as it was when the checkpoint was taken."""
        for restore in reversed(self._restores):
            restore()
        self.config.rebuild_indexes()

    def close(self) -> None:
        """The command went well: nothing will be restored (undo logs stop recording)."""
        for close in self._closes:
            close()


def _mode_objects(config: RunningConfig, target: object) -> list[object]:
    """The objects a sub-mode may edit: ``target`` itself, or the entries it names in the
    running-config's tables and its features' tables (an interface or ACL by name, an
    ISAKMP policy by priority, a line by index)."""
    if target is None or isinstance(target, (bool, float, bytes)):
        return []
    members = getattr(target, "members", None)  # an EachOf: what each member's mode edits
    if isinstance(members, tuple):
        return [obj for member in members for obj in _mode_objects(config, member)]
    if not isinstance(target, (str, int)):
        return [target]
    tables: list[object] = list(vars(config).values())
    for feature in config.features.values():
        tables.extend(getattr(feature, "__dict__", {}).values())
    found: list[object] = []
    for table in tables:
        item: object = None
        if isinstance(table, dict):
            item = table.get(target)
        elif isinstance(table, list) and isinstance(target, int) and 0 <= target < len(table):
            item = table[target]
        if item is not None and not isinstance(item, _ATOMS):
            found.append(item)
    return found
