class StackError(RuntimeError):
    """The stack cannot start or stop; the message says what is missing and how to fix it."""
