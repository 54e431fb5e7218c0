"""The project-local development stack: a real Kafka broker and a real PostgreSQL, no Docker."""

from cxa.stack.errors import StackError
from cxa.stack.kafka import KafkaBroker
from cxa.stack.postgres import PostgresCluster
from cxa.stack.throwaway import free_port, throwaway_broker, throwaway_stack

__all__ = ["KafkaBroker", "PostgresCluster", "StackError", "free_port", "throwaway_broker", "throwaway_stack"]
