"""The data a job trains on: 2-D points, images (digits), sequences (MNIST-1D), a table the user
uploaded and 2-parameter surfaces, each with its own bounds; and what every spec model shares (strict,
shallow)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, TypeGuard, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    model_validator,
)

from trainscope.schemas.registry import discriminated

Points2DName = Literal["circle", "xor", "gauss", "spiral", "moons", "plane", "multi_gauss"]
REGRESSION_DATASETS = frozenset({"plane", "multi_gauss"})  # TensorFlow Playground's two: a value to predict
# The inputs a 2-D model may see, as in TensorFlow Playground: computed from (x1, x2) inside the model
InputFeature = Literal["x1", "x2", "x1_sq", "x2_sq", "x1_x2", "sin_x1", "sin_x2"]
SurfaceObjective = Literal["linreg", "rosenbrock", "beale", "regression"]

Coordinate = Annotated[float, Field(ge=-10.0, le=10.0)]

DIGITS_SAMPLES = 1797  # scikit-learn's bundled 8x8 digits
MNIST1D_LENGTH = 40  # MNIST-1D's final sequence length (its paper's setup)


class Strict(BaseModel):
    # NaN and infinity are no setting: JSON has no spelling for them, and every bound would pass them
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _no_bool_for_a_number(cls, data: Any) -> Any:
        """pydantic takes false for 0 and true for 1 where a number is asked for (`"offset": [0, false]`);
        a spec's true and false are only for its yes-or-no settings. A true or false where the field
        takes none is swapped for a value no type accepts, so the field's own check refuses it at its
        place ("optim.steps: Input should be a valid integer"). (Pydantic's strict mode would also refuse
        a list for a tuple when a stored spec is read back.)"""
        if not isinstance(data, dict):
            return data
        fields = cls.model_fields
        return {
            name: value if name not in fields or _takes_bool(fields[name].annotation) else _no_bools(value)
            for name, value in data.items()
        }


def _takes_bool(annotation: Any) -> bool:
    """Whether a bool is a value of this type anywhere in it (bool, Any, a union with either...)."""
    if annotation is bool or annotation is Any:
        return True
    return any(_takes_bool(arg) for arg in get_args(annotation) if not isinstance(arg, str | int | float))


class BoolGiven:
    """Where a true or false stood in place of a number: a value no field type accepts."""

    def __init__(self, value: bool) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "true" if self.value else "false"


def _no_bools(value: Any) -> Any:
    """The value with each bool in it, or in a list of it, replaced (a nested object has its own model)."""
    if isinstance(value, bool):
        return BoolGiven(value)
    if isinstance(value, list | tuple):
        return [_no_bools(item) for item in value]
    return value


MAX_NESTING = 8  # a spec is a few objects deep; deeper input is refused, never walked by recursive code


def _shallow(value: Any) -> Any:
    """JSON nested at most MAX_NESTING levels (a grid value nested 900 deep is a 422, not a crash)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_NESTING:
            raise ValueError(f"nested more than {MAX_NESTING} levels deep")
        if isinstance(item, dict):
            stack += [(child, depth + 1) for child in item.values()]
        elif isinstance(item, list):
            stack += [(child, depth + 1) for child in item]
    return value


Shallow = Annotated[Any, AfterValidator(_shallow)]


class SplitData(Strict):
    """How a labelled dataset is split: train, validation, and optionally test and a second held-out set."""

    val_fraction: float = Field(0.3, ge=0.05, le=0.9)
    test_fraction: float = Field(0.0, ge=0.0, le=0.5, description="held out and scored once, at the end (test/*)")
    holdout_fraction: float = Field(
        0.0, ge=0.0, le=0.5, description="a second held-out set that nothing is ever chosen by (holdout/*)"
    )
    train_limit: int | None = Field(None, ge=1, description="train on only this many examples (null: all)")
    seed: int | None = Field(
        None, ge=0, le=2**31 - 1, description="seed of the data and its split (null: the job's seed)"
    )
    split_index: int = Field(
        0, ge=0, le=1000, description="which random split of the same data: 0, 1, 2... each draw a different one"
    )

    @property
    def n_samples(self) -> int:
        raise NotImplementedError

    def split_sizes(self) -> tuple[int, int, int, int]:
        """Examples in train, validation, test and holdout (train may come out below 1: a spec error)."""
        n = self.n_samples
        n_val = val_count(n, self.val_fraction)
        n_test, n_holdout = round(n * self.test_fraction), round(n * self.holdout_fraction)
        n_train = n - n_val - n_test - n_holdout
        if self.train_limit is not None:
            n_train = min(n_train, self.train_limit)
        return n_train, n_val, n_test, n_holdout


