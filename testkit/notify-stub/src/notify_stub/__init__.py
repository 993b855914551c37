"""A GOV.UK Notify stand-in for tests, the benchmark and the fault suite; never part of a service image.

``python -m notify_stub --port 8199 --api-key KEY`` serves it standalone (see notify_stub.server).
"""

from notify_stub.faults import Fault, FaultKind
from notify_stub.records import SentNotification, make_api_key
from notify_stub.server import NotifyStub

__all__ = ["Fault", "FaultKind", "NotifyStub", "SentNotification", "make_api_key"]
