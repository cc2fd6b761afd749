"""The kernel's background tasks by the dotted paths they were first queued under.

Each task is declared next to the work it runs (core.events.handle_event and handle_events, core.exports.run_export),
so that module can queue it without a circle of imports; rows the task worker has not run yet still name these
paths, which therefore stay. Queue and call them from where they are declared."""

from .events import handle_event, handle_events
from .exports import run_export

__all__ = ["handle_event", "handle_events", "run_export"]
