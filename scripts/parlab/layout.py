"""scripts/check-layout: keeps the cf library's shape (issue 19, "a library
a reader can hold in their head").

Usage: scripts/check-layout [--top DIR] [--build BUILDDIR] [--graph]

Checks every .c and .h file under DIR/executors/src, at any depth:
  file length      no file over 500 lines
  function length  no function over 60 lines (pmccabe's line count)
  complexity       no function over 15 (pmccabe's traditional McCabe)
  include circle   no circle of #include "..." among the library's files
                   (resolved beside the including file, then in
                   executors/src, then in executors/include)
  call circle      no circle of calls between source files, read from
                   BUILDDIR/obj/executors/src/**.o with nm: a.c calls b.c
                   when a.o needs a function b.o defines (skipped, with a
                   note, when there are no objects)
  private header   core/future_impl.h is included only by core/future.c
                   and core/future_wait.c
  platform         #define _GNU_SOURCE, the Linux-only headers
                   (<sys/epoll.h>, <sys/eventfd.h>, <sys/prctl.h>,
                   <link.h>) and preadv2/pwritev2 appear only under
                   executors/src/platform/, and that directory exists
Prints one line per breach, "file:line: what (limit)", then
"layout: N breaches" (with a count by kind); notes say what was not
checked.  DIR defaults to the repository's top, BUILDDIR to DIR/build.

--graph prints the call graph between source files instead, one line per
file: "core/wait.c -> core/future.c, core/task.c" (exit status 1 when
there are no objects to read it from).

Exit status: 0 without breaches, 1 with any, 2 for bad usage (or when
pmccabe or nm is missing: scripts/deps report installs them).
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

from . import cli

HERE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SRC = os.path.join("executors", "src")

MAX_FILE_LINES = 500
MAX_FUNCTION_LINES = 60
MAX_COMPLEXITY = 15

PRIVATE_HEADERS = {"core/future_impl.h": ("core/future.c", "core/future_wait.c")}
LINUX_HEADERS = ("sys/epoll.h", "sys/eventfd.h", "sys/prctl.h", "link.h")
LINUX_CALLS = ("preadv2", "pwritev2")
PLATFORM_DIR = "platform"

INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*([<"])([^>"\n]+)[>"]', re.M)
GNU_SOURCE = re.compile(r"^[ \t]*#[ \t]*define[ \t]+_GNU_SOURCE\b", re.M)


class Breach:
    def __init__(self, kind, path, line, what):
        self.kind, self.path, self.line, self.what = kind, path, line, what

    def __str__(self):
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.what}"


class Tree:
    """The library's files, by path relative to executors/src."""

    def __init__(self, top):
        self.top = top
        self.src = os.path.join(top, SRC)
        self.include_dir = os.path.join(top, "executors", "include")
        self.files = {}
        for d, dirs, names in os.walk(self.src):
            dirs.sort()
            for n in sorted(names):
                if n.endswith((".c", ".h")):
                    path = os.path.join(d, n)
                    rel = os.path.relpath(path, self.src)
                    text = read_source(path)
                    if text is not None:
                        self.files[rel] = text

    def shown(self, rel):
        """How a breach names a file: from the repository's top."""
        return os.path.join(SRC, rel)


def read_source(path):
    """The file's text, or None when it went away meanwhile (others may be
    moving files while the check runs)."""
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return None


