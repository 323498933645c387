"""The event bus: one envelope, consumer groups, redelivery, dead letters, retention.

Drivers are chosen by name from the stevedore namespace ``dcsim.bus``.
"""

from dcsim.bus.base import DeadLetter, Delivery, EventBus

__all__ = ["DeadLetter", "Delivery", "EventBus"]
