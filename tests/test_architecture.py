"""The shape of the package, checked on its syntax trees: no import circle, errors as a leaf."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "ipcp_api"


def _modules() -> dict[str, Path]:
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _is_type_checking(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, modules: dict[str, Path]) -> set[str]:
    """Every ``ipcp_api`` module imported anywhere in the tree (deferred imports included),
    except under ``if TYPE_CHECKING:``."""
    found: set[str] = set()
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        if _is_type_checking(node):
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                found.add(full if full in modules else node.module)
        pending.extend(ast.iter_child_nodes(node))
    return {name for name in found if name in modules}


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(ast.parse(path.read_text()), modules) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target, path)) is not None:
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start, [])) is not None:
            return cycle
    return None


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_the_graph_sees_deferred_imports() -> None:
    tree = ast.parse("def f():\n    from ipcp_api.errors import Invalid\n")
    assert _imports(tree, _modules()) == {"ipcp_api.errors"}
    guarded = ast.parse("if TYPE_CHECKING:\n    from ipcp_api.errors import Invalid\n")
    assert _imports(guarded, _modules()) == set()


def test_no_import_cycle_in_the_package() -> None:
    graph = import_graph()
    assert len(graph) > 50
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_every_module_imports_in_a_fresh_interpreter() -> None:
    code = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    result = subprocess.run(
        [sys.executable, "-c", code, *sorted(_modules())],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]


def test_errors_is_a_leaf_and_handlers_belong_to_the_app() -> None:
    graph = import_graph()
    assert graph["ipcp_api.errors"] == set()
    importers = sorted(name for name, deps in graph.items() if "ipcp_api.handlers" in deps)
    assert importers == ["ipcp_api.app"]


# --- the partner scope in one place ------------------------------------------------------------

SCOPE_MODULE = "ipcp_api.auth.scope"


def _scope_offences(tree: ast.AST) -> list[str]:
    """Reads of ``partner_scope``, ``bindparam("scope")``, and comparisons of a partner id
    column (``X.partner_id``) with anything named like the scope, by line."""
    offences = []

    def mentions_scope(node: ast.AST) -> bool:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Attribute) and "scope" in sub.attr:
                return True
            if isinstance(sub, ast.Name) and "scope" in sub.id:
                return True
            if isinstance(sub, ast.Constant) and sub.value == "scope":
                return True
        return False

    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "partner_scope":
            offences.append(f"line {node.lineno}: reads partner_scope")
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", None)) == "bindparam"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and node.args[0].value == "scope"
        ):
            offences.append(f"line {node.lineno}: binds :scope by hand")
        elif isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(
                isinstance(side, ast.Attribute) and side.attr in ("partner_id", "id")
                for side in sides
            ) and any(mentions_scope(side) for side in sides):
                offences.append(f"line {node.lineno}: compares a partner id with the scope")
    return offences


def test_the_scope_checker_catches_hand_written_filters() -> None:
    hand_written = (
        "if actor.partner_scope is not None:\n"
        "    stmt = stmt.where(Programme.partner_id == actor.partner_scope)\n"
        "stmt = stmt.where(Programme.partner_id == bindparam('scope'))\n"
        "stmt = stmt.where(Partner.id == scope_id)\n"
    )
    found = _scope_offences(ast.parse(hand_written))
    assert {line.split(":")[0] for line in found} == {f"line {n}" for n in (1, 2, 3, 4)}
    filters = "stmt.where(Programme.partner_id == bindparam('partner_id'), Partner.id == pid)\n"
    assert _scope_offences(ast.parse(filters)) == []


def test_only_auth_scope_reads_the_partner_scope() -> None:
    offenders = {}
    for name, path in _modules().items():
        if name in (SCOPE_MODULE, "ipcp_api.auth.actor"):  # where it is defined and read
            continue
        found = _scope_offences(ast.parse(path.read_text()))
        if found:
            offenders[name] = found
    assert offenders == {}, "filter on the partner scope through ipcp_api.auth.scope"


# --- enumerations: enums in Python, varchar + CHECK in the database ---------------------------


def test_every_enumerated_column_reads_as_its_enum() -> None:
    import re as regex

    from ipcp_api.db.types import StrEnumType
    from ipcp_api.models import Base

    checked = []
    for table in Base.metadata.tables.values():
        for constraint in table.constraints:
            sqltext = str(getattr(constraint, "sqltext", ""))
            match = regex.fullmatch(r"(\w+) IN \((.*)\)", sqltext)
            if match is None:
                continue
            column = table.c[match.group(1)]
            assert isinstance(column.type, StrEnumType), f"{table.name}.{column.name}"
            values = {value.strip().strip("'") for value in match.group(2).split(",")}
            assert values == {member.value for member in column.type.enum}
            checked.append(f"{table.name}.{column.name}")
    assert len(checked) >= 7, checked
