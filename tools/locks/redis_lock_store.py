"""Rasa's Redis lock store with atomic ticket changes, for several Rasa servers.

Rasa Open Source's ``RedisLockStore`` keeps a conversation's ticket lock as one JSON value
and changes it by reading it, changing it in Python and writing it back. Two Rasa servers
doing that at the same moment for one conversation can both draw the same ticket, or one
can write back a lock without the ticket the other just added or removed: their turns
then interleave in the shared tracker store. :class:`AtomicRedisLockStore` makes every
such change (issue a ticket, drop expired ones, finish serving, clean up) one Redis
transaction: WATCH the key, read, change, MULTI/SET (or DEL)/EXEC, and start again when
another process changed the key in between. The lock itself is Rasa's ``TicketLock``
under Rasa's key, so ticket order, lifetimes and key prefixes stay Rasa's.

Rasa loads it by module path from the endpoints file (the Rasa server runs in the
project folder, as for the classifier ``config.yml`` names)::

    lock_store:
      type: tools.locks.redis_lock_store.AtomicRedisLockStore
      url: "10.0.0.7"
      port: 6379
      db: 1
"""

from __future__ import annotations

import json
import logging
from typing import Any, Callable, Optional, Tuple, TypeVar

import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

Result = TypeVar("Result")
# A change reads the stored lock (None: there is none) and returns the lock to store
# (None: delete it) and what the caller gets back.
Change = Callable[[Optional[TicketLock]], Tuple[Optional[TicketLock], Result]]

# Each lost attempt means another process's change went through, so the processes as a
# whole always progress; the bound only turns a pathological starvation into an error.
MAX_ATTEMPTS = 1000


class AtomicRedisLockStore(RedisLockStore):
    """``RedisLockStore`` whose read-modify-writes of one lock are atomic across processes."""

    def __init__(self, endpoint_config: EndpointConfig | None = None, **kwargs: Any) -> None:
        """Connect to Redis.

        Args:
            endpoint_config: the endpoints file's ``lock_store`` entry, as Rasa passes it
                to a lock store it loads by module path: ``url`` is the Redis host, the
                other keys (``port``, ``db``, ``password``, ``key_prefix``, ...) are
                ``RedisLockStore``'s arguments.
            kwargs: ``RedisLockStore``'s arguments, when built without an endpoints file.
        """
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url or "localhost", **endpoint_config.kwargs}
        super().__init__(**kwargs)

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """Add a ticket living ``lock_lifetime`` seconds to the conversation's lock
        (created when missing) and return its number."""

        def issue(lock: TicketLock | None) -> tuple[TicketLock, int]:
            lock = lock or self.create_lock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        logger.debug(f"Issuing ticket for conversation '{conversation_id}'.")
        try:
            return self._change(conversation_id, issue)
        except Exception as error:  # Rasa's contract: any failure here is a LockError
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: str) -> None:
        """Drop the lock's expired tickets (a waiter does this between its attempts), and
        the lock once no ticket is left.

        Rasa keeps an emptied lock, and a waiter whose own ticket expired then polls it
        for good (the first ticket of an empty lock reads as 0, never its number). With
        the lock gone, Rasa's waiter stops with a ``LockError``, as Rasa means it to when
        a lock expires."""
        lock = self.get_lock(conversation_id)
        if lock is None or (
            lock.tickets and not any(ticket.has_expired() for ticket in lock.tickets)
        ):
            # Rasa writes the lock back unchanged here; skipping that write spares the
            # other servers' transactions a retry on every poll of every waiter.
            return

        def drop_expired(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            if lock is None:
                return None, None
            lock.remove_expired_tickets()
            return (lock if lock.is_someone_waiting() else None), None

        self._change(conversation_id, drop_expired)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        """Remove ticket ``ticket_number`` from the lock."""

        def finish(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            if lock is not None:
                lock.remove_ticket_for(ticket_number)
            return lock, None

        self._change(conversation_id, finish)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Remove ticket ``ticket_number``, and the lock when no ticket is left.

        One transaction: with Rasa's two steps, a ticket another server issued between
        "no one is waiting" and the delete would be deleted with the lock."""

        def finish_and_drop_if_empty(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            if lock is None:
                return None, None
            lock.remove_ticket_for(ticket_number)
            return (lock if lock.is_someone_waiting() else None), None

        self._change(conversation_id, finish_and_drop_if_empty)

    def _change(self, conversation_id: str, change: Change[Result]) -> Result:
        """Apply ``change`` to the stored lock as one transaction; retry on conflict."""
        key = self.key_prefix + conversation_id
        with self.red.pipeline() as pipe:
            for _ in range(MAX_ATTEMPTS):
                try:
                    pipe.watch(key)
                    stored = pipe.get(key)
                    before = TicketLock.from_dict(json.loads(stored)) if stored else None
                    after, result = change(before)
                    if before is None and after is None:
                        pipe.unwatch()  # nothing stored, nothing to store
                        return result
                    pipe.multi()
                    if after is None:
                        pipe.delete(key)
                    else:
                        pipe.set(key, after.dumps())
                    pipe.execute()
                    if after is None:
                        self._log_deletion(conversation_id, deletion_successful=True)
                    return result
                except redis.WatchError:
                    continue  # another process changed the lock first: read it again
        raise LockError(
            f"The lock of conversation '{conversation_id}' changed under every one of "
            f"{MAX_ATTEMPTS} attempts to change it."
        )
