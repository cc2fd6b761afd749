"""The demo's hook (jiketong.demo): a single instance has nothing to sync, so the federation adds no rows; its
province-side tables refer to customers and are emptied by `demo --reset`. `federation demo` (localdemo.py)
runs HQ and two provinces instead."""

from .models import NationalAssignment, OutboxRow, SharedGroup, SyncState

RESET_MODELS = [SharedGroup, NationalAssignment, OutboxRow, SyncState]


def generate(builder) -> None:
    return None
