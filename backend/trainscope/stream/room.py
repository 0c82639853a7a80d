"""The workshop room: what the presenter does, pushed to every follower as it happens.

Followers (/ws/room) are told of each run and each group the moment it is queued (however short the
run: polling every 2 s missed a 400-step run) and of the presenter's page, lesson and settings. The
newest message of each kind is kept (the presenter's state, their newest run, their newest group) and
is what a follower who arrives late is sent first. Messages
go through the hub like a job's events, so a slow follower never holds up the others.
"""

from __future__ import annotations

import json
from typing import Any

from trainscope.stream.hub import Hub, Published

ROOM = "room"  # the hub's key for the room (job ids are hex: no job has it)


class Room:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self._seq = 0
        self.latest: dict[str, Published] = {}  # kind -> the newest message of that kind

    def announce(self, kind: str, body: dict[str, Any]) -> None:
        """Tell every follower; kind: "presenter" (a newer one replaces an older one still queued),
        "job" (a run started on its own) or "group" (a lesson's or a sweep's runs)."""
        self._seq += 1
        item = Published(
            self._seq,
            json.dumps({"type": kind, "seq": self._seq, **body}, separators=(",", ":")),
            series=kind if kind == "presenter" else None,
        )
        self.latest[kind] = item
        self.hub.publish(ROOM, item)

    def catch_up(self) -> list[Published]:
        """What a follower arriving now is sent first: the newest of each kind, in order."""
        return sorted(self.latest.values(), key=lambda item: item.seq)
