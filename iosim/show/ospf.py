"""Pure renderers of OSPF's state, as IOS 15 prints it: ``show ip ospf``, ``show ip ospf
neighbor``, ``show ip ospf interface [brief|IF]``, ``show ip ospf database`` (the summary
of the LSDB) and ``show ip ospf database TYPE [LSID] [adv-router A.B.C.D|self-originate]``
(each LSA of a type in detail), and ``show ip protocols``.

Each takes the router and reads its :class:`~iosim.ospf.router_ospf.RouterOspf`
(``router.ospf_plane``): the engines' interfaces, neighbours, link-state databases and SPF
counters, and the running-config for what a process was told (``network`` statements,
passive interfaces). Times are the lab's virtual clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from iosim.net.packets import format_ip
from iosim.ospf.calculation import SPF_HOLD, SPF_MAX_WAIT, SPF_START
from iosim.ospf.config import ospf_config
from iosim.ospf.engine import OspfEngine
from iosim.ospf.interface import NetworkType, OspfInterface
from iosim.ospf.lsdb import MAX_AGE, Lsdb, LsdbEntry
from iosim.ospf.neighbor import Neighbor, NeighborState
from iosim.ospf.packets import (
    OPTION_DC,
    ROUTER_B,
    ROUTER_E,
    ROUTER_V,
    AsExternalLsa,
    AuType,
    LinkType,
    LsType,
    NetworkLsa,
    OspfError,
    RouterLsa,
    SummaryLsa,
)
from iosim.ospf.spf import (
    PathType,
    external_path,
    external_rank,
    reads_summaries,
    summary_path,
)
from iosim.show.durations import hms

if TYPE_CHECKING:
    from iosim.ospf.router_ospf import RouterOspf
    from iosim.router import Router

__all__ = ["LsaFilter", "show_ip_ospf", "show_ip_ospf_database", "show_ip_ospf_interface",
           "show_ip_ospf_interface_brief", "show_ip_ospf_neighbor", "show_ip_protocols"]


def _plane(router: Router) -> RouterOspf | None:
    from iosim.ospf.router_ospf import RouterOspf

    plane = router.ospf_plane
    return plane if isinstance(plane, RouterOspf) else None


def _engines(router: Router, pid: int | None = None) -> list[OspfEngine]:
    plane = _plane(router)
    if plane is None:
        return []
    return [e for p, e in sorted(plane.engines.items()) if pid is None or p == pid]


def _now(router: Router) -> float:
    return router.clock.now


def _area_name(area_id: int, text: str) -> str:
    return "BACKBONE(0)" if area_id == 0 else f"{text}"


def _hms_ms(seconds: float) -> str:
    """``00:01:02.345``."""
    s = max(0.0, seconds)
    return f"{hms(s)}.{int(s * 1000) % 1000:03d}"


# ---------------------------------------------------------------- neighbours


def _role(iface: OspfInterface, nbr: Neighbor) -> str:
    """What the neighbour is on the segment: ``DR``, ``BDR``, ``DROTHER``, or ``  -`` on a
    point-to-point network."""
    if iface.settings.network_type is NetworkType.POINT_TO_POINT:
        return "  -"
    if nbr.address == iface.dr:
        return "DR"
    if nbr.address == iface.bdr:
        return "BDR"
    return "DROTHER"


def show_ip_ospf_neighbor(router: Router, pid: int | None = None,
                          interface: str | None = None) -> str:
    """``show ip ospf neighbor [IF]``: one line per neighbour above Down."""
    engines = _engines(router, pid)
    if not engines:
        return ""
    now = _now(router)
    out = ["", "Neighbor ID     Pri   State           Dead Time   Address         Interface"]
    for engine in engines:
        for name, iface in engine.interfaces.items():
            if interface is not None and name != interface:
                continue
            for nbr in sorted(iface.neighbors.values(), key=lambda n: n.router_id):
                if nbr.state is NeighborState.DOWN:
                    continue
                state = f"{nbr.state.ios}/{_role(iface, nbr)}"
                # a point-to-point neighbour takes no part in an election: IOS shows 0
                priority = (0 if iface.settings.network_type is NetworkType.POINT_TO_POINT
                            else nbr.priority)
                out.append(f"{format_ip(nbr.router_id):<15} {priority:>3}   {state:<15} "
                           f"{hms(nbr.dead_at - now):<11} {format_ip(nbr.address):<15} {name}")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- interfaces


def _prefix(iface: OspfInterface) -> str:
    s = iface.settings
    return f"{format_ip(s.address)}/{bin(s.mask).count('1')}"


def show_ip_ospf_interface_brief(router: Router, pid: int | None = None) -> str:
    """``show ip ospf interface brief``."""
    engines = _engines(router, pid)
    if not engines:
        return ""
    out = ["Interface    PID   Area            IP Address/Mask    Cost  State Nbrs F/C"]
    for engine in engines:
        for iface in _ordered(router, engine):
            s = iface.settings
            full = sum(1 for n in iface.neighbors.values() if n.state is NeighborState.FULL)
            count = sum(1 for n in iface.neighbors.values() if n.state is not NeighborState.DOWN)
            out.append(f"{s.short:<12} {engine.process_id:<5} {s.area_text:<15} "
                       f"{_prefix(iface):<18} {s.cost:<5} {iface.state.brief:<5} "
                       f"{full}/{count}")
    return "\n".join(out) + "\n"


def _ordered(router: Router, engine: OspfEngine) -> list[OspfInterface]:
    """The engine's interfaces in the order IOS lists them (the most recently attached
    first, which after a boot is the reverse of the configuration's order)."""
    order = [i.name for i in router.config.sorted_interfaces()]
    found = [engine.interfaces[n] for n in order if n in engine.interfaces]
    return list(reversed(found))


