"""What every PlaneNet model takes and gives in the protocol's terms: its tensors and platform."""

from service.inference.schemas import ModelMetadata, TensorMetadata

PLATFORM = "planenet_numpy"
INPUT_NAME = "points"
PROBABILITIES = "probabilities"
LABELS = "labels"

INPUT = TensorMetadata(name=INPUT_NAME, datatype="FP64", shape=[-1, 2])
OUTPUTS = (
    TensorMetadata(name=PROBABILITIES, datatype="FP64", shape=[-1]),
    TensorMetadata(name=LABELS, datatype="INT64", shape=[-1]),
)
OUTPUT_NAMES = tuple(output.name for output in OUTPUTS)
OUTPUT_DATATYPES = {output.name: output.datatype for output in OUTPUTS}


def model_metadata(name: str) -> ModelMetadata:
    """The metadata of the model requested as ``name``: one [N, 2] input, two [N] outputs."""
    return ModelMetadata(name=name, platform=PLATFORM, inputs=[INPUT], outputs=list(OUTPUTS))
