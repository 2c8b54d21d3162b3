"""Every handler imports from the built layers with the runtime's Python, bytecode writing off, as
on Lambda (whose /opt and /var/task are read-only): nothing is compiled at import, nothing comes
from outside the function's code, its layers and the standard library, and the layers hold what
the repository pins. So a layer that would recompile on every cold start, or fail to import on
Lambda, fails here.

The artifacts are `make test`'s staging (build/lambda, the layers built by their own Makefiles)
or, with MEDIALIB_LAMBDA_BUILD=.aws-sam/build, what `make build` made with SAM.
"""

from __future__ import annotations

import filecmp
import os
import re
import subprocess
from dataclasses import replace
from functools import cache
from pathlib import Path

import pytest

from tests.artifacts.lambda_artifacts import (
    ROOT,
    STAGED,
    UNZIPPED_LIMIT,
    Function,
    functions,
    import_handler,
    layers,
    runtime_python,
    runtime_version,
    sizes,
)

BUILD = Path(os.environ.get("MEDIALIB_LAMBDA_BUILD", ROOT / "build" / "lambda")).resolve()
PYTHON = runtime_python()

pytestmark = [
    pytest.mark.lambda_build,
    pytest.mark.skipif(PYTHON is None, reason=f"no python{runtime_version()} on this machine"),
]


@pytest.fixture(scope="module")
def build() -> Path:
    staged = BUILD / STAGED
    sam_built = (BUILD / "template.yaml").exists()
    if not (staged.exists() or sam_built):
        pytest.fail(f"no Lambda artifacts in {BUILD}: `make test` stages them (make lambda-artifacts)")
    return BUILD


@cache
def _imported(function_id: str) -> dict:
    assert PYTHON is not None
    (function,) = [f for f in functions() if f.logical_id == function_id]
    return import_handler(PYTHON, BUILD, function)


def _under(path: str, roots: list[Path]) -> bool:
    return any(Path(path).is_relative_to(root) for root in roots)


@pytest.mark.parametrize("function", functions(), ids=lambda function: function.logical_id)
def test_the_handler_imports_from_its_layers_without_compiling_anything(build, function):
    result = _imported(function.logical_id)

    assert result["callable"], f"{function.handler} is not callable"
    artifacts = [build / function.logical_id, *(build / layer for layer in function.layers)]
    compiled_here = [path for path in result["compiled"] if _under(path, artifacts)]
    assert compiled_here == [], "compiled at import (no usable .pyc for the runtime's Python)"
    stdlib = Path(result["stdlib"]) / "lib"
    strays = [path for path in result["files"] if not _under(path, [*artifacts, stdlib])]
    assert strays == [], "imported from outside the function's code and layers"
    # The handler's own module comes from the function's code, the domain from the shared layer.
    loaded = {Path(path).name for path in result["files"] if _under(path, [build / function.logical_id])}
    assert f"{function.handler.split('.')[0]}.py" in loaded


def test_the_shared_layer_holds_the_current_domain_package(build):
    source = ROOT / "shared" / "medialib"
    built = build / "SharedLayer" / "python" / "medialib"
    sources = sorted(path.relative_to(source) for path in source.rglob("*.py"))

    assert sorted(path.relative_to(built) for path in built.rglob("*.py")) == sources
    stale = [str(path) for path in sources if not filecmp.cmp(source / path, built / path, shallow=False)]
    assert stale == [], "the artifacts are older than the code: stage them again"


@pytest.mark.parametrize(("layer", "directory"), [("DepsLayer", "deps"), ("MediaToolsLayer", "media_tools")])
def test_each_dependency_layer_holds_exactly_its_pinned_versions(build, layer, directory):
    pins = {}
    for line in (ROOT / "layers" / directory / "requirements.txt").read_text().splitlines():
        requirement = line.split("#", 1)[0].strip()
        if requirement:
            name, version = requirement.split("==")
            pins[_normalised(name)] = version
    installed = {}
    for dist_info in (build / layer / "python").glob("*.dist-info"):
        name, version = dist_info.name.removesuffix(".dist-info").rsplit("-", 1)
        installed[_normalised(name)] = version

    assert installed == pins


# What only processing loads, lazily, for the file kinds that need it.
PROCESSING_TOOLS = (
    "pillow_heif.register_heif_opener",
    "pypdfium2.PdfDocument",
    "imageio_ffmpeg.get_ffmpeg_exe",
)


def _processing_functions() -> list[Function]:
    return [f for f in functions() if "MediaToolsLayer" in f.layers]


def test_only_the_functions_that_process_files_carry_the_media_tools():
    assert sorted(f.logical_id for f in _processing_functions()) == ["ProcessFunction", "SweeperFunction"]


@pytest.mark.parametrize("function", _processing_functions(), ids=lambda function: function.logical_id)
@pytest.mark.parametrize("tool", PROCESSING_TOOLS)
def test_the_processing_functions_import_their_decoders_from_their_layers(build, function, tool):
    assert PYTHON is not None
    result = import_handler(PYTHON, build, replace(function, handler=tool))

    artifacts = [build / layer for layer in function.layers]
    assert result["callable"]
    assert [path for path in result["compiled"] if _under(path, artifacts)] == []
    stdlib = Path(result["stdlib"]) / "lib"
    assert [path for path in result["files"] if not _under(path, [*artifacts, stdlib])] == []


def test_the_media_tools_layer_holds_an_ffmpeg_that_runs_here(build):
    """The binary is the template's architecture (x86_64), executable as packed."""
    (binary,) = (build / "MediaToolsLayer" / "python" / "imageio_ffmpeg" / "binaries").glob("ffmpeg-*")
    version = subprocess.run([binary, "-version"], capture_output=True, check=True, timeout=30).stdout

    assert version.startswith(b"ffmpeg version 7.")


def test_every_built_module_has_bytecode_for_the_runtime(build):
    tag = f"cpython-{runtime_version().replace('.', '')}"
    built = [build / layer.logical_id for layer in layers()] + [build / f.logical_id for f in functions()]
    missing = [
        str(path)
        for root in built
        for path in root.rglob("*.py")
        if not (path.parent / "__pycache__" / f"{path.stem}.{tag}.pyc").exists()
    ]
    assert missing == []


def test_every_function_with_its_layers_fits_lambdas_unzipped_limit(build):
    totals = {function_id: sum(parts.values()) for function_id, parts in sizes(build).items()}
    over = {function_id: total for function_id, total in totals.items() if total >= UNZIPPED_LIMIT}

    assert totals and over == {}


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
