"""The layout is the architecture: layers strictly downward, no cycles (lazy imports included),
no provider named in the generic places, ``__all__`` in every module, public surface pinned.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import explorer
from explorer import apis

ROOT = Path(explorer.__file__).resolve().parent
PACKAGE = "explorer"

#: rank of each part of the package; an import may only go to an equal or lower rank.
LAYERS = {
    "errors": 0, "_secret": 0, "_html": 0, "_gc": 0,
    "transport": 1,
    "auth": 2,
    "session": 3,
    "apis": 4,
    "sandbox": 4,
    "connect": 5,
    "widgets": 6, "cli": 6,
    "__main__": 7,
}
#: parts beside each other at one rank, which must not import each other
BESIDE = {("apis", "sandbox"), ("sandbox", "apis")}
#: the generic places: nothing in them may name a provider
GENERIC = ["connect.py", "cli.py", "transport", "auth", "session", "widgets/credential_form.py",
           "widgets/resource_view.py", "widgets/_util.py", "sandbox/__init__.py",
           "sandbox/_server.py", "sandbox/_state.py", "sandbox/_emulator.py",
           "sandbox/oauth.py", "sandbox/cli.py", "sandbox/_faults.py"]


def modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = modules()


def _resolve(module: str, target: str) -> str | None:
    while target and target not in MODULES:
        target = target.rpartition(".")[0]
    return target if target and target != module else None


def imports(module: str) -> set[str]:
    """Every explorer module ``module`` imports: top level, inside functions, under
    TYPE_CHECKING, and ``importlib.import_module("explorer…")`` with a literal name."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            names = [f"{prefix}.{a.name}" for a in node.names] or [prefix]
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant)):
            names = [node.args[0].value]
        for name in names:
            if name.split(".")[0] == PACKAGE:
                target = _resolve(module, name)
                if target:
                    found.add(target)
    return found


GRAPH = {m: imports(m) for m in MODULES}


def layer(module: str) -> tuple[str, int]:
    parts = module.split(".")
    if len(parts) == 1:
        return "", 99  # the package root: above everything
    return parts[1], LAYERS[parts[1]]


def test_every_part_has_a_layer():
    assert {m.split(".")[1] for m in MODULES if "." in m} <= set(LAYERS)


def test_no_import_cycle():
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in GRAPH:
        if module not in index:
            visit(module)
    assert cycles == []


def test_layers_only_import_downward():
    bad = []
    for module, targets in GRAPH.items():
        part, rank = layer(module)
        for target in targets:
            tpart, trank = layer(target)
            if trank > rank or (part, tpart) in BESIDE or target == PACKAGE:
                bad.append(f"{module} -> {target}")
    assert bad == []


def test_the_sandbox_stands_beside_and_depends_on_nothing_of_the_client():
    for module, targets in GRAPH.items():
        if layer(module)[0] == "sandbox":
            allowed = ("sandbox", "errors", "_secret", "_gc")
            assert all(layer(t)[0] in allowed for t in targets), module


def test_no_sys_modules_sniffing_and_no_provider_in_generic_places():
    providers = set(apis.names(listed=False))
    offenders = []
    for rel in GENERIC:
        paths = [ROOT / rel] if rel.endswith(".py") else sorted((ROOT / rel).rglob("*.py"))
        for path in paths:
            source = path.read_text()
            assert "sys.modules" not in source, path
            tree = ast.parse(source)
            docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                          if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef))
                          and n.body and isinstance(n.body[0], ast.Expr)
                          and isinstance(n.body[0].value, ast.Constant)}
            for node in ast.walk(tree):
                text = None
                if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                        and id(node) not in docstrings:
                    text = node.value.lower()
                elif isinstance(node, ast.Name):
                    text = node.id.lower()
                if text and any(p in text.replace("-", "_").split("_") or text == p
                                for p in providers - {"oauth2"}):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {text!r}")
    assert offenders == []


