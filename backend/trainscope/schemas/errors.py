"""A broken rule of a spec, as every layer reports it (torch-free, imports nothing of ours)."""

from __future__ import annotations

from typing import Any


class SpecError(ValueError):
    """A broken rule: `loc` names the field, `msg` says why in English, and `kind` and `ctx` (pydantic's
    error type and context where one fits) let a page say it in its reader's language."""

    def __init__(
        self, loc: tuple[str | int, ...], msg: str, kind: str = "value_error", ctx: dict[str, Any] | None = None
    ) -> None:
        super().__init__(msg)
        self.loc, self.msg, self.kind, self.ctx = loc, msg, kind, ctx or {}

    def __reduce__(self) -> tuple[type[SpecError], tuple[Any, ...]]:  # crosses to and from a process whole
        return SpecError, (self.loc, self.msg, self.kind, self.ctx)

    def at(self, *prefix: str | int) -> SpecError:
        """The same error, its location inside a larger body."""
        return SpecError((*prefix, *self.loc), self.msg, self.kind, self.ctx)


def at_most(loc: tuple[str | int, ...], limit: int, what: str = "") -> SpecError:
    return SpecError(loc, f"at most {limit}{what}", "less_than_equal", {"le": limit})