def _index(engine: OspfEngine, iface: OspfInterface) -> str:
    """``Index a/p/p``: the interface's place among its area's interfaces and among the
    process's, in the order OSPF came up on them."""
    names = list(engine.interfaces)
    area = [n for n in names if engine.interfaces[n].settings.area == iface.settings.area]
    place = names.index(iface.name) + 1
    return f"{area.index(iface.name) + 1}/{place}/{place}"


def _interface_block(router: Router, engine: OspfEngine, iface: OspfInterface) -> list[str]:
    s = iface.settings
    now = _now(router)
    status, protocol = router.interface_up(s.name)
    via = "Interface Enable" if s.by_interface else "Network Statement"
    out = [f"{s.name} is {status}, line protocol is {protocol} ",
           f"  Internet Address {_prefix(iface)}, Area {s.area_text}, Attached via {via}",
           f"  Process ID {engine.process_id}, Router ID {format_ip(engine.router_id)}, "
           f"Network Type {s.network_type.value}, Cost: {s.cost}",
           "  Topology-MTID    Cost    Disabled    Shutdown      Topology Name",
           f"        0           {s.cost:<4}      no          no            Base"]
    if s.network_type is NetworkType.LOOPBACK:
        out.append("  Loopback interface is treated as a stub Host")
        return out
    out.append(f"  Transmit Delay is {s.transmit_delay} sec, State {iface.state.value}"
               + (f", Priority {s.priority}" if s.network_type is NetworkType.BROADCAST
                  else ""))
    if s.network_type is NetworkType.BROADCAST:
        if iface.dr:
            out.append(f"  Designated Router (ID) {format_ip(iface.dr_id)}, Interface address "
                       f"{format_ip(iface.dr)}")
        else:
            out.append("  No designated router on this network")
        if iface.bdr:
            out.append(f"  Backup Designated router (ID) {format_ip(iface.bdr_id)}, Interface "
                       f"address {format_ip(iface.bdr)}")
        else:
            out.append("  No backup designated router on this network")
    out += [f"  Timer intervals configured, Hello {s.hello_interval}, Dead {s.dead_interval}, "
            f"Wait {s.dead_interval}, Retransmit {s.retransmit_interval}",
            f"    oob-resync timeout {s.dead_interval}"]
    if s.passive:
        out.append("    No Hellos (Passive interface) ")
    else:
        due = engine.timers.get(("hello", s.name))
        if due is not None:
            out.append(f"    Hello due in {hms(due - now + 0.999)}")
    out += ["  Supports Link-local Signaling (LLS)", "  Cisco NSF helper support enabled",
            "  IETF NSF helper support enabled", f"  Index {_index(engine, iface)}, flood queue "
            "length 0",
            "  Next 0x0(0)/0x0(0)/0x0(0)", "  Last flood scan length is 1, maximum is 1",
            "  Last flood scan time is 0 msec, maximum is 0 msec"]
    up = [n for n in iface.neighbors.values() if n.state is not NeighborState.DOWN]
    adjacent = [n for n in up if n.state is NeighborState.FULL]
    out.append(f"  Neighbor Count is {len(up)}, Adjacent neighbor count is {len(adjacent)} ")
    for nbr in sorted(adjacent, key=lambda n: n.router_id):
        what = {"DR": "  (Designated Router)", "BDR": "  (Backup Designated Router)"}.get(
            _role(iface, nbr), "")
        out.append(f"    Adjacent with neighbor {format_ip(nbr.router_id)}{what}")
    out.append("  Suppress hello for 0 neighbor(s)")
    if s.auth.autype == AuType.CRYPTOGRAPHIC:
        out.append("  Cryptographic authentication enabled")
        if s.auth.keys:
            out.append(f"    Youngest key id is {s.auth.keys[-1][0]}")
    elif s.auth.autype == AuType.SIMPLE_PASSWORD:
        out.append("  Simple password authentication enabled")
    return out


