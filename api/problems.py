"""RFC 9457 problem details (``application/problem+json``): the one error shape every endpoint returns."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

PROBLEM_TYPE = "application/problem+json"


class FieldError(BaseModel):
    """One invalid input: where it is and what is wrong with it."""

    loc: list[str | int] = Field(description="Path to the input: `query`, `path` or `body`, then the field.")
    msg: str
    type: str = Field(description="Machine-readable error kind (pydantic's error type).")


class ProblemModel(BaseModel):
    """An error. `type` is a stable URI-like name to branch on; `detail` is for people."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": True})

    type: str = Field(default="about:blank", description="Stable error name, e.g. `urn:bithedge:rate-limited`.")
    title: str
    status: int = Field(ge=400, le=599)
    detail: str | None = None
    errors: list[FieldError] | None = Field(default=None, description="Each invalid input (validation errors).")


class Problem(Exception):
    """Raise from a handler (or anything it calls) to answer with problem+json.

    ``extra`` members are added to the body (e.g. ``rule="strike-band"`` for a refused quote); ``headers`` go on
    the response (e.g. ``Retry-After``).
    """

    def __init__(self, status: int, title: str, detail: str | None = None, *, type: str | None = None,
                 headers: dict[str, str] | None = None, errors: list[dict[str, Any]] | None = None,
                 **extra: Any) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.type = type or f"urn:bithedge:{title.lower().replace(' ', '-')}"
        self.headers = headers or {}
        self.errors = errors
        self.extra = extra

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status}
        if self.detail is not None:
            out["detail"] = self.detail
        if self.errors is not None:
            out["errors"] = self.errors
        out.update(self.extra)
        return out


def not_found(what: str) -> Problem:
    return Problem(404, "Not Found", f"no such {what}")
