"""The product's import graph, read from the source with `ast` (nothing is imported).

The layering of docs/architecture.md: the product (`mrrec_chat`) never imports the lab
(`mrrec_lab`); UI -> service -> agent -> (memory, llm, catalog), so no UI module imports `llm/`
and nothing below the UI imports Gradio; and no import cycle among product modules. Imports inside
functions count (a lazy import is still a dependency); those under `if TYPE_CHECKING:` do not.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = "mrrec_chat"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_only(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


def imported_names(path: Path, modules: set[str] | frozenset[str] = frozenset()) -> set[str]:
    """Every dotted name `path` imports: `import a.b` -> a.b; `from a.b import c` -> a.b and a.b.c,
    except that `from pkg import mod, mod2` of modules in `modules` is only pkg.mod, pkg.mod2 (the
    package's own __init__ runs for any import of its submodules; it is not a dependency on it)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if _type_checking_only(node, parents):
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = {f"{base}.{alias.name}" for alias in node.names}
            names.update(targets if targets <= modules else targets | {base})
    return names


def product_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted((ROOT / PRODUCT).rglob("*.py"))}


def product_graph() -> dict[str, set[str]]:
    """module -> the product modules it imports (a `from pkg import name` of a non-module counts as pkg)."""
    modules = product_modules()
    return {name: {n for n in imported_names(path, set(modules)) if n in modules and n != name}
            for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_cycles_and_only_cycles():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [{"a", "b", "c"}]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_import_reader_resolves_relative_and_lazy_imports(tmp_path, monkeypatch):
    package = tmp_path / "pkg" / "sub"
    package.mkdir(parents=True)
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "mod.py").write_text("from typing import TYPE_CHECKING\nfrom . import sibling\nfrom ..other import x\n"
                                    "def f():\n    import lazy.thing\nif TYPE_CHECKING:\n    import hidden\n")
    monkeypatch.setattr(__import__(__name__), "ROOT", tmp_path)
    names = imported_names(package / "mod.py")
    assert {"pkg.sub", "pkg.sub.sibling", "pkg.other", "pkg.other.x", "lazy.thing", "typing"} <= names
    assert "hidden" not in names
    assert "pkg.sub" not in imported_names(package / "mod.py", {"pkg.sub.sibling"})  # a submodule, not the package


def test_no_import_cycle_among_product_modules():
    graph = product_graph()
    assert sum(map(len, graph.values())) > 50, "the reader sees the product's imports"
    assert [sorted(c) for c in cycles(graph)] == []


def test_the_product_never_imports_the_lab():
    offenders = {name: sorted(n for n in imported_names(path) if n.split(".")[0] == "mrrec_lab")
                 for name, path in product_modules().items()}
    assert {name: found for name, found in offenders.items() if found} == {}


def test_no_ui_module_imports_the_llm_package():
    offenders = {name: sorted(n for n in imported_names(path) if n == "mrrec_chat.llm" or n.startswith("mrrec_chat.llm."))
                 for name, path in product_modules().items() if name.startswith("mrrec_chat.ui")}
    assert {name: found for name, found in offenders.items() if found} == {}


def test_nothing_below_the_ui_imports_gradio():
    offenders = {name: sorted(n for n in imported_names(path) if n.split(".")[0] in ("gradio", "gradio_client"))
                 for name, path in product_modules().items() if not name.startswith("mrrec_chat.ui")}
    assert {name: found for name, found in offenders.items() if found} == {}