def show_ip_ospf_interface(router: Router, pid: int | None = None,
                           interface: str | None = None) -> str:
    """``show ip ospf interface [IF]``: the interfaces OSPF runs on (an interface that runs
    none: ``%OSPF: OSPF not enabled on IF``)."""
    engines = _engines(router, pid)
    blocks: list[str] = []
    for engine in engines:
        for iface in _ordered(router, engine):
            if interface is None or iface.name == interface:
                blocks.append("\n".join(_interface_block(router, engine, iface)) + "\n")
    if interface is not None and not blocks:
        return f"%OSPF: OSPF not enabled on {interface}\n"
    return "".join(blocks)


# ---------------------------------------------------------------- database

#: LS type -> (section title, whether the area's name follows, extra column)
_SECTIONS = {LsType.ROUTER: ("Router Link States", True, " Link count"),
             LsType.NETWORK: ("Net Link States", True, ""),
             LsType.SUMMARY_NETWORK: ("Summary Net Link States", True, ""),
             LsType.SUMMARY_ASBR: ("Summary ASB Link States", True, ""),
             LsType.AS_EXTERNAL: ("Type-5 AS External Link States", False, " Tag")}
#: ``show ip ospf database KEYWORD`` -> the LS type it lists
DATABASE_KEYWORDS = {"router": LsType.ROUTER, "network": LsType.NETWORK,
                     "summary": LsType.SUMMARY_NETWORK, "asbr-summary": LsType.SUMMARY_ASBR,
                     "external": LsType.AS_EXTERNAL}


def _db_line(entry: LsdbEntry, now: float) -> str:
    h = entry.header
    line = (f"{format_ip(h.link_state_id):<15} {format_ip(h.advertising_router):<15} "
            f"{entry.age(now):<11} 0x{h.ls_sequence_number & 0xFFFFFFFF:08X} 0x{h.ls_checksum:06X}")
    try:
        body: object = entry.body()
    except OspfError:  # a body that does not decode is listed by its header alone
        body = None
    if isinstance(body, RouterLsa):
        line += f" {len(body.links)}"
    elif isinstance(body, AsExternalLsa):
        line += f" {body.external_route_tag}"
    return line


def _db_section(engine: OspfEngine, lsdb: Lsdb, ls_type: LsType, area: str | None,
                now: float, lsa_filter: LsaFilter) -> list[str]:
    entries = sorted((e for e in lsdb.of_type(ls_type) if lsa_filter.keeps(engine, e)),
                     key=lambda e: (e.header.link_state_id, e.header.advertising_router))
    if not entries:
        return []
    title, _, extra = _SECTIONS[ls_type]
    head = f"\t\t{title}" + (f" (Area {area})" if area is not None else "")
    return ["", head, "", "Link ID         ADV Router      Age         Seq#       Checksum"
            + extra, *(_db_line(e, now) for e in entries)]


@dataclass(frozen=True)
class LsaFilter:
    """Which LSAs ``show ip ospf database TYPE [LSID] [adv-router A.B.C.D|self-originate]``
    lists."""

    link_state_id: int | None = None
    advertising_router: int | None = None
    self_originate: bool = False

    def keeps(self, engine: OspfEngine, entry: LsdbEntry) -> bool:
        h = entry.header
        return ((self.link_state_id is None or h.link_state_id == self.link_state_id)
                and (self.advertising_router is None
                     or h.advertising_router == self.advertising_router)
                and (not self.self_originate or h.advertising_router == engine.router_id))


