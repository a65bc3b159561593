"""How an error in a template cell is shown (one IPython handler for every kernel): a user
error — bad params or bad data — as its message (file, key/column/row, the fix), anything else
as IPython's usual traceback. Under ``sqr run --max-memory`` the kernel also holds a small
reserve of address space, freed here first, so that even an error at the very edge of the
memory limit can still be formatted and reported (``cli/limits.py``)."""

from __future__ import annotations

from sqresearch.io.errors import UserInputError

_reserve: bytearray | None = None


def hold_reserve(nbytes: int) -> bool:
    """Take ``nbytes`` of address space (never touched, so never resident) to free on error."""
    global _reserve
    try:
        _reserve = bytearray(nbytes)
    except MemoryError:  # the kernel already uses more than its cap: the first cell will fail
        _reserve = None
    return _reserve is not None


def on_error(shell, etype, value, tb, tb_offset=None):
    """IPython's custom handler for every exception in a cell."""
    global _reserve
    _reserve = None
    if issubclass(etype, UserInputError):
        head, *rest = str(value).splitlines() or [""]
        stb = [f"{etype.__name__}: {head}", *rest]
        shell._showtraceback(etype, value, stb)  # the kernel reports it as this cell's error
        return stb
    shell.showtraceback((etype, value, tb), tb_offset=tb_offset, running_compiled_code=True)
    return None


def install() -> bool:
    """Register the handler in the running IPython (a no-op outside IPython)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with the notebook stack
        return False
    shell = get_ipython()
    if shell is None:
        return False
    shell.set_custom_exc((Exception,), on_error)
    return True
