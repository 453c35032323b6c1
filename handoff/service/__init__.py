"""The service layer: every state change and query of the agent side.

Build one :class:`HandoffService` per process (``handoff.app.Desk.open`` puts it on
``app.ctx.handoff``) and call its coroutine methods. It is a facade over seven services
with one job each, built in dependency order and sharing one engine, bus and clock:
:class:`ConversationService`, :class:`TicketService`, :class:`SessionService`,
:class:`AssignmentService`, :class:`QueueService`, :class:`AgentService` and
:class:`CustomerService`.
"""

from __future__ import annotations

from typing import Any, Sequence

from sqlalchemy.ext.asyncio import AsyncEngine

from ..events import EventBus
from ..hours import OfficeHours
from ..messages import Messages
from ..routing import Routing, load_routing
from ..settings import Settings
from .agents import AgentService
from .assignment import AssignmentService
from .audit import Actor, AuditService
from .base import Clock, ServiceBase, utcnow
from .conversations import ConversationService
from .customers import CustomerService
from .errors import AuthFailed, Conflict, Forbidden, InvalidInput, NotFound, ServiceError
from .hours_admin import HoursService
from .labels import LabelService
from .notes import NoteService
from .queue import QueueService
from .replies import SavedReplyService
from .search import SearchService
from .sessions import SessionService
from .teams import TeamService
from .tickets import TicketService
from .types import (
    Agent,
    Conversation,
    ConversationDetail,
    Customer,
    CustomerCard,
    EnqueueResult,
    Handoff,
    Message,
    QueueItem,
    QueueStatus,
    Ticket,
)