#: LS type -> (``LS Type:`` text, what follows the Link State ID)
_DETAIL_TYPES = {LsType.ROUTER: ("Router Links", ""),
                 LsType.NETWORK: ("Network Links", " (address of Designated Router)"),
                 LsType.SUMMARY_NETWORK: ("Summary Links(Network)", " (summary Network Number)"),
                 LsType.SUMMARY_ASBR: ("Summary Links(AS Boundary Router)",
                                       " (AS Boundary Router address)"),
                 LsType.AS_EXTERNAL: ("AS External Link", " (External Network Number )")}
#: router-LSA link type -> (what it connects to, what its Link ID is, what its Link Data is)
_LINK_TEXT: dict[int, tuple[str, str, str]] = {
    LinkType.POINT_TO_POINT: ("another Router (point-to-point)", "Neighboring Router ID",
                              "Router Interface address"),
    LinkType.TRANSIT: ("a Transit Network", "Designated Router address",
                       "Router Interface address"),
    LinkType.STUB: ("a Stub Network", "Network/subnet number", "Network Mask"),
    LinkType.VIRTUAL: ("a Virtual Link", "Neighboring Router ID", "Router Interface address")}
#: The DN bit of summary- and AS-external-LSAs' options (RFC 4576): IOS prints it as
#: "Downward", its absence as "Upward".
_OPTION_DN = 0x80
_OPTION_T = 0x01
_ROUTING_BIT = "  Routing Bit Set on this LSA in topology Base with MTID 0"
_NOT_REACHABLE = "  Adv Router is not-reachable in topology Base with MTID 0"


def _mask_bits(mask: int) -> int:
    return bin(mask).count("1")


def _options(ls_type: int, options: int) -> str:
    words = ["TOS-capability" if options & _OPTION_T else "No TOS-capability",
             "DC" if options & OPTION_DC else "No DC"]
    if ls_type in (LsType.SUMMARY_NETWORK, LsType.SUMMARY_ASBR, LsType.AS_EXTERNAL):
        words.append("Downward" if options & _OPTION_DN else "Upward")
    return f"({', '.join(words)})"


def _routing_bit(engine: OspfEngine, area_id: int | None, entry: LsdbEntry,
                 body: object, now: float) -> bool:
    """Whether the last calculation used the LSA for a route (IOS's "routing bit"): the
    router-LSA of a border router it reached, the network-LSA of a network it installed,
    a summary- or AS-external-LSA whose path is (one of) the best to its destination."""
    h = entry.header
    area = engine.areas.get(area_id) if area_id is not None else None
    if isinstance(body, RouterLsa):
        return area is not None and h.advertising_router in area.tree.routers
    if isinstance(body, NetworkLsa):
        route = engine.table.get((h.link_state_id & body.network_mask, body.network_mask))
        return (route is not None and route.path_type is PathType.INTRA_AREA
                and route.area == area_id and route.origin == h.advertising_router)
    if isinstance(body, SummaryLsa) and area is not None and area_id is not None:
        if not reads_summaries(area_id, engine.is_abr()):
            return False
        path = summary_path(engine.router_id, area_id, area.tree, entry, now)
        if h.ls_type == LsType.SUMMARY_ASBR:
            best = engine.asbr_paths.get(h.link_state_id)
        else:
            best = engine.table.get((h.link_state_id & body.network_mask, body.network_mask))
        return (path is not None and best is not None
                and best.path_type is PathType.INTER_AREA and best.area == area_id
                and best.cost == path.cost)
    if isinstance(body, AsExternalLsa):
        path = external_path(engine.router_id, entry, now, engine.asbr_paths.get)
        route = engine.table.get((h.link_state_id & body.network_mask, body.network_mask))
        return (path is not None and route is not None
                and route.path_type in (PathType.EXTERNAL_1, PathType.EXTERNAL_2)
                and external_rank(route) == external_rank(path))
    return False


