"""The floor: live state of tickets and support agents, kept from events (a pure package)."""

from stream_processors.floor.board import Board, board
from stream_processors.floor.state import FloorState

__all__ = ["Board", "FloorState", "board"]
