"""handoff/service: HandoffService is a thin facade over services with one job each."""

from __future__ import annotations

import inspect

import pytest

from handoff.service import (
    AgentService,
    AssignmentService,
    ConversationService,
    CustomerService,
    HandoffService,
    QueueService,
    SessionService,
    TicketService,
)
from handoff.service.base import ServiceBase

SERVICES = [
    ConversationService,
    QueueService,
    AssignmentService,
    AgentService,
    SessionService,
    TicketService,
    CustomerService,
]
SHARED = {name for name in vars(ServiceBase) if not name.startswith("_")}


def public(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in vars(cls).items()
        if inspect.isfunction(member) and not name.startswith("_") and name not in SHARED
    }


@pytest.mark.parametrize("service", SERVICES, ids=lambda cls: cls.__name__)
def test_every_public_method_of_a_service_is_on_the_facade_with_its_signature(service):
    facade = public(HandoffService)
    # ticket_row reads on the caller's connection: for the queue service only.
    for name, signature in public(service).items():
        if name == "ticket_row":
            continue
        assert name in facade, f"HandoffService.{name} is missing"
        assert facade[name] == signature, name


def test_each_method_is_on_one_service_only():
    seen: dict[str, str] = {}
    for service in SERVICES:
        for name in public(service):
            assert name not in seen, f"{name} is on {seen[name]} and {service.__name__}"
            seen[name] = service.__name__


async def test_the_services_share_one_engine_bus_and_clock(service):
    parts = service.parts()
    for part in (
        service.conversation_service,
        service.queue,
        service.assignment,
        service.agents,
        service.sessions,
        service.tickets,
    ):
        assert part.parts() == parts
    assert service.queue.assignment is service.agents.assignment is service.assignment
