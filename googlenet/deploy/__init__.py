"""Fast inference: the fused inference graph, lower precision, compile, int8, exports,
and the side-by-side benchmark behind ``googlenet bench``."""

from .export import check_onnx, export_onnx, export_program, load_program
from .fuse import fold_bn, fuse_for_inference, strip_aux
from .optimize import (
    AUTO_PREFERENCE,
    PATHS,
    InferenceRunner,
    PathInfo,
    auto_path,
    build_path,
    needs_calibration,
    optimize_for_inference,
    unavailable_reason,
)

__all__ = [
    "AUTO_PREFERENCE", "PATHS", "InferenceRunner", "PathInfo", "auto_path", "build_path",
    "check_onnx", "export_onnx",
    "export_program", "fold_bn", "fuse_for_inference", "load_program",
    "needs_calibration", "optimize_for_inference", "strip_aux", "unavailable_reason",
]
