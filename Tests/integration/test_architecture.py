"""The layers of docs/architecture.md, checked against what the package really declares and
what each module's files really import. The compiler holds whatever Package.swift declares;
these tests hold Package.swift to the architecture, so a shortcut added there (the domain
importing the store, a production binary linking the mock) fails here, not in review."""
import glob
import json
import os
import re
import subprocess

import pytest

PROJECT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Each library module and what it may depend on directly (docs/architecture.md, "The layers").
LAYERS = {
    "TextingSupport": {"CCrypto"},
    "TextingDomain": {"TextingSupport"},
    "TextingPostgres": {"TextingSupport", "CPostgres"},
    "TextingFastCGI": {"TextingSupport", "CFastCGI"},
    "TextingHTTPClient": {"TextingSupport", "CCurl"},
    "TextingStore": {"TextingDomain", "TextingPostgres"},
    "TextingService": {"TextingStore", "TextingFastCGI", "TextingHTTPClient"},
    "MockProviderKit": {"TextingDomain", "TextingFastCGI", "TextingHTTPClient"},
    "TextingTesting": set(),
}
PRODUCTION = ["MessagesFCGI", "DeliveryFCGI", "AdminFCGI", "SenderCron", "TextingCtl"]
TEST_ONLY = {"MockProviderKit", "TextingTesting"}
C_MODULES = {"CCrypto", "CPostgres", "CFastCGI", "CCurl"}


@pytest.fixture(scope="module")
def targets():
    dump = subprocess.run(["swift", "package", "dump-package"], cwd=PROJECT, capture_output=True, text=True, timeout=300, check=True)
    result = {}
    for target in json.loads(dump.stdout)["targets"]:
        names = set()
        for dependency in target.get("dependencies", []):
            for value in dependency.values():
                names.add(value[0])
        result[target["name"]] = {"type": target["type"], "dependencies": names, "path": target.get("path")}
    return result


def _closure(targets, name):
    seen, stack = set(), [name]
    while stack:
        for dependency in targets[stack.pop()]["dependencies"]:
            if dependency not in seen:
                seen.add(dependency)
                stack.append(dependency)
    return seen


def test_every_library_module_depends_only_on_its_layers(targets):
    libraries = {name for name, target in targets.items() if target["type"] == "regular"}
    assert libraries == set(LAYERS), "a library module was added or removed: update LAYERS and docs/architecture.md"
    for name, allowed in LAYERS.items():
        assert targets[name]["dependencies"] == allowed, f"{name} depends on {sorted(targets[name]['dependencies'])}"


def test_the_domain_sees_no_c_no_sql_and_no_http(targets):
    below = _closure(targets, "TextingDomain")
    assert below == {"TextingSupport", "CCrypto"}
    for path in glob.glob(os.path.join(PROJECT, "Sources", "Common", "TextingDomain", "**", "*.swift"), recursive=True):
        with open(path, encoding="utf-8") as f:
            imports = set(re.findall(r"^import (\w+)", f.read(), re.M))
        assert imports <= {"TextingSupport", "FoundationEssentials"}, f"{os.path.relpath(path, PROJECT)} imports {sorted(imports)}"


def test_only_the_wrapper_modules_import_c(targets):
    wrappers = {"TextingSupport": "CCrypto", "TextingPostgres": "CPostgres", "TextingFastCGI": "CFastCGI", "TextingHTTPClient": "CCurl"}
    for path in glob.glob(os.path.join(PROJECT, "Sources", "**", "*.swift"), recursive=True):
        parts = os.path.relpath(path, os.path.join(PROJECT, "Sources")).split(os.sep)
        module = parts[1] if parts[0] == "Common" else parts[0]
        with open(path, encoding="utf-8") as f:
            c_imports = set(re.findall(r"^import (C[A-Z]\w*)", f.read(), re.M)) & C_MODULES
        assert c_imports <= {wrappers.get(module)}, f"{os.path.relpath(path, PROJECT)} imports {sorted(c_imports)}"


def test_no_production_binary_depends_on_test_code(targets):
    for name in PRODUCTION:
        assert targets[name]["type"] == "executable"
        assert not (_closure(targets, name) & TEST_ONLY), f"{name} links {sorted(_closure(targets, name) & TEST_ONLY)}"
    assert "MockProviderKit" in _closure(targets, "MockProvider")


def test_every_library_module_has_its_own_test_target(targets):
    for name in LAYERS:
        if name == "TextingTesting":
            continue
        test = targets.get(f"{name}Tests")
        assert test and test["type"] == "test" and name in test["dependencies"], f"{name} has no test target"
        assert glob.glob(os.path.join(PROJECT, "Tests", "CommonTests", f"{name}Tests", "*.swift")), f"{name}Tests has no tests"


DOCUMENTS = ["README.md", "docs/architecture.md", "Tests/chaos/README.md", "Tests/support/README.md"]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_documents_point_only_at_files_in_the_repository(document):
    """A clone must stand on its own: every link and every path the document names in code
    spans (`Sources/…`, `docs/…`, `Tests/…`) exists in the repository, and nothing points
    outside it (`../`)."""
    with open(os.path.join(PROJECT, document), encoding="utf-8") as f:
        text = f.read()
    base = os.path.dirname(os.path.join(PROJECT, document))
    for target in re.findall(r"\]\(([^)\s#]+)", text):
        if re.match(r"[a-z]+://", target):
            continue
        assert os.path.exists(os.path.join(base, target)), (document, target)
    assert "../shared" not in text, document
    prefixes = ("Sources/", "Tests/", "docs/", "deploy/", "scripts/", "bench/", "migrations/")
    for path in re.findall(r"`([A-Za-z][\w./+-]*)`", text):
        if path.startswith(prefixes) and "*" not in path and "<" not in path and "NNNN" not in path:
            assert glob.glob(os.path.join(PROJECT, path.rstrip("/"))), (document, path)
