"""The Lambda artifacts as `sam build` lays them out (one directory per function and per layer,
named by logical id), read from template.yaml: staged without SAM for the tests, measured, and
imported with the runtime's Python.

    python -m tests.artifacts.lambda_artifacts stage build/lambda      # layers by their Makefiles
    python -m tests.artifacts.lambda_artifacts compile .aws-sam/build  # functions' code, after SAM
    python -m tests.artifacts.lambda_artifacts sizes .aws-sam/build    # unzipped, < 250 MiB each
    python -m tests.artifacts.lambda_artifacts machine .aws-sam/build --arch arm64  # native code's
    python -m tests.artifacts.lambda_artifacts imports build/lambda    # import time per handler
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from devstack.cfn_yaml import read_template
from devstack.intrinsics import logical_id_of

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
STAGED = ".staged"  # written last by `stage`: make's target, and the sign staging finished
UNZIPPED_LIMIT = 250 * 1024 * 1024  # Lambda's limit for a function and all its layers, unzipped
COMPILE = ("-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash")
# Settings every function needs at cold start (shared/medialib/settings.py), as dummies.
DUMMY_SETTINGS = {
    "MEDIA_TABLE": "medialib-media",
    "TENANTS_TABLE": "medialib-tenants",
    "KEYS_TABLE": "medialib-api-keys",
    "IDEMPOTENCY_TABLE": "medialib-idempotency",
    "MEDIA_BUCKET": "medialib-media-123456789012-us-east-1",
    "MEDIA_BASE_URL": "https://cdn.example.com",
    "CURSOR_SIGNING_KEY": "dummy-cursor-signing-key-0123456789",
}
# Runs in the runtime's Python: imports the handler, counting every module compiled from source
# (the import system compiles only when no usable .pyc exists).
IMPORT_CHECK = """
import importlib, importlib.machinery, json, sys, time
compiled = []
_source_to_code = importlib.machinery.SourceFileLoader.source_to_code
def source_to_code(self, data, path, *args, **kwargs):
    compiled.append(str(path))
    return _source_to_code(self, data, path, *args, **kwargs)
importlib.machinery.SourceFileLoader.source_to_code = source_to_code
module_name, handler_name = sys.argv[1].rsplit(".", 1)
start, cpu_start = time.perf_counter(), time.process_time()
handler = getattr(importlib.import_module(module_name), handler_name)
elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
print(json.dumps({
    "import_ms": round(elapsed * 1000, 1),
    "import_cpu_ms": round(cpu * 1000, 1),
    "callable": callable(handler),
    "compiled": compiled,
    "files": sorted({getattr(m, "__file__", None) or "" for m in list(sys.modules.values())} - {""}),
    "stdlib": sys.base_prefix,
}))
"""


@dataclass(frozen=True)
class Function:
    logical_id: str
    code_uri: str
    handler: str
    layers: tuple[str, ...]  # logical ids, in the order Lambda merges them into /opt


@dataclass(frozen=True)
class Layer:
    logical_id: str
    content_uri: str
    build_method: str | None


@cache
def _template() -> dict[str, Any]:
    return read_template(TEMPLATE)


def functions() -> list[Function]:
    template = _template()
    globals_ = template.get("Globals", {}).get("Function", {})
    found = []
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        properties = resource["Properties"]
        # SAM appends a function's own Layers to the Globals' ones.
        layers = [*globals_.get("Layers", []), *properties.get("Layers", [])]
        found.append(
            Function(
                logical_id=logical_id,
                code_uri=properties.get("CodeUri", globals_.get("CodeUri")),
                handler=properties.get("Handler", globals_.get("Handler")),
                layers=tuple(logical_id_of(layer) for layer in layers),
            )
        )
    return found


def layers() -> list[Layer]:
    return [
        Layer(
            logical_id, resource["Properties"]["ContentUri"], resource.get("Metadata", {}).get("BuildMethod")
        )
        for logical_id, resource in _template()["Resources"].items()
        if resource["Type"] == "AWS::Serverless::LayerVersion"
    ]


def runtime_version() -> str:
    """The template's Python version (``python3.12`` → ``3.12``)."""
    return str(_template()["Globals"]["Function"]["Runtime"]).removeprefix("python")