def _router_body(body: RouterLsa) -> list[str]:
    out = []
    if body.flags & ROUTER_B:
        out.append("  Area Border Router")
    if body.flags & ROUTER_E:
        out.append("  AS Boundary Router")
    if body.flags & ROUTER_V:
        out.append("  Virtual Link Endpoint")
    out += [f"  Number of Links: {len(body.links)}", ""]
    for link in body.links:
        what, link_id, link_data = _LINK_TEXT.get(link.link_type, _LINK_TEXT[LinkType.STUB])
        out += [f"    Link connected to: {what}",
                f"     (Link ID) {link_id}: {format_ip(link.link_id)}",
                f"     (Link Data) {link_data}: {format_ip(link.link_data)}",
                "      Number of MTID metrics: 0",
                f"       TOS 0 Metrics: {link.metric}", ""]
    return out + [""]


def _body_lines(body: object) -> list[str]:
    """The lines of an LSA's body, and the blank line(s) that close it."""
    if isinstance(body, RouterLsa):
        return _router_body(body)
    if isinstance(body, NetworkLsa):
        return ([f"  Network Mask: /{_mask_bits(body.network_mask)}"]
                + [f"        Attached Router: {format_ip(r)}" for r in body.attached_routers]
                + [""])
    if isinstance(body, SummaryLsa):
        return [f"  Network Mask: /{_mask_bits(body.network_mask)}",
                f"        MTID: 0         Metric: {body.metric} ", ""]
    if isinstance(body, AsExternalLsa):
        kind = ("2 (Larger than any link state path)" if body.type2
                else "1 (Comparable directly to link state metric)")
        return [f"  Network Mask: /{_mask_bits(body.network_mask)}",
                f"        Metric Type: {kind}",
                "        MTID: 0 ",
                f"        Metric: {body.metric} ",
                f"        Forward Address: {format_ip(body.forwarding_address)}",
                f"        External Route Tag: {body.external_route_tag}", ""]
    return [""]


def _lsa_detail(engine: OspfEngine, area_id: int | None, entry: LsdbEntry,
                now: float, reached: set[int]) -> list[str]:
    """One LSA as ``show ip ospf database TYPE`` prints it: its header field by field,
    then its body. ``reached``: the routers this one reaches, where the LSA's scope is."""
    h = entry.header
    try:
        body: object = entry.body()
    except OspfError:  # a body that does not decode is shown by its header alone
        body = None
    age = entry.age(now)
    type_text, id_text = _DETAIL_TYPES[LsType(h.ls_type)]
    if h.advertising_router not in reached:
        out = [_NOT_REACHABLE]
    else:
        out = [_ROUTING_BIT] if _routing_bit(engine, area_id, entry, body, now) else []
    out += [f"  LS age: {f'MAXAGE({age})' if age >= MAX_AGE else age}",
            f"  Options: {_options(h.ls_type, h.options)}",
            f"  LS Type: {type_text}",
            f"  Link State ID: {format_ip(h.link_state_id)}{id_text}",
            f"  Advertising Router: {format_ip(h.advertising_router)}",
            f"  LS Seq Number: {h.ls_sequence_number & 0xFFFFFFFF:08X}",
            f"  Checksum: 0x{h.ls_checksum:X}",
            f"  Length: {h.length}"]
    return out + _body_lines(body)


def _detail_section(engine: OspfEngine, lsdb: Lsdb, ls_type: LsType, area_id: int | None,
                    area: str | None, now: float, lsa_filter: LsaFilter) -> list[str]:
    entries = sorted((e for e in lsdb.of_type(ls_type) if lsa_filter.keeps(engine, e)),
                     key=lambda e: (e.header.link_state_id, e.header.advertising_router))
    if not entries:
        return []
    title = _SECTIONS[ls_type][0]
    out = ["", f"\t\t{title}" + (f" (Area {area})" if area is not None else ""), ""]
    reached = _reached(engine, area_id, now)
    for entry in entries:
        out += _lsa_detail(engine, area_id, entry, now, reached)
    return out


def _reached(engine: OspfEngine, area_id: int | None, now: float) -> set[int]:
    """The routers this one reaches: in the area, or (``None``, the AS's scope) in any
    area, and the AS boundary routers it has a path to."""
    calculation = engine.calculation
    if area_id is not None:
        return calculation.reachable_routers(area_id, now) | {engine.router_id}
    reached = {engine.router_id, *engine.asbr_paths}
    for other in engine.areas:
        reached |= calculation.reachable_routers(other, now)
    return reached


