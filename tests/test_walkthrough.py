"""The pair walkthrough's order: tests, interfaces, implementation, generated; stable otherwise."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from reviewq.core.model import Diff, DiffLine, FileDiff, Hunk
from reviewq.core.walkthrough import RANK, Step, classify_file, hunk_kind, walkthrough
from reviewq.sources.diffs import parse_unified_diff


def hunk(*lines: str, section: str = "", start: int = 10) -> Hunk:
    """A hunk from '+x' / '-x' / ' x' lines."""
    out = []
    old = new = start
    for text in lines:
        kind, body = text[0], text[1:]
        out.append(
            DiffLine(kind, body, old if kind in " -" else None, new if kind in " +" else None)
        )
        old += kind in " -"
        new += kind in " +"
    return Hunk(start, old - start, start, new - start, section, out)


def fd(path: str, *hunks: Hunk, status: str = "modified", binary: bool = False) -> FileDiff:
    return FileDiff(path, None, status, list(hunks), is_binary=binary)


def order(diff: Diff) -> list[tuple[str, int | None]]:
    return [(diff.files[s.file].path, s.hunk) for s in walkthrough(diff)]


def test_tests_then_interfaces_then_implementation_then_generated():
    diff = Diff(
        [
            fd("orders/service.py", hunk("+    return total", section="def total(self):")),
            fd("package-lock.json", hunk('+  "lockfileVersion": 3')),
            fd("orders/types.pyi", hunk("+def total(x: int) -> int: ...")),
            fd("README.md", hunk("+Totals are in cents.")),
            fd("tests/test_service.py", hunk("+def test_total(): ...")),
            fd("dist/app.min.js", hunk("+!function(){}")),
            fd("orders/schema.sql", hunk("+ALTER TABLE orders ADD total int;")),
        ]
    )
    assert order(diff) == [
        ("tests/test_service.py", 0),
        ("orders/types.pyi", 0),
        ("orders/schema.sql", 0),
        ("orders/service.py", 0),
        ("README.md", 0),  # documentation keeps its place among the implementation
        ("package-lock.json", 0),
        ("dist/app.min.js", 0),
    ]
    kinds = {diff.files[s.file].path: (s.kind, s.why) for s in walkthrough(diff)}
    assert kinds["package-lock.json"] == ("generated", "lockfile")
    assert kinds["dist/app.min.js"] == ("generated", "generated file")
    assert kinds["orders/types.pyi"] == ("interface", "type stub")
    assert kinds["orders/schema.sql"] == ("interface", "schema")
    assert kinds["README.md"] == ("other", "documentation")


def test_a_python_file_s_declarations_come_before_its_bodies():
    """Within one file, a protocol, a dataclass, a changed signature and new fields move ahead
    of the hunks that change bodies; each says why."""
    api = fd(
        "orders/api.py",
        hunk("-    return 1", "+    return 2", section="def handler(request):"),
        hunk("+class Store(Protocol):", "+    def get(self, key: str) -> bytes: ..."),
        hunk("-def fetch(url):", "+def fetch(url, timeout=10):", "     return get(url)"),
        hunk("+@dataclass(frozen=True)", "+class Order:", "+    id: int"),
        hunk("+    currency: str = 'EUR'", section="class Order:"),
        hunk("+        self.cache = {}", section="class Service:"),
        hunk("+    def put(self, key: str) -> None: ...", section="class Store(Protocol):"),
    )
    steps = walkthrough(Diff([api]))
    assert [s.hunk for s in steps] == [1, 2, 3, 4, 6, 0, 5]
    assert [s.why for s in steps[:5]] == [
        "declares protocol Store",
        "changes the signature of fetch()",
        "declares a dataclass",
        "changes the fields of Order",
        "inside protocol Store",
    ]
    assert {s.kind for s in steps[5:]} == {"implementation"}


def test_a_new_function_is_implementation_and_comments_do_not_declare():
    assert hunk_kind("a.py", hunk("+def helper(x):", "+    return x")) is None
    assert hunk_kind("a.py", hunk("+# class Old(Protocol): gone")) is None
    assert hunk_kind("a.py", hunk("+    return x", section="class Plain:")) is None


def test_declarations_in_other_languages():
    cases = {
        "web/api.ts": (
            hunk("+export interface Order {", "+  id: number"),
            "declares interface Order",
        ),
        "web/state.ts": (hunk("+type Status = 'open' | 'paid'"), "declares type Status"),
        "svc/store.go": (hunk("+type Store interface {"), "declares interface Store"),
        "svc/order.go": (hunk("+type Order struct {"), "declares struct Order"),
        "src/lib.rs": (hunk("+pub trait Store {"), "declares trait Store"),
        "src/Order.java": (hunk("+public record Order(int id) {}"), "declares record Order"),
        "svc/impl.go": (
            hunk("+\treturn nil", section="type Store interface {"),
            "inside interface Store",
        ),
    }
    for path, (h, why) in cases.items():
        assert hunk_kind(path, h) == ("interface", why), path
    assert hunk_kind("svc/impl.go", hunk("+\treturn nil", section="func (s *S) Get() {")) is None


def test_rust_tests_in_the_module_come_first():
    lib = fd(
        "src/lib.rs",
        hunk("+    x + 1", section="fn add(x: i32) -> i32 {"),
        hunk("+    #[test]", "+    fn adds() { assert_eq!(add(1), 2); }", section="mod tests {"),
    )
    steps = walkthrough(Diff([lib]))
    assert [(s.hunk, s.kind) for s in steps] == [(1, "test"), (0, "implementation")]


def test_paths_that_are_interfaces_or_configuration():
    expect = {
        "include/orders.h": "header",
        "api/orders.proto": "schema",
        "web/types.d.ts": "type declarations",
        "orders/types.py": "types and interfaces",
        "orders/interfaces/store.py": "types and interfaces",
        "orders/schemas/order.json": "schema",
        "orders/migrations/0002_total.py": "schema migration",
        "orders/urls.py": "API routes",
        "web/routes.ts": "API routes",
        "orders/__init__.py": "package exports",
        ".github/workflows/tests.yml": "CI configuration",
        "pyproject.toml": "configuration",
        "config/app.yaml": "configuration",
        "web/tsconfig.json": "configuration",
        "web/package.json": "configuration",
    }
    for path, why in expect.items():
        assert classify_file(fd(path, hunk("+x"))) == ("interface", why), path


def test_files_it_cannot_classify_keep_their_place():
    diff = Diff(
        [
            fd("LICENSE", hunk("+MIT")),
            fd("data/currencies.json", hunk('+{"EUR": 2}')),
            fd("assets/logo.png", binary=True, status="added"),
            fd("Procfile", hunk("+web: run")),
            fd("orders/core.py", hunk("+x = 1")),
            fd("notes", hunk("+todo")),
        ]
    )
    steps = walkthrough(diff)
    assert [s.file for s in steps] == [0, 1, 2, 3, 4, 5]
    assert steps[2] == Step(2, None, "other", "binary file")  # no hunks: still a stop
    assert [s.why for s in steps] == [
        "documentation",
        "not classified",
        "binary file",
        "not classified",
        "source code",
        "not classified",
    ]


def test_deleted_and_new_tests_say_so():
    assert classify_file(fd("tests/test_auth.py", hunk("-x"), status="deleted")) == (
        "test",
        "test deleted",
    )
    assert classify_file(fd("web/order.spec.ts", hunk("+x"), status="added")) == (
        "test",
        "new test",
    )
    # a generated marker beats everything else (a generated test file is still generated)
    marked = fd("tests/test_gen.py", hunk("+# @generated by protoc", start=1))
    assert classify_file(marked) == ("generated", "generated file")


def test_the_demo_s_risky_change_starts_with_the_deleted_test(demo_repo):
    from reviewq.sources.gitcmd import Git

    git = Git.open(demo_repo)
    sha = git.text(["log", "--format=%H", "--grep=impersonate", "-1"]).strip()
    raw = git.run(["show", "--format=", "--no-color", sha], what="show")
    diff = parse_unified_diff(raw)
    steps = walkthrough(diff)
    paths = [diff.files[s.file].path for s in steps]
    assert paths[0] == "tests/test_auth.py" and steps[0].why == "test deleted"
    assert paths[1] == ".github/workflows/tests.yml"
    assert paths[-1] == "orders/auth.py"


_PATHS = st.sampled_from(
    [
        "a.py",
        "tests/test_a.py",
        "a.pyi",
        "yarn.lock",
        "README.md",
        "x.bin",
        "api.proto",
        "lib.rs",
        "dist/x.min.js",
        "setup.cfg",
    ]
)
_HUNKS = st.lists(
    st.sampled_from(
        [
            hunk("+x = 1"),
            hunk("+class P(Protocol):"),
            hunk("-def f(a):", "+def f(a, b):"),
            hunk("+    #[test]", section="mod tests {"),
            hunk("+    y: int", section="class C:"),
        ]
    ),
    max_size=4,
)


@given(st.lists(st.tuples(_PATHS, _HUNKS), max_size=8))
def test_every_hunk_once_ranks_ascending_and_stable_within_a_rank(spec):
    diff = Diff([fd(path, *hunks) for path, hunks in spec])
    steps = walkthrough(diff)
    expected = [
        (f, h if fdiff.hunks else None)
        for f, fdiff in enumerate(diff.files)
        for h in (range(len(fdiff.hunks)) or [None])
    ]
    assert sorted(((s.file, s.hunk) for s in steps), key=str) == sorted(expected, key=str)
    ranks = [RANK[s.kind] for s in steps]
    assert ranks == sorted(ranks)
    for a, b in pairwise(steps):
        if RANK[a.kind] == RANK[b.kind]:
            assert (a.file, a.hunk or 0) < (b.file, b.hunk or 0)