def test_every_module_declares_all_and_it_holds():
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text())
        declared = [n for n in tree.body if isinstance(n, ast.Assign)
                    and any(getattr(t, "id", None) == "__all__" for t in n.targets)]
        assert declared, f"{name} has no __all__"
        if name.endswith("__main__"):
            continue
        module = importlib.import_module(name)
        missing = [n for n in module.__all__ if not hasattr(module, n)]
        assert missing == [], name


#: The public surface. A change here is a change of the API: make it on purpose.
PUBLIC = {
    "explorer": ["ApiError", "AuthenticationError", "ConfigurationError", "ExplorerError",
                 "NotFound", "Session", "Token", "apis", "connect", "login", "sandbox",
                 "widgets"],
    "explorer.errors": ["MASK", "ApiError", "AuthenticationError", "ConfigurationError",
                        "ExplorerError", "NotFound", "Redactor", "encodings"],
    "explorer.transport": ["CREDENTIAL_HEADERS", "DEFAULT_TIMEOUT", "RETRY_STATUSES",
                           "BodyTooLarge", "ClearTextProxy", "DeadlineExceeded", "LimitExceeded",
                           "Limits", "WaitTooLong", "Transport", "UnreadableAnswer", "check_url",
                           "is_absolute", "is_loopback", "origin", "parse", "throttle_listener",
                           "under"],
    "explorer.auth": ["CLIENT_AUTH", "GRANTS", "MAX_TOKEN_BYTES", "ApiKeyAuth", "BearerAuth",
                      "ClientAuth",
                      "ClientCredentials", "ClientSecretBasic", "ClientSecretPost", "Grant",
                      "Password", "RequestAuth", "Route", "RouteAuth", "Token", "TokenEndpoint",
                      "TokenFlow", "client_auth", "grant", "jwt_claims", "parse_token_response",
                      "register_client_auth", "register_grant"],
    "explorer.session": ["Collection", "Cursor", "Detect", "ErrorWords", "Field", "Filter",
                         "NextLink", "NumberedPages", "OffsetLimit", "Page", "Paging",
                         "Provider", "Session", "Single", "SpringPages"],
    "explorer.apis": ["Collection", "Cursor", "Detect", "ErrorWords", "Field", "Filter",
                      "NextLink", "NumberedPages", "OffsetLimit", "Provider", "Route", "Single",
                      "SpringPages", "environment_variables", "get", "module", "names",
                      "providers", "register", "unregister"],
    "explorer.apis.icd": ["AUTOCODE_COLUMNS", "CHANGE_KINDS", "CITATION", "CODE_COLUMNS",
                          "COMPARE_COLUMNS", "ENTITY_COLUMNS", "MAPPED_COLUMNS",
                          "MAPPING_COLUMNS", "PROVIDER", "RELEASE_COLUMNS", "SEARCH_COLUMNS",
                          "TERM_COLUMNS", "IcdSession", "compare", "map_codes", "read_mapping",
                          "read_tabulation", "tree_frame"],
    "explorer.connect": ["connect"],
    "explorer.cli": ["main"],
    "explorer.sandbox": ["Emulator", "Faults", "Offline", "Sandbox", "emulators", "serve_files",
                         "shared", "start"],
    "explorer.widgets": ["CodingTool", "CredentialForm", "DataGrid", "IcdBrowser", "ResourceView",
                         "format_cell", "login"],
}


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_exports_are_pinned(name):
    module = importlib.import_module(name)
    assert sorted(module.__all__) == sorted(PUBLIC[name])


def test_every_registered_provider_has_its_pieces():
    for provider in apis.providers(listed=False):
        assert provider.session_class is not None, provider.name
        for collection in provider.collections:
            assert collection.path or not collection.name, (provider.name, collection)
    from explorer import sandbox

    assert set(sandbox.emulators()) == set(apis.names())  # every listed API has an emulator