def blank_comments(text, strings=False):
    """text with its comments (and, if asked, string and character
    literals) turned to spaces, newlines kept, so that offsets and line
    numbers still point into the original."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        two = text[i:i + 2]
        if two == "/*":
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
        elif two == "//":
            end = text.find("\n", i)
            end = n if end < 0 else end
        elif c in "\"'":
            end = literal_end(text, i)
            if not strings:
                out.append(text[i:end])
                i = end
                continue
        else:
            out.append(c)
            i += 1
            continue
        out.append(re.sub(r"[^\n]", " ", text[i:end]))
        i = end
    return "".join(out)


def literal_end(text, i):
    quote, j, n = text[i], i + 1, len(text)
    while j < n and text[j] != quote and text[j] != "\n":
        j += 2 if text[j] == "\\" else 1
    return min(j + 1, n)


def line_of(text, offset):
    return text.count("\n", 0, offset) + 1


# --- sizes: files, and functions with pmccabe --------------------------------

def check_file_lengths(tree):
    for rel, text in tree.files.items():
        n = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
        if n > MAX_FILE_LINES:
            yield Breach("file length", tree.shown(rel), 1,
                         f"{n} lines in the file (limit {MAX_FILE_LINES})")


def for_pmccabe(text):
    """pmccabe parses C89 and C++: C11's alignas(...) and _Atomic(T), and a
    function returning a function pointer, make it take a struct for a
    long function, or miss a function.  Same length, same lines."""
    def pad(new, old):
        return new + " " * (len(old) - len(new))

    text = re.sub(r"\b(alignas|_Alignas)\s*\([^()]*\)", lambda m: pad("", m.group(0)), text)
    text = re.sub(r"\b_Atomic\s*\(([^()]*)\)",
                  lambda m: " " * (m.start(1) - m.start()) + m.group(1) + " ", text)
    return re.sub(r"^(\w[\w \t*]*?)\(\*\s*(\w+)\(([^()\n]*)\)\)\s*\([^()\n]*\)[ \t]*$",
                  lambda m: pad(f"{m.group(1)}*{m.group(2)}({m.group(3)})", m.group(0)),
                  text, flags=re.M)


def run_pmccabe(tree, notes):
    """pmccabe's rows (complexity, lines, file, line, name) for every file,
    run on copies that for_pmccabe made readable to it."""
    if not tree.files:
        return []
    rows = []
    with tempfile.TemporaryDirectory(prefix="parlab-layout-") as tmp:
        for rel, text in tree.files.items():
            os.makedirs(os.path.join(tmp, os.path.dirname(rel)), exist_ok=True)
            with open(os.path.join(tmp, rel), "w") as f:
                f.write(for_pmccabe(text))
        p = subprocess.run(["pmccabe"] + sorted(tree.files), cwd=tmp,
                           capture_output=True, text=True, timeout=120)
    for line in p.stdout.splitlines():
        fields = line.split("\t")
        m = re.match(r"^(.*)\((\d+)\):\s*(.*)$", fields[-1]) if len(fields) == 6 else None
        if m:
            rows.append((int(fields[1]), int(fields[4]), m.group(1), int(m.group(2)), m.group(3)))
    for line in p.stderr.splitlines():
        # What pmccabe could not parse: the figures of that file may be off.
        m = re.match(r'^"(.*)", line (\d+): (.*)$', line)
        notes.append(f"note: pmccabe: {SRC}/{m.group(1)}:{m.group(2)}: {m.group(3)}" if m
                     else f"note: pmccabe: {line}")
    return rows


def check_functions(tree, notes):
    for complexity, lines, rel, line, name in run_pmccabe(tree, notes):
        name = name.split("::")[-1]
        if lines > MAX_FUNCTION_LINES:
            yield Breach("function length", tree.shown(rel), line,
                         f"function {name} is {lines} lines long (limit {MAX_FUNCTION_LINES})")
        if complexity > MAX_COMPLEXITY:
            yield Breach("complexity", tree.shown(rel), line,
                         f"function {name} has complexity {complexity} (limit {MAX_COMPLEXITY})")


# --- circles -------------------------------------------------------------------

def strong_components(graph):
    """Tarjan's strongly connected components of {node: set(nodes)}."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def shortest_circle(graph, start, within):
    """The shortest path start -> ... -> start inside a component."""
    paths, seen = [[start]], {start}
    while paths:
        path = paths.pop(0)
        for w in sorted(graph.get(path[-1], ())):
            if w == start:
                return path + [start]
            if w in within and w not in seen:
                seen.add(w)
                paths.append(path + [w])
    return [start, start]


def circles(graph, self_loops):
    """(circle, the tangle's other nodes) per tangle of the graph: its
    shortest circle from its first node, and the nodes that circle leaves
    out (cutting the one circle may leave another)."""
    for component in strong_components(graph):
        start = component[0]
        if len(component) > 1 or (self_loops and start in graph.get(start, ())):
            circle = shortest_circle(graph, start, set(component))
            yield circle, [v for v in component if v not in circle]