def show_ip_ospf_database(router: Router, pid: int | None = None,
                          ls_type: LsType | None = None,
                          lsa_filter: LsaFilter | None = None) -> str:
    """``show ip ospf database``: the headers of each area's LSAs by type, then the AS's
    external LSAs. With a type (``router|network|summary|asbr-summary|external``), each
    LSA of that type in detail. Either way only those ``lsa_filter`` keeps (a Link State
    ID, an advertising router, the router's own)."""
    now = _now(router)
    out: list[str] = []
    for engine in _engines(router, pid):
        out += ["", f"            OSPF Router with ID ({format_ip(engine.router_id)}) "
                f"(Process ID {engine.process_id})"]
        keep = lsa_filter or LsaFilter()
        if ls_type is not None:
            out += _detail_lines(engine, ls_type, keep, now)
            continue
        for _, area in sorted(engine.areas.items()):  # area by area, as IOS lists them
            for t in _SECTIONS:
                if t is not LsType.AS_EXTERNAL:
                    out += _db_section(engine, area.lsdb, t, area.text, now, keep)
        out += _db_section(engine, engine.external, LsType.AS_EXTERNAL, None, now, keep)
    if not out:
        return ""
    # the summary's last line is a table row; a detailed LSA ends in its blank line(s)
    return "\n".join(out) + ("\n" if ls_type is not None else "\n\n")


def _detail_lines(engine: OspfEngine, ls_type: LsType, lsa_filter: LsaFilter,
                  now: float) -> list[str]:
    if ls_type is LsType.AS_EXTERNAL:
        return _detail_section(engine, engine.external, ls_type, None, None, now, lsa_filter)
    out: list[str] = []
    for area_id, area in sorted(engine.areas.items()):
        out += _detail_section(engine, area.lsdb, ls_type, area_id, area.text, now,
                               lsa_filter)
    return out


# ---------------------------------------------------------------- the process


def _process_lines(router: Router, engine: OspfEngine) -> list[str]:
    now = _now(router)
    process = ospf_config(router.config).processes.get(engine.process_id)
    reference = process.reference_mbps if process is not None else 100
    out = [f' Routing Process "ospf {engine.process_id}" with ID '
           f"{format_ip(engine.router_id)}",
           f" Start time: {_hms_ms(engine.started_at - router.boot_time)}, "
           f"Time elapsed: {_hms_ms(now - engine.started_at)}",
           " Supports only single TOS(TOS0) routes", " Supports opaque LSA",
           " Supports Link-local Signaling (LLS)", " Supports area transit capability",
           " Supports NSSA (compatible with RFC 3101)",
           " Supports Database Exchange Summary List Optimization (RFC 5243)",
           " Event-log enabled, Maximum number of events: 1000, Mode: cyclic"]
    if engine.is_abr():
        out.append(" It is an area border router")
    if engine.is_asbr():
        out.append(" It is an autonomous system boundary router")
        out.append(" Redistributing External Routes from,")
    out += [" Router is not originating router-LSAs with maximum metric",
            f" Initial SPF schedule delay {int(SPF_START * 1000)} msecs",
            f" Minimum hold time between two consecutive SPFs {int(SPF_HOLD * 1000)} msecs",
            f" Maximum wait time between two consecutive SPFs {int(SPF_MAX_WAIT * 1000)} msecs",
            " Incremental-SPF disabled", " Minimum LSA interval 5 secs",
            " Minimum LSA arrival 1000 msecs", " LSA group pacing timer 240 secs",
            " Interface flood pacing timer 33 msecs", " Retransmission pacing timer 66 msecs",
            " EXCHANGE/LOADING adjacency limit: initial 300, process maximum 300",
            f" Number of external LSA {len(engine.external)}. Checksum Sum "
            f"0x{engine.external.checksum_sum():06X}",
            " Number of opaque AS LSA 0. Checksum Sum 0x000000",
            " Number of DCbitless external and opaque AS LSA 0",
            " Number of DoNotAge external and opaque AS LSA 0",
            f" Number of areas in this router is {len(engine.areas)}. {len(engine.areas)} "
            "normal 0 stub 0 nssa",
            " Number of areas transit capable is 0", " External flood list length 0",
            " IETF NSF helper support enabled", " Cisco NSF helper support enabled",
            f" Reference bandwidth unit is {reference} mbps"]
    for area_id, area in sorted(engine.areas.items()):
        count = sum(1 for i in engine.interfaces.values() if i.settings.area == area_id)
        auth = {AuType.NULL: "Area has no authentication",
                AuType.SIMPLE_PASSWORD: "Area has simple password authentication",
                AuType.CRYPTOGRAPHIC: "Area has message digest authentication"}.get(
            AuType(area.authentication), "Area has no authentication")
        last = ("SPF algorithm last executed " + _hms_ms(now - area.spf_last) + " ago"
                if area.spf_last is not None else "SPF algorithm has not been run")
        out += [f"    Area {_area_name(area_id, area.text)}",
                f"        Number of interfaces in this area is {count}",
                f"        {auth}", f"        {last}",
                f"        SPF algorithm executed {area.spf_runs} times",
                "        Area ranges are",
                f"        Number of LSA {len(area.lsdb)}. Checksum Sum "
                f"0x{area.lsdb.checksum_sum():06X}",
                "        Number of opaque link LSA 0. Checksum Sum 0x000000",
                "        Number of DCbitless LSA 0", "        Number of indication LSA 0",
                "        Number of DoNotAge LSA 0", "        Flood list length 0", ""]
    return out


