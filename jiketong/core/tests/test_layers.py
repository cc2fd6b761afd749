"""The house's layers (docs/developing.md): the kernel imports no app, and no two modules import each other,
whether at the top of the file or inside a function (a lazy import only hides a circle from Python, not from
the reader). Read from the source with `ast`, so the test sees every import without running any."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2]  # jiketong/

# Circles still standing, each the set of its modules. All but the first are a service that queues its task while
# the task calls the service back: declare the task next to the work it runs (billing.services.run_import_task,
# docs/developing.md "No import circles"). Left to the apps' owners, who were changing those files. Only shrinks.
KNOWN_CIRCLES: list[frozenset[str]] = [
    frozenset({"jiketong.analytics.indicators", "jiketong.analytics.models"}),
    frozenset({"jiketong.analytics.services", "jiketong.analytics.tasks"}),
    frozenset({"jiketong.customers.imports", "jiketong.customers.tasks"}),
    frozenset(
        {
            "jiketong.federation.client",
            "jiketong.federation.collect",
            "jiketong.federation.services",
            "jiketong.federation.tasks",
        }
    ),
]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[str, Path]:
    return {
        _module_name(path): path
        for path in PACKAGE.rglob("*.py")
        if "migrations" not in path.parts and ".venv" not in path.parts
    }


def _imports(name: str, path: Path, modules: dict[str, Path], *, lazy: bool) -> list[tuple[str, int]]:
    """(module imported, line) for each of our modules `name` imports: at module level (class bodies and
    `if` blocks included, `if TYPE_CHECKING:` left out), and with `lazy` inside functions too."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[str, int]] = []

    def target(dotted: str) -> str | None:
        while dotted and dotted not in modules:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    def walk(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) and not lazy:
                continue
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.Import):
                found.extend((alias.name, child.lineno) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                # `from package import module` imports the module; `from module import name` the module.
                found.extend(
                    (f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base, child.lineno)
                    for alias in child.names
                )
            walk(child)

    walk(ast.parse(path.read_text(encoding="utf-8")))
    return [(hit, line) for dotted, line in found if (hit := target(dotted)) and hit != name]


def _graph(*, lazy: bool) -> dict[str, set[str]]:
    modules = _sources()
    return {
        name: {imported for imported, _line in _imports(name, path, modules, lazy=lazy)}
        for name, path in modules.items()
        if ".tests" not in name
    }


def _circles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[frozenset[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        circles.append(frozenset(component))
    return circles


def test_the_kernel_imports_no_app():
    modules = _sources()
    offending = [
        f"{path.relative_to(PACKAGE.parent)}:{line} imports {imported}"
        for name, path in modules.items()
        if name.startswith("jiketong.core") and ".tests" not in name
        for imported, line in _imports(name, path, modules, lazy=True)
        if not imported.startswith("jiketong.core")
    ]
    assert offending == []


def test_no_two_modules_import_each_other_at_module_level():
    assert _circles(_graph(lazy=False)) == []


def test_no_import_circle_hides_in_a_function():
    circles = _circles(_graph(lazy=True))
    assert sorted(map(sorted, set(circles) - set(KNOWN_CIRCLES))) == []


def test_known_circles_are_still_circles():
    """A circle broken leaves the list, so the list cannot hide a new one with the same modules."""
    circles = set(_circles(_graph(lazy=True)))
    assert [sorted(circle) for circle in KNOWN_CIRCLES if circle not in circles] == []


def test_the_walk_sees_lazy_and_relative_imports(tmp_path):
    """The test's own reader: a relative import inside a function is an edge when lazy, and none otherwise."""
    package = PACKAGE / "core"
    modules = {"jiketong.core.views": package / "views.py", "jiketong.core.audit": package / "audit.py"}
    source = tmp_path / "views.py"
    source.write_text("def view():\n    from .audit import record\n")
    assert _imports("jiketong.core.views", source, modules, lazy=True) == [("jiketong.core.audit", 2)]
    assert _imports("jiketong.core.views", source, modules, lazy=False) == []
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [frozenset({"a", "b", "c"})]
