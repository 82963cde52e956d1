"""A console session on one router: modes, prompts, errors, help, dialogs, paging.

``Session.feed(line)`` takes one line as typed (or replayed) and returns what the router
prints in reply.  A line may also be the answer to a question the router asked
(``Destination filename [startup-config]?``, ``Password:``, ``--More--``); the prompt
to show before the next line is ``Session.prompt``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from iosim.cli.errors import CliError, IncompleteCommand, InvalidInput, NotEmulated
from iosim.cli.incidents import internal_error
from iosim.cli.interfaces import INTERFACE_TYPES, interface_type, types_named
from iosim.cli.lines import (
    BLANKS,
    ascii_lower,
    bad_character,
    first_word,
    ios_split,
    ios_strip,
    output_lines,
    split_lines,
)
from iosim.cli.matcher import (
    NOT_EMULATED_REST,
    Match,
    Node,
    first_word_caret,
    not_emulated,
    not_emulated_words,
    parse,
    second_word_caret,
    split_words,
    starts_with_argument,
    walk,
)
from iosim.cli.modes import MODES, Mode
from iosim.cli.replay import banner_closed
from iosim.config.checkpoint import Checkpoint
from iosim.config.handlers import ApplyContext, EachOf, Enter, Handler, Question, find_handler
from iosim.config.model import RunningConfig
from iosim.router import Router

ExecHandler = Callable[["Session", Match], str]
#: EXEC command handlers by grammar rule (filled by iosim.cli.exec_commands and features).
EXEC_HANDLERS: dict[str, ExecHandler] = {}


def exec_handler(*rules: str) -> Callable[[ExecHandler], ExecHandler]:
    """Register an EXEC (or show) command handler."""

    def register(fn: ExecHandler) -> ExecHandler:
        for rule in rules:
            EXEC_HANDLERS[rule] = fn
        return fn

    return register


Continuation = Callable[[str], str]

HISTORY_SIZE = 20  # lines kept per history (IOS: terminal history size)
#: The longest ``terminal length`` and widest ``terminal width`` IOS takes.
TERMINAL_MAX = 512


@dataclass
class Pending:
    """A question the router asked; the next line answers it."""

    prompt: str
    answer: Continuation
    echo: bool = True  # passwords are not echoed
    text: bool = False  # the answer is free text (banner lines): "@" lines belong to it
    command: str = ""  # the command that asked (named if answering it fails inside iosim)


def exec_banners(config: RunningConfig) -> str:
    """What a line prints when its EXEC starts without a login dialog (the console): the
    message of the day, then the exec banner, each after a blank line, and a blank line
    after them; "" when neither is set.  (The login banner belongs before a login dialog:
    a vty's, between the motd and ``Username:``.)"""
    shown = [text for text in (config.banner_motd, config.banner_exec) if text]
    return "".join(f"\n{text}\n" for text in shown) + ("\n" if shown else "")


@dataclass
class Session:
    """The state of one console: mode, privilege, terminal settings, history."""

    router: Router
    mode: str = "user"
    target: object = None
    terminal_length: int = 24
    terminal_width: int = 80
    #: ``terminal length`` / ``terminal width`` typed in this session: the client's window
    #: size (:meth:`window_changed`) no longer changes that setting
    length_typed: bool = False
    width_typed: bool = False
    monitor: bool = False
    line_name: str = "con 0"
    #: What was typed, by mode: IOS keeps one history for EXEC (user and privileged) and
    #: one for configuration mode and its sub-modes (see :attr:`history`).
    histories: dict[str, list[str]] = field(
        default_factory=lambda: {"exec": [], "config": []})
    pending: Pending | None = None
    last_error: CliError | None = None
    # An interactive console writes here what long commands print as they go (ping marks).
    stream: Callable[[str], None] | None = None
    # A command that fails inside iosim is undone (a config replay, where every line costs,
    # reports the line instead and goes on)
    undo_on_error: bool = True
    #: a configuration replayed (boot, copy): commands ask no questions
    replaying: bool = False
    #: who ``%SYS-5-CONFIG_I`` says configured (``console``, ``admin on vty0 (127.0.0.1)``)
    configured_by: str = "console"
    #: ends the session's connection (``exit`` on a vty); None on the console
    hangup: Callable[[], None] | None = None
    _pager_rest: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        from iosim import features

        features.load()

    def window_changed(self, width: int, height: int) -> None:
        """The client's terminal reported its size (telnet NAWS, an SSH pty or window
        change): the length and width follow it, as a vty does, except the ones typed
        with ``terminal length`` or ``terminal width`` here (``terminal length 0`` stays).
        A 0 (size not known) changes nothing; sizes stop at the commands' 512."""
        if height and not self.length_typed:
            self.terminal_length = min(height, TERMINAL_MAX)
        if width and not self.width_typed:
            self.terminal_width = min(width, TERMINAL_MAX)

    # ------------------------------------------------------------ prompt

    @property
    def mode_info(self) -> Mode:
        return MODES[self.mode]

    @property
    def prompt(self) -> str:
        if self.pending is not None:
            return self.pending.prompt
        return self.router.config.hostname + self.mode_info.suffix

    @property
    def privileged(self) -> bool:
        return self.mode != "user"

    @property
    def history(self) -> list[str]:
        """The lines typed in this kind of mode (EXEC, or configuration), oldest first, at
        most :data:`HISTORY_SIZE`: what ``show history`` lists and Up recalls."""
        return self.histories["config" if self.mode_info.is_config else "exec"]

    # ------------------------------------------------------------ input

    def feed(self, line: str) -> str:
        """Process one input line; return the router's output.

        Nothing typed ends the console: a line with a character no terminal sends gets the
        caret, and a command that fails inside iosim prints one ``%`` line (see
        ``iosim.cli.incidents``) with the running-config as it was before the command.
        """
        line = line.rstrip("\r\n")
        if "\r" in line or "\n" in line:  # a line end inside: IOS reads several lines
            return "".join(self.feed(part) for part in split_lines(line))
        bad = bad_character(line)
        if bad is not None:
            self.last_error = InvalidInput(bad)
            return self.last_error.render(len(self.prompt))
        if self.pending is not None:
            pending, self.pending = self.pending, None
            return self._guarded(pending.command, lambda: pending.answer(line))
        if line.endswith("\x1a"):
            # Ctrl-Z ends the line: the command typed before it runs, then configuration
            # mode ends (IOS's "End with CNTL/Z")
            out = self.feed(line[:-1]) if ios_strip(line[:-1]) else ""
            return out + (self.ctrl_z() if self.pending is None else "")
        if not ios_strip(line):
            return ""
        if line.endswith("?"):
            # '?' answers at once, a page at a time; a script's next line is a whole new line
            # (or, after a long list, the key that answers --More--).
            return self._guarded(line, lambda: self.page(self.help(line[:-1])))
        if line.lstrip(" \t").startswith("!") and self.mode_info.is_config:
            return ""
        history = self.history
        history.append(line)
        del history[:-HISTORY_SIZE]
        words = split_words(line)
        if (self.mode_info.is_config and len(words) >= 3 and len(words[0].text) >= 3
                and "banner".startswith(ascii_lower(words[0].text))
                and not banner_closed(line)):
            return self._banner_continue(line)
        return self.execute(line)

    def _guarded(self, command: str, run: Callable[[], str]) -> str:
        """``run()``, or IOS-style failure: whatever it changed undone, one ``%`` line."""
        router = self.router
        checkpoint = Checkpoint(router.config, self.target) if self.undo_on_error else None
        mode, target, saved = self.mode, self.target, router.saved_since_change
        last_change = router.last_change
        try:
            out = run()
        except Exception as exc:  # a bug in iosim: the lab and its configs carry on
            if checkpoint is not None:
                router.config = checkpoint.config  # a failed reload or copy may have swapped it
                checkpoint.restore()
                router.saved_since_change, router.last_change = saved, last_change
                router.network_changed()  # routes and addresses as the config says again
            self.mode, self.target, self.pending = mode, target, None
            self.last_error = internal_error(command, exc, device=self.router.name,
                                             mode=mode)
            return self.last_error.render(len(self.prompt))
        if checkpoint is not None:
            checkpoint.close()
        if self.pending is not None and not self.pending.command:
            self.pending.command = command
        return out

    def _banner_continue(self, text: str) -> str:
        """``banner motd #``: read lines until the delimiter comes back."""
        words = ios_split(text, 2)
        delim = words[2][:2] if words[2].startswith("^C") else words[2][:1]

        def more(line: str) -> str:
            joined = text + "\n" + line
            if banner_closed(joined):
                return self.execute(joined)
            return self._banner_continue(joined)

        self.pending = Pending("", more, text=True, command=text.split("\n", 1)[0])
        if "\n" in text:
            return ""
        return f"Enter TEXT message.  End with the character '{delim}'.\n"

    def interrupt(self) -> str:
        """Ctrl-C at the prompt, as IOS takes it: a question the router asked is dropped
        (a dialog such as the extended ping's ends, a ``[confirm]`` is not confirmed,
        ``--More--`` stops the output), except "Press RETURN to get started", which only
        Return answers; with no question, configuration mode ends as with Ctrl-Z, and in
        EXEC the line typed is abandoned. Returns what the router prints."""
        pending = self.pending
        if pending is not None:
            if not pending.prompt and not pending.text:  # Press RETURN to get started
                return ""
            self.pending, self._pager_rest = None, []
            return ""
        return self.ctrl_z()

    def ctrl_z(self) -> str:
        """Ctrl-Z: leave configuration mode from any depth."""
        if self.mode_info.is_config:
            return self._end_config()
        return ""

    def _end_config(self) -> str:
        self.mode, self.target = "exec", None
        self.router.log(f"%SYS-5-CONFIG_I: Configured from console by {self.configured_by}")
        return ""

    def execute(self, line: str, col_offset: int = 0) -> str:
        """Run a command line in the current mode (no dialogs, no history).

        A command that fails inside iosim changes nothing and prints one ``%`` line.
        """
        self.last_error = None
        return self._guarded(line, lambda: self._dispatch(line, col_offset))

    def _dispatch(self, line: str, col_offset: int) -> str:
        try:
            if self.mode_info.is_config:
                return self._configure(line)
            return self._exec(line)
        except CliError as e:
            if isinstance(e, InvalidInput):
                e = InvalidInput(e.col + col_offset)
            self.last_error = e.with_traceback(None)  # kept: no frames (see _configure)
            return e.render(len(self.prompt))

    # ------------------------------------------------------------ EXEC

    def _exec(self, line: str) -> str:
        start = self.mode_info.start
        try:
            m = parse(start, line)
        except InvalidInput as e:
            words = split_words(line)
            if words and e.col < words[0].col + len(words[0].text) and len(words) == 1:
                return self._unknown_command(words[0].text)
            raise
        except IncompleteCommand:
            if self._show_alone(start, line):
                return '% Type "show ?" for a list of subcommands\n'
            raise
        named = not_emulated_words(m.args)
        if named is not None:
            # an IOS word iosim does not build, wherever it is in the line (``show run |
            # redirect URL`` reduces to show_running, whose handler must not run)
            raise NotEmulated(named)
        handler = next((EXEC_HANDLERS[r] for r in m.rules if r in EXEC_HANDLERS), None)
        if handler is None:  # pragma: no cover - every exec rule has a handler
            raise IncompleteCommand()
        return handler(self, m)

    def _show_alone(self, start: str, line: str) -> bool:
        """Whether ``line`` is ``show`` (or an abbreviation of it) and nothing else."""
        words = split_words(line)
        if len(words) != 1:
            return False
        try:
            _, args = walk(start, line, words)
        except CliError:
            return False
        return [a.terminal for a in args] == ["SHOW"]

    def _unknown_command(self, word: str) -> str:
        if self.router.config.domain_lookup:
            return (f'Translating "{word}"...domain server (255.255.255.255)\n'
                    "% Unknown command or computer name, or unable to find computer address\n")
        return (f'Translating "{word}"\n'
                "% Unknown command or computer name, or unable to find computer address\n")

    # ------------------------------------------------------------ configuration

    def _configure(self, line: str) -> str:
        mode = self.mode_info
        first_error: CliError | None = None
        m: Match | None = None
        switched = mode
        # A line the sub-mode rejects is tried in its parent modes, as IOS does; a mode whose
        # commands cannot start with the line's first word is skipped without a full parse,
        # and so is a sub-mode whose commands that start with it cannot go on with the second
        # (``crypto isakmp`` in (config-if)#), with the error that parse would have raised.
        word = first_word(line)
        while True:
            caret = first_word_caret(switched.start, word)
            doomed = (_second_word_error(switched.start, line)
                      if caret is None and switched.parent is not None else None)
            if doomed is not None:
                if switched is mode:
                    first_error = doomed
            elif caret is None:
                try:
                    m = parse(switched.start, line)
                except CliError as e:
                    if switched is mode:
                        # kept past this block: without its traceback, whose frames (this
                        # one among them) would hold it in a cycle only the collector frees
                        first_error = e.with_traceback(None)
                else:
                    if first_error is not None and _misread_by_parent(first_error, m, line):
                        raise first_error
                    break
            elif switched is mode and starts_with_argument(mode.start):
                # A mode whose commands may begin with an argument (an ACL's sequence
                # number) used to parse every line in full, and its error is what
                # _misread_by_parent weighs: kept, as that parse raised it.
                first_error = InvalidInput(_first_word_col(line) + caret)
            if switched.parent is None:
                if first_error is None:  # IOS reports the error of the mode you are in
                    parse(mode.start, line)
                raise first_error or IncompleteCommand()
            switched = MODES[switched.parent]
        if m.command.endswith("_do"):
            return self._do(line, m)
        handler = find_handler(m)
        if handler is None:  # pragma: no cover - every config rule has a handler
            raise IncompleteCommand()
        target = self.target if switched is mode else None
        if isinstance(target, EachOf):
            ctx, result = self._apply_to_each(handler, m, target)
        else:
            ctx = ApplyContext(self.router, target, replaying=self.replaying)
            result = handler(ctx, m)
        if ctx.question is not None:
            self._ask(ctx.question)
        if switched is not mode:
            self.mode, self.target = switched.name, None
        if isinstance(result, Enter):
            if not MODES[result.mode].is_config:
                return "".join(ctx.out) + self._end_config()
            self.mode, self.target = result.mode, result.target
        else:
            self.router.mark_changed()
        return "".join(ctx.out)

    def _apply_to_each(self, handler: Handler, m: Match, group: EachOf
                       ) -> tuple[ApplyContext, Enter | None]:
        """A command typed in a mode that edits several objects (``(config-if-range)#``),
        applied to each member as if typed in its own mode: all or nothing, a member's
        rejection undoing the others' changes and reported once, each message printed
        once.  Returns a context holding what was printed, and the handler's result."""
        checkpoint = Checkpoint(self.router.config, group)
        shown = ApplyContext(self.router, group, replaying=self.replaying)
        result: Enter | None = None
        done: list[str] = []
        try:
            for member in group.members:
                done.append(member)
                ctx = ApplyContext(self.router, member, replaying=self.replaying)
                result = handler(ctx, m)
                shown.out += [text for text in ctx.out if text not in shown.out]
        except CliError:
            checkpoint.restore()
            for member in done:  # what followed the undone changes (OSPF, routes, crypto)
                if member in self.router.config.interfaces:  # looks at each one again
                    self.router.interface_changed(member)
            raise
        checkpoint.close()
        return shown, result

    def _ask(self, question: Question) -> None:
        """A configuration command's question: the next line answers it (and may ask the
        next one)."""

        def answer(text: str) -> str:
            ctx = ApplyContext(self.router, self.target)
            question.answer(text, ctx)
            if ctx.question is not None:
                self._ask(ctx.question)
            return "".join(ctx.out)

        self.pending = Pending(question.prompt, answer)

    def _do(self, line: str, m: Match) -> str:
        arg = m.arg("DO_LINE")
        assert arg is not None
        saved = self.mode
        self.mode = "exec"
        try:
            try:
                return self._exec(line[arg.col:])
            except InvalidInput as e:
                return InvalidInput(e.col + arg.col).render(len(self._prompt_for(saved)))
            except CliError as e:
                return e.render(len(self._prompt_for(saved)))
        finally:
            if self.mode == "exec":
                self.mode = saved

    def _prompt_for(self, mode: str) -> str:
        return self.router.config.hostname + MODES[mode].suffix

    # ------------------------------------------------------------ help and completion

    def _help_start(self, line: str) -> tuple[str, str, int]:
        """(start rule, text, column offset) that help applies to; handles ``do``."""
        start = self.mode_info.start
        words = split_words(line)
        if self.mode_info.is_config and words and ascii_lower(words[0].text) in _DO and (
                len(words) > 1 or line.endswith(" ")):
            rest_col = words[1].col if len(words) > 1 else len(line)
            return "exec_line", line[rest_col:], rest_col
        return start, line, 0

    def help(self, line: str) -> str:
        """What ``?`` prints after ``line`` (the text typed before the ``?``)."""
        start, text, offset = self._help_start(line)
        words = split_words(text)
        partial = "" if (not text or text[-1] in " \t") else words[-1].text
        full = words[:-1] if partial else words
        try:
            node, args = walk(start, text, full)
        except InvalidInput as e:
            return InvalidInput(e.col + offset).render(len(self.prompt))
        except IncompleteCommand as e:  # an interface type without its number
            numbers = self._interface_numbers(full[-1].text) if full else None
            return numbers if numbers is not None else e.render(len(self.prompt))
        except CliError as e:
            return e.render(len(self.prompt))
        named = not_emulated_words(args)
        if named is not None and (args[-1].terminal == NOT_EMULATED_REST
                                  or any(s.name == NOT_EMULATED_REST for s in node.args)):
            # the words of a command iosim does not emulate are complete: nothing to list
            return NotEmulated(named).render(len(self.prompt))
        if partial:
            return _completions(node, partial, self.terminal_width)
        title = self.mode_info.help_title if not full and not offset else ""
        if offset and not full:
            title = MODES["exec"].help_title
        return (title + "\n" if title else "") + _listing(node, self.terminal_width)

    def _interface_numbers(self, typed: str) -> str | None:
        """``interface Tunnel ?``: the numbers of the interface type ``typed`` names (IOS's
        ``<0-2147483647>  Tunnel interface number``; a slotted type's slots are those of the
        router's interfaces of that type), or None if ``typed`` names no one type."""
        found = [t for t in types_named(typed) if t.listed] if typed.isalpha() else []
        if len(found) != 1:
            return None
        t = found[0]
        high = t.max_unit
        if t.slotted:
            slots = [int(name[len(t.name):].split("/")[0])
                     for name in self.router.config.interfaces if interface_type(name) is t]
            high = max(slots, default=0)
        return _rows([(f"<0-{high}>", f"{t.name} interface number")], self.terminal_width)

    def complete(self, line: str) -> str | None:
        """Tab: the line with its last word completed, or None if not unique."""
        start, text, offset = self._help_start(line)
        words = split_words(text)
        if not words or text[-1] in " \t":
            return None
        try:
            node, _ = walk(start, text, words[:-1])
        except CliError:
            return None
        matches = node.keyword_matches(ascii_lower(words[-1].text))
        if len(matches) != 1 or matches[0].keyword is None:
            return None
        return line[: offset + words[-1].col] + matches[0].keyword + " "

    def candidates(self, line: str) -> list[str]:
        """Keywords that may complete the last word of ``line`` (for menus)."""
        start, text, _ = self._help_start(line)
        words = split_words(text)
        partial = "" if (not text or text[-1] in " \t") else words[-1].text
        try:
            node, _ = walk(start, text, words[:-1] if partial else words)
        except CliError:
            return []
        return [s.keyword for s in node.keyword_matches(ascii_lower(partial))
                if s.keyword and not s.hidden]

    # ------------------------------------------------------------ output paging

    def page(self, text: str) -> str:
        """Apply ``terminal length``: the first screen, the rest behind ``--More--``."""
        if self.terminal_length <= 0:
            return text
        lines = output_lines(text, keepends=True)
        if len(lines) < self.terminal_length:
            return text
        first, rest = lines[: self.terminal_length - 1], lines[self.terminal_length - 1:]
        self._pager_rest = rest
        self.pending = Pending(" --More-- ", self._more, echo=False)
        return "".join(first)

    def _more(self, key: str) -> str:
        rest, self._pager_rest = self._pager_rest, []
        if key.strip().lower() == "q":
            return ""
        if key == "":
            shown, rest = rest[:1], rest[1:]
        else:
            shown, rest = rest[: self.terminal_length - 1], rest[self.terminal_length - 1:]
        if rest:
            self._pager_rest = rest
            self.pending = Pending(" --More-- ", self._more, echo=False)
        return "".join(shown)


_TWO_WORDS = re.compile(r"[ \t]*([^ \t]+)[ \t]+([^ \t]+)")


def _second_word_error(start: str, line: str) -> InvalidInput | None:
    """The error of parsing ``line`` in mode ``start`` when its first two words already
    decide it (see ``second_word_caret``), or None when only a parse tells."""
    words = _TWO_WORDS.match(line)
    if words is None:
        return None
    caret = second_word_caret(start, words[1], words[2])
    return None if caret is None else InvalidInput(words.start(2) + caret)


def _first_word_col(line: str) -> int:
    """The column of the first word of ``line`` (words are separated by spaces and tabs)."""
    return len(line) - len(line.lstrip(BLANKS))


def _misread_by_parent(error: CliError, m: Match, line: str) -> bool:
    """Whether a parent mode took a line the sub-mode rejected for a command iosim does not
    emulate only because a word the sub-mode did know starts one (``authentication pre-shark``
    in ``(config-isakmp)#``: the caret under ``pre-shark`` is the answer, as on IOS)."""
    first = next((a for a in m.args if not_emulated(a.terminal)), None)
    if first is None:
        return False
    if not isinstance(error, InvalidInput):
        return True
    bad = next((w for w in reversed(split_words(line)) if w.col <= error.col), None)
    return bad is None or bad.col != first.col


def _label_width(items: list[tuple[str, str]]) -> int:
    return max((len(k) for k, _ in items), default=0)


#: The words that run the rest of a configuration line as an EXEC command.
_DO = ("do", "do-exec")


def _wrapped(prefix: str, text: str, width: int) -> list[str]:
    """``prefix`` then ``text``, its words wrapped as IOS wraps help to the terminal's
    width (no line as long as the width; the next lines under the first word)."""
    whole = (prefix + text).rstrip()
    words = text.split()
    if len(whole) < width or not words or width < len(prefix) + 20:
        return [whole]
    lines: list[str] = []
    line = prefix + words[0]
    for word in words[1:]:
        if len(line) + 1 + len(word) >= width:
            lines.append(line)
            line = " " * len(prefix) + word
        else:
            line += " " + word
    lines.append(line)
    return lines


def _rows(items: list[tuple[str, str]], width: int = 80, cr: bool = False) -> str:
    """IOS's two-column ``?`` listing of (label, help) rows, sorted by label."""
    items = sorted(items, key=lambda kv: kv[0])
    label_width = _label_width(items)
    out = [line for k, v in items for line in _wrapped(f"  {k.ljust(label_width)}  ", v, width)]
    if cr:
        out.append("  <cr>")
    return "\n".join(out) + "\n\n"


def _listing(node: Node, width: int = 80) -> str:
    """IOS's two-column ``?`` listing of what may follow."""
    items: list[tuple[str, str]] = []
    seen: set[str] = set()
    for spec in node.keywords + node.args:
        if spec.hidden or spec.label in seen:
            continue
        seen.add(spec.label)
        if spec.interface:
            items.extend((t.name, t.help) for t in INTERFACE_TYPES if t.listed)
            continue
        items.append((spec.label, spec.help))
    return _rows(items, width, cr=node.end_ok)


def _completions(node: Node, partial: str, width: int = 80) -> str:
    """``word?``: the keywords that start with ``word`` (wrapped at the terminal's width)."""
    words = [s.keyword for s in node.keyword_matches(ascii_lower(partial))
             if s.keyword and not s.hidden]
    if not words:
        for spec in node.args:
            if spec.hidden:
                continue
            if spec.interface and partial.isalpha():  # a type's name begun: the types
                words = sorted(t.name for t in types_named(partial) if t.listed)
                if words:
                    break
            elif spec.regex is not None and spec.regex.match(partial):
                words.append(spec.label)
                break
    if not words:
        return "% Unrecognized command\n"
    lines = [""]
    for word in words:
        if lines[-1] and width > 0 and len(lines[-1]) + len(word) + 2 >= width:
            lines.append("")
        lines[-1] += word + "  "
    return "\n".join(lines) + "\n\n"


_SECTION_INDENT = re.compile(r"^\s")


def apply_pipe(text: str, kind: str, regex: str) -> str:
    """``| include|exclude|begin|section|count REGEX`` on a command's output."""
    try:
        pattern = re.compile(regex)
    except re.error:
        pattern = re.compile(re.escape(regex))
    lines = output_lines(text)
    if kind == "include":
        kept = [ln for ln in lines if pattern.search(ln)]
    elif kind == "exclude":
        kept = [ln for ln in lines if not pattern.search(ln)]
    elif kind == "begin":
        kept = []
        for i, ln in enumerate(lines):
            if pattern.search(ln):
                kept = lines[i:]
                break
    elif kind == "count":
        n = sum(1 for ln in lines if pattern.search(ln))
        return f"Number of lines which match regexp = {n}\n"
    else:  # section
        kept = []
        keep = False
        for ln in lines:
            if not _SECTION_INDENT.match(ln):
                keep = bool(pattern.search(ln))
            if keep:
                kept.append(ln)
    return "".join(ln + "\n" for ln in kept)