def show_ip_ospf(router: Router, pid: int | None = None) -> str:
    """``show ip ospf [N]``: each process's parameters, timers and areas."""
    blocks = ["\n".join(_process_lines(router, e)) + "\n" for e in _engines(router, pid)]
    return "".join(blocks)


_APPLICATION = """\
Routing Protocol is "application"
  Sending updates every 0 seconds
  Invalid after 0 seconds, hold down 0, flushed after 0
  Outgoing update filter list for all interfaces is not set
  Incoming update filter list for all interfaces is not set
  Maximum path: 32
  Routing for Networks:
  Routing Information Sources:
    Gateway         Distance      Last Update
  Distance: (default is 4)

"""


def show_ip_protocols(router: Router) -> str:
    """``show ip protocols``: IOS's ``application`` pseudo-protocol, then each OSPF
    process: router ID, areas, networks, interfaces enabled by ``ip ospf``, passive
    interfaces and the routers its routes came from."""
    out = ["*** IP Routing is NSF aware ***\n\n", _APPLICATION]
    processes = ospf_config(router.config).processes
    now = _now(router)
    for engine in _engines(router):
        process = processes.get(engine.process_id)
        if process is None:
            continue
        lines = [f'Routing Protocol is "ospf {engine.process_id}"',
                 "  Outgoing update filter list for all interfaces is not set",
                 "  Incoming update filter list for all interfaces is not set",
                 f"  Router ID {format_ip(engine.router_id)}"]
        if engine.is_abr():
            lines.append("  It is an area border router")
        if engine.is_asbr():
            lines.append("  It is an autonomous system boundary router")
        lines += [f"  Number of areas in this router is {len(engine.areas)}. "
                  f"{len(engine.areas)} normal 0 stub 0 nssa",
                  "  Maximum path: 4", "  Routing for Networks:"]
        lines += [f"    {format_ip(n.address)} {format_ip(n.wildcard)} area {n.area_text}"
                  for n in process.networks]
        by_area: dict[str, list[str]] = {}
        for iface in _ordered(router, engine):
            if iface.settings.by_interface:
                by_area.setdefault(iface.settings.area_text, []).append(iface.name)
        for area_text, names in by_area.items():
            lines.append(f"  Routing on Interfaces Configured Explicitly (Area {area_text}):")
            lines += [f"    {n}" for n in names]
        passive = [i.name for i in router.config.sorted_interfaces()
                   if process.is_passive(i.name)]
        if passive:
            lines.append("  Passive Interface(s):")
            lines += [f"    {n}" for n in passive]
        lines += ["  Routing Information Sources:",
                  "    Gateway         Distance      Last Update"]
        sources: dict[int, float] = {}
        for key, path in engine.table.items():
            if path.attached or not path.origin:
                continue
            since = engine.route_times[key].since
            sources[path.origin] = min(sources.get(path.origin, since), since)
        for origin, since in sorted(sources.items()):
            lines.append(f"    {format_ip(origin):<15} {110:>8}      {hms(now - since)}")
        lines += ["  Distance: (default is 110)", ""]
        out.append("\n".join(lines) + "\n")
    return "".join(out)