def _distinct(features: tuple[str, ...]) -> tuple[str, ...]:
    if len(set(features)) != len(features):
        raise ValueError("each input feature at most once")
    return features


class Points2DData(SplitData):
    """A generated 2-D dataset: two classes, or (plane, multi_gauss) a value in [-1, 1] to predict."""

    kind: Literal["points2d"] = "points2d"
    dataset: Points2DName = "circle"
    n_points: int = Field(500, ge=20)
    noise: float = Field(0.1, ge=0.0, le=1.0, description="standard deviation of the added noise")
    offset: tuple[Coordinate, Coordinate] = Field(
        (0.0, 0.0), description="shift of the whole cloud (data away from the origin shows what a bias is for)"
    )
    features: Annotated[tuple[InputFeature, ...], AfterValidator(_distinct)] = Field(
        ("x1", "x2"), min_length=1, max_length=7, description="what the model sees of each point (x1_sq: x1 squared)"
    )

    @property
    def n_samples(self) -> int:
        return self.n_points

    @property
    def in_features(self) -> int:
        return len(self.features)

    @property
    def regression(self) -> bool:
        return self.dataset in REGRESSION_DATASETS

    @property
    def n_outputs(self) -> int:
        return 1 if self.regression else 2


class DigitsData(SplitData):
    """scikit-learn's bundled 8x8 handwritten digits (no download), as they are or ("shifted digits")
    each placed at a random offset on a larger canvas: a CNN's filters find a stroke wherever it is, an
    MLP's weights only where they saw it."""

    kind: Literal["digits"] = "digits"
    canvas: int = Field(8, ge=8, le=32, description="side of the image each 8x8 digit is placed on")
    shift: int = Field(0, ge=0, le=12, description="training examples: at most this many pixels off centre")
    val_shift: int | None = Field(
        None, ge=0, le=12, description="validation, test and holdout examples (null: as for training)"
    )
    permute_pixels: bool = Field(
        False,
        description="one fixed shuffle of the pixel positions, the same for every example: no pixel is "
        "lost, but neighbours are no longer neighbours (an MLP cannot tell; a CNN relies on it)",
    )

    n_outputs: ClassVar[int] = 10
    regression: ClassVar[bool] = False

    @property
    def n_samples(self) -> int:
        return DIGITS_SAMPLES

    @property
    def in_features(self) -> int:
        return self.canvas * self.canvas

    @property
    def example_shape(self) -> tuple[int, int, int]:
        """Channels, height and width of each example (the flat rows a model shapes before convolving)."""
        return 1, self.canvas, self.canvas


class Mnist1DData(SplitData):
    """MNIST-1D (Greydanus & Kobak, ICML 2024): ten 1-D digit templates, each padded, scaled, translated, noised
    and sheared into a 40-point sequence, made offline by the `mnist1d` package; optionally with one fixed
    shuffle of the positions for every example, which keeps every value but destroys locality."""

    kind: Literal["mnist1d"] = "mnist1d"
    samples: int = Field(5000, ge=100, le=20_000, description="examples made (the paper: 5,000)")
    val_fraction: float = Field(0.2, ge=0.05, le=0.9)  # the paper's 4,000 / 1,000 split
    shuffle_positions: bool = Field(
        False,
        description="one fixed shuffle of the 40 positions, the same for every example: an MLP cannot "
        "tell; a CNN, whose filters read neighbouring positions, loses its advantage",
    )

    n_outputs: ClassVar[int] = 10
    regression: ClassVar[bool] = False
    in_features: ClassVar[int] = MNIST1D_LENGTH
    example_shape: ClassVar[tuple[int, int]] = (1, MNIST1D_LENGTH)  # channels, length

    @property
    def n_samples(self) -> int:
        return self.samples


