"""The workshop room's messages: what the presenter shows, as followers are told of it."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

FormValue = (
    Annotated[str, StringConstraints(max_length=100)]
    | bool
    | Annotated[int, Field(ge=-(2**53), le=2**53)]
    | float
    | Annotated[list[Annotated[int, Field(ge=0, le=2**31)]], Field(max_length=32)]
    | Annotated[list[Annotated[str, StringConstraints(max_length=32)]], Field(max_length=32)]
    | Annotated[  # a CNN's convolutions: [{"channels": 8, "pool": "max"}, ...]
        list[
            dict[
                Annotated[str, StringConstraints(max_length=16)],
                Annotated[str, StringConstraints(max_length=16)] | Annotated[int, Field(ge=0, le=2**31)],
            ]
        ],
        Field(max_length=8),
    ]
    | None
)


class PresenterState(BaseModel):
    """The presenter's page, lesson and form, as their page reports it (PUT /api/room)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    page: Literal["playground", "lessons"]
    lesson: Annotated[str, StringConstraints(max_length=64)] | None = None
    # the run the presenter's playground shows (none: the data preview), so that a follower's charts
    # show that run and not the newest one they were told of
    job: Annotated[str, StringConstraints(pattern=r"^[\w-]{1,64}$")] | None = None
    values: Annotated[
        dict[Annotated[str, StringConstraints(max_length=64)], FormValue],
        Field(max_length=64, description="the playground form's flat values, path -> value"),
    ] = Field(default_factory=dict)
