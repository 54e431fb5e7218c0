"""A dict that remembers which keys changed, so a durable copy can be updated in one go."""

from collections.abc import Iterator, MutableMapping
from typing import Any


class Tracked(MutableMapping[str, Any]):
    def __init__(self, initial: dict[str, Any] | None = None) -> None:
        self._data: dict[str, Any] = dict(initial or {})
        self._dirty: set[str] = set()

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._data[key] = value
        self._dirty.add(key)

    def __delitem__(self, key: str) -> None:
        del self._data[key]
        self._dirty.add(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def flush(self, durable: MutableMapping[str, Any]) -> int:
        """Write every key changed since the last flush into ``durable``; returns how many."""
        for key in self._dirty:
            if key in self._data:
                durable[key] = self._data[key]
            else:
                durable.pop(key, None)
        flushed = len(self._dirty)
        self._dirty.clear()
        return flushed