def circle_text(kind, circle, others):
    more = f"; in the same tangle: {', '.join(others)}" if others else ""
    return f"{kind} circle: {' -> '.join(circle)}{more} (limit: none)"


def resolve_include(tree, rel, name):
    """The library file `#include "name"` in rel means, or None."""
    for base in (os.path.dirname(rel), ""):
        candidate = os.path.normpath(os.path.join(base, name))
        if candidate in tree.files:
            return candidate
    if os.path.exists(os.path.join(tree.include_dir, name)):
        return os.path.normpath(os.path.join("..", "include", name))
    return None


def includes(tree):
    """{file: {included file: line}} for the library's own includes."""
    found = {}
    for rel, text in tree.files.items():
        found[rel] = {}
        code = blank_comments(text)
        for m in INCLUDE.finditer(code):
            target = resolve_include(tree, rel, m.group(2)) if m.group(1) == '"' else None
            if target is not None:
                found[rel].setdefault(target, line_of(code, m.start()))
    return found


def check_include_circles(tree, edges):
    graph = {f: set(to) for f, to in edges.items()}
    for circle, others in circles(graph, self_loops=True):
        line = edges[circle[0]][circle[1]]
        yield Breach("include circle", tree.shown(circle[0]), line,
                     circle_text("include", circle, others))


def check_private_headers(tree, edges):
    for header, allowed in PRIVATE_HEADERS.items():
        for rel in sorted(edges):
            if header in edges[rel] and rel not in allowed:
                yield Breach("private header", tree.shown(rel), edges[rel][header],
                             f"includes {header}, private to {' and '.join(allowed)} "
                             f"(limit: those files)")


# --- calls between files, from the objects ------------------------------------

def symbols(obj):
    """(functions obj defines for others, symbols it needs) from nm."""
    p = subprocess.run(["nm", "-P", obj], capture_output=True, text=True, timeout=60)
    defined, needed = set(), set()
    for line in p.stdout.splitlines():
        fields = line.split()
        if len(fields) < 2:
            continue
        if fields[1] in ("T", "W", "i"):
            defined.add(fields[0])
        elif fields[1] in ("U", "w", "v"):
            needed.add(fields[0])
    return defined, needed


def library_objects(tree, build, notes):
    """{source file: object} for the objects whose source still exists."""
    root = os.path.join(build, "obj", SRC)
    objects, stale, old = {}, 0, 0
    for d, dirs, names in os.walk(root):
        dirs.sort()
        for n in sorted(names):
            if not n.endswith(".o"):
                continue
            obj = os.path.join(d, n)
            rel = os.path.relpath(obj, root)[:-2] + ".c"
            if rel not in tree.files:
                stale += 1
                continue
            objects[rel] = obj
            old += mtime(obj) < mtime(os.path.join(tree.src, rel))
    missing = sum(rel.endswith(".c") and rel not in objects for rel in tree.files)
    if stale:
        notes.append(f"note: {stale} objects under {root} have no source any more: left out")
    if objects and missing:
        notes.append(f"note: {missing} sources have no object under {root}: left out of the call graph")
    if old:
        notes.append(f"note: {old} objects are older than their sources: the call graph "
                     f"may be out of date (rebuild {build})")
    return objects


def mtime(path):
    try:
        return os.path.getmtime(path)
    except OSError:
        return 0


def call_graph(objects):
    """({caller: {callee: sorted symbols}}) between source files."""
    table = {rel: symbols(obj) for rel, obj in objects.items()}
    owner = {}
    for rel, (defined, _) in table.items():
        for s in defined:
            owner.setdefault(s, rel)
    graph = {}
    for rel, (_, needed) in table.items():
        graph[rel] = {}
        for s in sorted(needed):
            callee = owner.get(s)
            if callee is not None and callee != rel:
                graph[rel].setdefault(callee, []).append(s)
    return graph


def first_use(text, names):
    code = blank_comments(text, strings=True)
    m = re.search(r"\b(" + "|".join(map(re.escape, names)) + r")\b", code)
    return line_of(code, m.start()) if m else 1