class HandoffService(ServiceBase):
    """Conversations, queue, assignment, agents, sessions, tickets and CSAT in one object
    (each method hands the call to the service that does that job)."""

    def __init__(
        self,
        engine: AsyncEngine,
        bus: EventBus,
        settings: Settings,
        hours: OfficeHours | None = None,
        clock: Clock = utcnow,
        wording: Messages | None = None,
        routing: Routing | None = None,
    ) -> None:
        super().__init__(engine, bus, settings, hours, clock, wording)
        if routing is None:  # read once, like the wording
            routing = load_routing(settings.shop_file, settings.topics_file)
        self.conversation_service = ConversationService(*self.parts())
        self.tickets = TicketService(*self.parts())
        self.sessions = SessionService(*self.parts())
        self.assignment = AssignmentService(self, self.conversation_service)
        self.teams = TeamService(self, self.assignment, routing)
        self.queue = QueueService(self, self.assignment, self.tickets, self.teams)
        self.agents = AgentService(self, self.assignment, self.sessions)
        self.customers = CustomerService(*self.parts())
        # The team desk: used straight from the routes (``service.replies.create(...)``)
        # rather than through more facade methods.
        self.audit = AuditService(*self.parts())
        self.replies = SavedReplyService(*self.parts())
        self.notes = NoteService(*self.parts())
        self.labels = LabelService(*self.parts())
        self.search = SearchService(*self.parts())
        self.office_hours = HoursService(self, self._use_hours)

    def _use_hours(self, hours: OfficeHours) -> None:
        """Put new support hours in service in every part (only the queue reads them)."""
        for part in (self, *vars(self).values()):
            if isinstance(part, ServiceBase):
                part.hours = hours

    # ConversationService
    async def create_conversation(self) -> Conversation:
        """Start a conversation (state ``bot``) with a server-issued unguessable id."""
        return await self.conversation_service.create_conversation()

    async def get_conversation(self, conversation_id: str) -> Conversation:
        """The conversation, or :class:`NotFound`."""
        return await self.conversation_service.get_conversation(conversation_id)

    async def add_message(
        self,
        conversation_id: str,
        author: str,
        text: str,
        *,
        agent_id: int | None = None,
        buttons: list[dict[str, Any]] | None = None,
    ) -> Message:
        """Store a message and publish ``message.created`` after the commit."""
        return await self.conversation_service.add_message(
            conversation_id, author, text, agent_id=agent_id, buttons=buttons
        )

    async def add_messages(
        self,
        conversation_id: str,
        author: str,
        items: Sequence[tuple[str, list[dict[str, Any]] | None]],
        *,
        agent_id: int | None = None,
    ) -> list[Message]:
        """See :meth:`ConversationService.add_messages`."""
        return await self.conversation_service.add_messages(
            conversation_id, author, items, agent_id=agent_id
        )

    async def add_customer_message(self, conversation_id: str, text: str) -> tuple[Message, str]:
        """See :meth:`ConversationService.add_customer_message`."""
        return await self.conversation_service.add_customer_message(conversation_id, text)

    async def agent_reply(self, conversation_id: str, agent_id: int, text: str) -> Message:
        """An agent's answer in a conversation they own (see :meth:`add_message`)."""
        return await self.conversation_service.agent_reply(conversation_id, agent_id, text)

    async def messages_since(
        self, conversation_id: str, after_id: int = 0, limit: int = 500
    ) -> list[Message]:
        """Messages of a conversation with id > ``after_id``, oldest first."""
        return await self.conversation_service.messages_since(conversation_id, after_id, limit)

    async def unanswered_customer_messages(
        self, max_age_seconds: float = 86400, limit: int = 1000, min_age_seconds: float = 0.0
    ) -> list[Message]:
        """See :meth:`ConversationService.unanswered_customer_messages`."""
        return await self.conversation_service.unanswered_customer_messages(
            max_age_seconds, limit, min_age_seconds
        )

    async def conversation_detail(self, conversation_id: str) -> ConversationDetail:
        """The conversation, its latest handoff (with context) and the full transcript."""
        return await self.conversation_service.conversation_detail(conversation_id)

    async def messages_for_agent_since(
        self, agent_id: int, after_id: int, limit: int = 1000
    ) -> list[Message]:
        """See :meth:`ConversationService.messages_for_agent_since`."""
        return await self.conversation_service.messages_for_agent_since(agent_id, after_id, limit)

    async def conversations_of_agent(self, agent_id: int) -> list[Conversation]:
        """Conversations currently assigned to ``agent_id``, oldest first."""
        return await self.conversation_service.conversations_of_agent(agent_id)

    # CustomerService
    async def identify(
        self, conversation_id: str, external_id: str, name: str | None, email: str | None
    ) -> Customer:
        """See :meth:`CustomerService.identify` (only with a checked signature)."""
        return await self.customers.identify(conversation_id, external_id, name, email)

    async def recent_conversation(
        self, external_id: str, within_seconds: float
    ) -> Conversation | None:
        """See :meth:`CustomerService.recent_conversation`."""
        return await self.customers.recent_conversation(external_id, within_seconds)

    async def customer_card(self, conversation_id: str) -> CustomerCard:
        """See :meth:`CustomerService.customer_card`."""
        return await self.customers.customer_card(conversation_id)

    async def earlier_messages(self, conversation_id: str, earlier_id: str) -> list[Message]:
        """See :meth:`CustomerService.earlier_messages`."""
        return await self.customers.earlier_messages(conversation_id, earlier_id)

    async def customer_labels(self, conversation_ids: list[str]) -> dict[str, str]:
        """See :meth:`CustomerService.customer_labels`."""
        return await self.customers.customer_labels(conversation_ids)

    async def customer_name(self, conversation_id: str) -> str | None:
        """See :meth:`CustomerService.customer_name`."""
        return await self.customers.customer_name(conversation_id)

    # QueueService
    async def enqueue(
        self, conversation_id: str, reason: str, context: dict[str, Any] | None = None
    ) -> EnqueueResult:
        """Hand a conversation to a person, or open an offline ticket if nobody can answer."""
        return await self.queue.enqueue(conversation_id, reason, context)

    async def cancel(self, conversation_id: str) -> Conversation:
        """The customer leaves the queue: ``queued`` -> ``bot`` (no-op when already ``bot``)."""
        return await self.queue.cancel(conversation_id)

    async def queue_status(self, conversation_id: str) -> QueueStatus | None:
        """Position (1 = next) and estimated wait of a queued conversation, else None."""
        return await self.queue.queue_status(conversation_id)

    async def list_queue(self) -> list[QueueItem]:
        """Waiting chats, oldest first, with reason, wait so far and first message."""
        return await self.queue.list_queue()

    # AssignmentService
    async def claim(self, conversation_id: str, agent_id: int) -> Conversation:
        """An agent picks up a queued chat."""
        return await self.assignment.claim(conversation_id, agent_id)

    async def auto_assign(self) -> list[tuple[str, int]]:
        """Give waiting chats, oldest first, to the least busy online agents under cap."""
        return await self.assignment.auto_assign()

    async def reassign_unanswered(self) -> list[tuple[str, int]]:
        """Move chats whose agent has not answered within the reassign timeout."""
        return await self.assignment.reassign_unanswered()

    async def hand_back(self, conversation_id: str, agent_id: int) -> Conversation:
        """The agent returns the customer to the bot: ``assigned`` -> ``bot``."""
        return await self.assignment.hand_back(conversation_id, agent_id)

    async def close(
        self, conversation_id: str, agent_id: int | None = None, reason: str = "closed"
    ) -> Conversation:
        """End a conversation (``bot``/``queued``/``assigned`` -> ``closed``)."""
        return await self.assignment.close(conversation_id, agent_id, reason)

    # AgentService
    async def create_agent(
        self,
        login: str,
        name: str,
        password: str,
        max_chats: int | None = None,
        *,
        role: str = "agent",
        by: Actor = None,
        _allow_weak_password: bool = False,
    ) -> Agent:
        """Create an agent with a scrypt-hashed password (audited as made ``by``)."""
        return await self.agents.create_agent(
            login,
            name,
            password,
            max_chats,
            role=role,
            by=by,
            _allow_weak_password=_allow_weak_password,
        )

    async def ensure_demo_agent(self) -> Agent:
        """Create the ``demo``/``demo`` agent for demo mode only (idempotent)."""
        return await self.agents.ensure_demo_agent()

    async def get_agent(self, agent_id: int) -> Agent:
        """The agent with their current load, or :class:`NotFound`."""
        return await self.agents.get_agent(agent_id)

    async def get_agent_by_login(self, login: str) -> Agent:
        """The agent with this login, or :class:`NotFound`."""
        return await self.agents.get_agent_by_login(login)

    async def list_agents(self) -> list[Agent]:
        """All agents with their loads, by login."""
        return await self.agents.list_agents()

    async def authenticate(self, login: str, password: str) -> Agent:
        """Check a login and password; the same error for every failure on purpose."""
        return await self.agents.authenticate(login, password)

    async def set_availability(self, agent_id: int, online: bool) -> Agent:
        """Mark an agent online (taking chats) or away; online triggers auto-assign."""
        return await self.agents.set_availability(agent_id, online)

    async def touch_agent(self, agent_id: int) -> None:
        """Record that the agent's desk is still connected (presence heartbeat)."""
        return await self.agents.touch_agent(agent_id)

    async def disable_agent(self, login: str, *, by: Actor = None) -> Agent:
        """Disable an agent: they cannot log in and their open chats go back to the queue."""
        return await self.agents.disable_agent(login, by=by)

    async def reset_password(self, login: str, password: str, *, by: Actor = None) -> Agent:
        """See :meth:`AgentService.reset_password`."""
        return await self.agents.reset_password(login, password, by=by)

    async def update_agent(
        self,
        agent_id: int,
        *,
        name: str | None = None,
        max_chats: int | None = None,
        role: str | None = None,
        by: Actor = None,
    ) -> Agent:
        """See :meth:`AgentService.update_agent`."""
        return await self.agents.update_agent(
            agent_id, name=name, max_chats=max_chats, role=role, by=by
        )

    # SessionService
    async def open_session(self, agent_id: int) -> str:
        """Open a session for ``agent_id`` and return its signed token."""
        return await self.sessions.open_session(agent_id)

    async def check_session(self, session_id: str, agent_id: int) -> None:
        """Raise :class:`AuthFailed` unless the session is the agent's and still live."""
        return await self.sessions.check_session(session_id, agent_id)

    async def revoke_session(self, session_id: str) -> None:
        """End a session now (sign-out); its open desk websockets close."""
        return await self.sessions.revoke_session(session_id)

    async def revoke_agent_sessions(self, agent_id: int) -> int:
        """End every live session of an agent (a new password); returns how many."""
        return await self.sessions.revoke_agent_sessions(agent_id)

    # TicketService
    async def leave_contact(
        self, conversation_id: str, contact: object, message: str | None = None
    ) -> Ticket:
        """Keep the customer's contact details (and note) on their open offline ticket."""
        return await self.tickets.leave_contact(conversation_id, contact, message)

    async def mailed_up_to(self, conversation_id: str) -> int:
        """See :meth:`ConversationService.mailed_up_to`."""
        return await self.conversation_service.mailed_up_to(conversation_id)

    async def move_mailed_up_to(self, conversation_id: str, seen: int, to: int) -> bool:
        """See :meth:`ConversationService.move_mailed_up_to`."""
        return await self.conversation_service.move_mailed_up_to(conversation_id, seen, to)

    async def contacts_given(self, conversation_id: str) -> list[str]:
        """The contact details the customer left in this conversation (its tickets)."""
        return await self.tickets.contacts_given(conversation_id)

    async def has_ticket(self, conversation_id: str) -> bool:
        """True when the conversation has an offline ticket (open or done)."""
        return await self.tickets.has_ticket(conversation_id)

    async def list_tickets(self, state: str = "open") -> list[Ticket]:
        """Offline tickets in ``state`` (``open`` or ``done``), oldest first."""
        return await self.tickets.list_tickets(state)

    async def mark_ticket_done(self, ticket_id: int, agent_id: int) -> Ticket:
        """An agent has answered the ticket by email or phone."""
        return await self.tickets.mark_ticket_done(ticket_id, agent_id)

    async def record_csat(
        self, conversation_id: str, score: object, comment: str | None = None
    ) -> None:
        """Store the customer's 1-5 rating of a conversation (once per conversation)."""
        return await self.tickets.record_csat(conversation_id, score, comment)


__all__ = [
    "Agent",
    "AgentService",
    "AssignmentService",
    "AuditService",
    "AuthFailed",
    "Clock",
    "Conflict",
    "Conversation",
    "ConversationService",
    "ConversationDetail",
    "Customer",
    "CustomerCard",
    "CustomerService",
    "EnqueueResult",
    "Forbidden",
    "Handoff",
    "HandoffService",
    "InvalidInput",
    "LabelService",
    "NoteService",
    "SavedReplyService",
    "Message",
    "NotFound",
    "QueueItem",
    "QueueService",
    "QueueStatus",
    "ServiceError",
    "SearchService",
    "SessionService",
    "TeamService",
    "Ticket",
    "TicketService",
    "utcnow",
]
