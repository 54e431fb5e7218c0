"""The floor: live state of tickets and support agents, kept from events (a pure package)."""

from stream_processors.floor.board import Board, board
from stream_processors.floor.state import FloorState
from stream_processors.floor.tracking import Tracked

__all__ = ["Board", "FloorState", "Tracked", "board"]