def runtime_python(version: str | None = None) -> str | None:
    """An interpreter of the template's Python version: on PATH, else pyenv's; None if neither."""
    version = version or runtime_version()
    candidates = [shutil.which(f"python{version}")]
    pyenv = shutil.which("pyenv")
    if pyenv:
        root = subprocess.run([pyenv, "root"], capture_output=True, text=True, check=False).stdout.strip()
        candidates += sorted(glob.glob(f"{root}/versions/{version}.*/bin/python{version}"), reverse=True)
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    return None


def host_architecture() -> str:
    """This machine's architecture as Lambda names it (``x86_64`` or ``arm64``)."""
    machine = platform.machine().lower()
    return "arm64" if machine in ("aarch64", "arm64") else machine


def stage(destination: Path, python: str) -> None:
    """What `sam build` produces, without SAM: each makefile layer built by its Makefile, each
    function's code copied (without caches, as SAM's Python builder copies it) and compiled."""
    destination.mkdir(parents=True, exist_ok=True)
    for layer in layers():
        if layer.build_method != "makefile":
            raise SystemExit(f"{layer.logical_id}: only makefile layers can be staged without SAM")
        target = destination / layer.logical_id
        shutil.rmtree(target, ignore_errors=True)
        with tempfile.TemporaryDirectory() as scratch:  # SAM builds in a scratch copy too
            source = Path(scratch) / "source"
            shutil.copytree(ROOT / layer.content_uri, source, ignore=shutil.ignore_patterns("__pycache__"))
            # As SAM runs it: in the scratch copy, naming the original Makefile (its includes
            # resolve from there), for this machine's architecture so the import check can run.
            makefile = ROOT / layer.content_uri / "Makefile"
            subprocess.run(
                ["make", "--no-print-directory", "-f", str(makefile), f"build-{layer.logical_id}"],
                cwd=source,
                env={
                    **os.environ,
                    "ARTIFACTS_DIR": str(target.resolve()),
                    "LAMBDA_PYTHON": python,
                    "LAMBDA_ARCH": host_architecture(),
                },
                check=True,
            )
    for function in functions():
        target = destination / function.logical_id
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(
            ROOT / function.code_uri, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
    compile_functions(destination, python)
    (destination / STAGED).write_text(json.dumps({"python": python}) + "\n")


def compile_functions(build: Path, python: str) -> None:
    """Compiles every function's code for the runtime (SAM's Python builder copies sources only;
    the layers compile themselves in their Makefiles)."""
    subprocess.run([python, *COMPILE, *(str(build / f.logical_id) for f in functions())], check=True)


def tree_size(path: Path) -> int:
    return sum(
        entry.stat().st_size for entry in path.rglob("*") if entry.is_file() and not entry.is_symlink()
    )


def sizes(build: Path) -> dict[str, dict[str, int]]:
    """Unzipped bytes of every function's code and each of its layers, by logical id."""
    return {
        function.logical_id: {
            name: tree_size(build / name) for name in (function.logical_id, *function.layers)
        }
        for function in functions()
    }


def lambda_path(build: Path, function: Function) -> list[Path]:
    """sys.path as Lambda builds it: the code, then each layer's python/ directory."""
    build = build.resolve()
    return [build / function.logical_id, *(build / layer / "python" for layer in function.layers)]


def import_handler(
    python: str, build: Path, function: Function, settings: dict[str, str] | None = None
) -> dict[str, Any]:
    """Imports the function's handler in a fresh runtime interpreter with bytecode writing off
    and nothing but the function's code, its layers and the standard library on sys.path
    (``settings`` adds to or overrides its environment)."""
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": os.pathsep.join(str(path) for path in lambda_path(build, function)),
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_LAMBDA_FUNCTION_NAME": f"medialib-{function.logical_id}",
        "POWERTOOLS_SERVICE_NAME": "medialib",
        "POWERTOOLS_METRICS_NAMESPACE": "MediaLibrary",
        **DUMMY_SETTINGS,
        **(settings or {}),
    }
    # -S: no site-packages, so nothing installed on this machine can stand in for a layer.
    result = subprocess.run(
        [python, "-S", "-c", IMPORT_CHECK, function.handler],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if result.returncode != 0:
        raise AssertionError(f"{function.logical_id}: importing {function.handler} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def without_bytecode(build: Path, destination: Path) -> Path:
    """A copy of ``build`` with every .pyc removed: what the layers were before precompiling."""
    shutil.copytree(build, destination, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"), symlinks=True)
    return destination


# ELF's e_machine (bytes 18-19, little-endian) for Lambda's two architectures.
ELF_MACHINES = {62: "x86_64", 183: "arm64"}


def native_code_machines(build: Path) -> dict[str, set[Path]]:
    """Every ELF file (libraries, executables) in the built layers and functions, by the
    architecture it was compiled for: one wheel or binary for the wrong one fails on Lambda only
    when it is loaded, which an import check on another architecture cannot do."""
    found: dict[str, set[Path]] = {}
    for entry in build.rglob("*"):
        if not entry.is_file() or entry.is_symlink():
            continue
        with entry.open("rb") as file:
            header = file.read(20)
        if len(header) == 20 and header[:4] == b"\x7fELF":
            machine = int.from_bytes(header[18:20], "little")
            found.setdefault(ELF_MACHINES.get(machine, f"e_machine {machine}"), set()).add(entry)
    return found


def _print_machines(build: Path, arch: str) -> bool:
    machines = native_code_machines(build)
    for machine, files in sorted(machines.items()):
        flag = "" if machine == arch else f"  NOT {arch}: " + ", ".join(sorted(str(f) for f in files)[:5])
        print(f"{len(files)} native files for {machine}{flag}")
    return set(machines) <= {arch}


def _mib(size: int) -> str:
    return f"{size / 2**20:.1f} MiB" if size >= 2**20 else f"{size / 2**10:.1f} KiB"


def _print_sizes(build: Path) -> bool:
    within = True
    for function_id, parts in sizes(build).items():
        total = sum(parts.values())
        within &= total < UNZIPPED_LIMIT
        detail = ", ".join(f"{name} {_mib(size)}" for name, size in parts.items())
        flag = "" if total < UNZIPPED_LIMIT else "  OVER LAMBDA'S 250 MiB LIMIT"
        print(f"{function_id:<22} {_mib(total):>10} unzipped ({detail}){flag}")
    return within


def _print_imports(python: str, build: Path, runs: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        plain = without_bytecode(build, Path(scratch) / "plain")
        print(f"{'handler':<22} {'precompiled':>12} {'from source':>12}  (median of {runs}, ms)")
        # The yardstick of the cold-start target: boto3 alone, from the same dependency layer.
        baseline = Function("import boto3", "", "boto3.client", ("DepsLayer",))
        for function in [baseline, *functions()]:
            timings = {}
            for label, tree in (("precompiled", build), ("source", plain)):
                samples = sorted(import_handler(python, tree, function)["import_ms"] for _ in range(runs))
                timings[label] = samples[len(samples) // 2]
            print(f"{function.logical_id:<22} {timings['precompiled']:12.0f} {timings['source']:12.0f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("command", choices=["stage", "compile", "sizes", "machine", "imports"])
    parser.add_argument("build", type=Path, help="where the artifacts are (or go), one directory per id")
    parser.add_argument("--runs", type=int, default=5, help="imports: runs per handler and variant")
    parser.add_argument("--arch", default=host_architecture(), help="machine: x86_64 or arm64")
    args = parser.parse_args(argv)
    python = runtime_python()
    if args.command == "sizes":
        return 0 if _print_sizes(args.build) else 1
    if args.command == "machine":
        return 0 if _print_machines(args.build, args.arch) else 1
    if python is None:
        missing = f"python{runtime_version()} not found (on PATH or in pyenv)"
        print(f"{missing}: nothing to {args.command}", file=sys.stderr)
        # Staging is a step of `make test`, whose import check skips without that Python.
        return 0 if args.command == "stage" else 1
    if args.command == "stage":
        stage(args.build, python)
    elif args.command == "compile":
        compile_functions(args.build, python)
    else:
        _print_imports(python, args.build, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