def check_call_circles(tree, graph):
    for circle, others in circles({f: set(to) for f, to in graph.items()}, self_loops=False):
        a, b = circle[0], circle[1]
        line = first_use(tree.files[a], graph[a][b])
        yield Breach("call circle", tree.shown(a), line, circle_text("call", circle, others))


# --- the platform layer --------------------------------------------------------

def linux_only(rel, text):
    """(line, what) for each Linux-only thing in one file."""
    code = blank_comments(text)
    for m in GNU_SOURCE.finditer(code):
        yield line_of(code, m.start()), "#define _GNU_SOURCE"
    for m in INCLUDE.finditer(code):
        if m.group(1) == "<" and m.group(2).strip() in LINUX_HEADERS:
            yield line_of(code, m.start()), f"includes <{m.group(2).strip()}>"
    bare = blank_comments(text, strings=True)
    for call in LINUX_CALLS:
        m = re.search(r"\b" + call + r"\b", bare)
        if m:
            yield line_of(bare, m.start()), f"uses {call}"


def check_platform(tree):
    if not os.path.isdir(os.path.join(tree.src, PLATFORM_DIR)):
        yield Breach("platform", tree.shown(PLATFORM_DIR) + "/", 0,
                     "missing layer: no platform/ directory for the Linux-only code "
                     "(limit: it exists)")
    for rel in sorted(tree.files):
        if rel.split(os.sep)[0] == PLATFORM_DIR:
            continue
        for line, what in linux_only(rel, tree.files[rel]):
            yield Breach("platform", tree.shown(rel), line,
                         f"{what} outside {PLATFORM_DIR}/ (limit: {PLATFORM_DIR}/ only)")


# --- the command -----------------------------------------------------------------

def check(tree, build):
    notes, breaches = [], []
    breaches += check_file_lengths(tree)
    breaches += check_functions(tree, notes)
    edges = includes(tree)
    breaches += check_include_circles(tree, edges)
    breaches += check_private_headers(tree, edges)
    objects = library_objects(tree, build, notes) if os.path.isdir(build) else {}
    if objects:
        breaches += check_call_circles(tree, call_graph(objects))
    else:
        notes.append(f"note: no library objects under {build}/obj/{SRC}: call circles "
                     f"not checked (build the library first)")
    breaches += check_platform(tree)
    return breaches, notes


def summary(breaches):
    kinds = {}
    for b in breaches:
        kinds[b.kind] = kinds.get(b.kind, 0) + 1
    counts = ", ".join(f"{k} {n}" for k, n in kinds.items())
    return f"layout: {len(breaches)} breaches" + (f" ({counts})" if counts else "")


def print_graph(tree, build):
    objects = library_objects(tree, build, []) if os.path.isdir(build) else {}
    if not objects:
        sys.stderr.write(f"scripts/check-layout: error: no library objects under {build}/obj/{SRC}\n")
        return 1
    graph = call_graph(objects)
    for rel in sorted(graph):
        print(f"{rel} -> {', '.join(sorted(graph[rel])) or '(nothing)'}")
    return 0


def main(argv=None):
    p = cli.parser("scripts/check-layout", __doc__)
    p.add_argument("--top", default=HERE, help="the repository's top (default: this one)")
    p.add_argument("--build", help="the build tree whose objects give the calls (default: TOP/build)")
    p.add_argument("--graph", action="store_true", help="print the call graph between files instead")
    args = p.parse_args(argv)
    if not os.path.isdir(os.path.join(args.top, SRC)):
        p.error(f"{os.path.join(args.top, SRC)}: no such directory")
    if args.build is not None and not os.path.isdir(args.build):
        p.error(f"{args.build}: no such directory")
    for tool in ("pmccabe", "nm"):
        if shutil.which(tool) is None:
            p.error(f"{tool} is not installed (scripts/deps report installs what is missing)")
    tree = Tree(args.top)
    build = args.build if args.build is not None else os.path.join(args.top, "build")
    if args.graph:
        return print_graph(tree, build)
    breaches, notes = check(tree, build)
    for note in notes:
        print(note)
    for b in sorted(breaches, key=lambda b: (b.path, b.line)):
        print(b)
    print(summary(breaches))
    return 1 if breaches else 0