@dataclass(frozen=True)
class UploadedRows:
    """An uploaded table's rows as the store keeps them and a worker receives them: row-major
    little-endian float32 features, and one float32 label per row (a class index, or a value)."""

    features: bytes
    labels: bytes


DATASET_ID = r"^[0-9a-f]{12}$"


class UploadedData(SplitData):
    """A table uploaded with POST /api/datasets: numeric features and a label column, a class per row or
    a value to predict. Two features make a plane, drawn with its decision boundary as the 2-D datasets."""

    kind: Literal["uploaded"] = "uploaded"
    dataset: str = Field(pattern=DATASET_ID, description="the id POST /api/datasets answered with")
    standardize: bool = Field(
        True,
        description="scale each feature to mean 0 and standard deviation 1 by the training rows' statistics "
        "(columns in different units otherwise train badly); off: as uploaded",
    )
    # What the table holds, filled in by the server from the stored table before the spec's rules are
    # checked (a client's values are replaced): a worker builds the model from the spec alone.
    n_rows: int = Field(0, ge=0, description="filled in by the server: the table's rows")
    n_features: int = Field(0, ge=0, description="filled in by the server: the feature columns")
    n_classes: int = Field(0, ge=0, description="filled in by the server: classes (0: a value to predict)")

    _rows: UploadedRows | None = PrivateAttr(None)

    @property
    def n_samples(self) -> int:
        return self.n_rows

    @property
    def in_features(self) -> int:
        return self.n_features

    @property
    def regression(self) -> bool:
        return self.n_classes == 0

    @property
    def n_outputs(self) -> int:
        return self.n_classes or 1

    def with_rows(self, rows: UploadedRows) -> UploadedData:
        """This spec with the table's rows attached (they are never part of the spec's JSON)."""
        copy = self.model_copy()
        copy._rows = rows
        return copy

    def rows(self) -> UploadedRows:
        if self._rows is None:
            raise RuntimeError(f"the rows of uploaded dataset {self.dataset} were not given to this process")
        return self._rows


class SurfaceData(Strict):
    """A problem on the parameters themselves: linear regression's weight and bias, or a classic optimizer
    test function (no data), whose whole loss surface can be drawn; or `regression`, least squares in `dims`
    weights (y = x . w + noise, x ~ N(0, I), |w| = 1, from w = 0), drawn when dims is 2."""

    kind: Literal["surface"] = "surface"
    objective: SurfaceObjective = "linreg"
    n_points: int = Field(200, ge=10, description="linear regression only: examples")
    noise: float = Field(0.3, ge=0.0, le=5.0, description="linear regression only: noise on y")
    dims: int = Field(2, ge=2, le=1000, description="regression only: weights to fit")
    seed: int | None = Field(None, ge=0, le=2**31 - 1, description="seed of the data (null: the job's seed)")

    in_features: ClassVar[int] = 1

    @property
    def n_samples(self) -> int:
        return self.n_points

    def split_sizes(self) -> tuple[int, int, int, int]:
        """Every example trains: the surface is the training loss."""
        return self.n_points, 0, 0, 0


LabelledData = Points2DData | DigitsData | Mnist1DData | UploadedData
PlanarData = Points2DData | UploadedData  # the kinds whose examples may be points in a plane
if TYPE_CHECKING:
    PlanarDataSpec = PlanarData
else:
    PlanarDataSpec = discriminated([Points2DData, UploadedData], "points2d")


def planar(data: object) -> TypeGuard[PlanarData]:
    """Points in a plane: the boundary, the data drawn before a run, a query at chosen points."""
    return isinstance(data, Points2DData) or (isinstance(data, UploadedData) and data.n_features == 2)


def val_count(n_samples: int, val_fraction: float) -> int:
    """Validation examples split off a dataset of n_samples; at least one on each side."""
    return min(n_samples - 1, max(1, round(n_samples * val_fraction)))
