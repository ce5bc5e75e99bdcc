#!/usr/bin/env python3
"""The shape of the code, counted: what issue 15 measures before and after a redesign.

    python3 scripts/code_stats.py [SRC_DIR]

Production code only (test modules left out). Prints: fields of `World`; functions over 80 lines (in `world/` and in all of `src/`); files
over 600 lines; import cycles between files (strongly connected components of the graph of
`crate::`/`super::` paths, at file granularity); `as usize` casts, `u32::MAX` sentinels and
`.expect(` calls in `world/`; library functions returning `Result<_, String>`.

A reading aid, not a parser: it counts what the text shows (a function is `fn` up to its
matching brace, with strings and comments skipped), which is what a reader sees too.
"""

import os
import re
import sys
from collections import defaultdict


def rust_files(root):
    for dirpath, _, names in os.walk(root):
        for n in sorted(names):
            if n.endswith(".rs"):
                yield os.path.join(dirpath, n)


def strip(text):
    """Text with comments and string/char literal contents blanked (lengths kept)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "r" and re.match(r'r#*"', text[i:i + 10]):
            m = re.match(r'r(#*)"', text[i:])
            end = '"' + m.group(1)
            j = text.find(end, i + len(m.group(0)))
            j = n if j < 0 else j + len(end)
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "'" and re.match(r"'(\\.|[^\\'])'", text[i:i + 4]):
            m = re.match(r"'(\\.|[^\\'])'", text[i:i + 4])
            out.append(" " * len(m.group(0)))
            i += len(m.group(0))
        else:
            out.append(c)
            i += 1
    return "".join(out)


FN = re.compile(r"^\s*(pub(\([^)]*\))?\s+)?(const\s+)?(async\s+)?(unsafe\s+)?fn\s+(\w+)", re.M)


def functions(text):
    """(name, first line, lines) of every function with a body."""
    clean = strip(text)
    found = []
    for m in FN.finditer(clean):
        start = m.start()
        # The body: the first `{` after the signature, unless a `;` comes first (a declaration).
        k = m.end()
        depth_paren = 0
        while k < len(clean):
            ch = clean[k]
            if ch in "([<":
                depth_paren += 1
            elif ch in ")]>":
                depth_paren -= 1
            elif ch == ";" and depth_paren <= 0:
                k = -1
                break
            elif ch == "{" and depth_paren <= 0:
                break
            k += 1
        if k < 0 or k >= len(clean):
            continue
        depth, j = 0, k
        while j < len(clean):
            if clean[j] == "{":
                depth += 1
            elif clean[j] == "}":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        first = clean.count("\n", 0, start) + 1
        last = clean.count("\n", 0, j) + 1
        found.append((m.group(6), first, last - first + 1))
    return found


def module_of(path, src):
    rel = os.path.relpath(path, src)[:-3].split(os.sep)
    if rel[-1] in ("mod", "lib", "main"):
        rel = rel[:-1]
    return tuple(rel)


def imports(text, module, modules):
    """Modules (of `modules`) that `text`, in `module`, names by path."""
    clean = strip(text)
    targets = set()
    for m in re.finditer(r"\b((?:crate|super)(?:::\w+)+)", clean):
        parts = m.group(1).split("::")
        if parts[0] == "crate":
            base, rest = (), parts[1:]
        else:
            base = module
            while parts and parts[0] == "super":
                base = base[:-1]
                parts = parts[1:]
            rest = parts
        path = base + tuple(rest)
        # The longest prefix that is a module file.
        for k in range(len(path), 0, -1):
            if path[:k] in modules:
                targets.add(path[:k])
                break
    # Inline `use` groups: `use super::{a, b}` name a and b.
    for m in re.finditer(r"\buse\s+(crate|super(?:::super)*)::\{([^}]*)\}", clean):
        base = () if m.group(1) == "crate" else module[: len(module) - m.group(1).count("super")]
        for item in m.group(2).split(","):
            head = item.strip().split("::")[0]
            if head and base + (head,) in modules:
                targets.add(base + (head,))
    targets.discard(module)
    return targets


def cycles(graph):
    """Strongly connected components of more than one node (Tarjan)."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in list(graph):
        if v not in index:
            visit(v)
    return sorted(out, key=len, reverse=True)


def world_fields(src):
    path = os.path.join(src, "world", "mod.rs")
    if not os.path.exists(path):
        return None
    text = strip(open(path).read())
    m = re.search(r"pub struct World<[^>]*>\s*\{(.*?)\n\}", text, re.S)
    if not m:
        return None
    return len(re.findall(r"^\s*(pub(\([^)]*\))?\s+)?\w+\s*:", m.group(1), re.M))


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "src"
    files = list(rust_files(src))
    modules = {module_of(f, src) for f in files}
    long_all, long_world, big_files, graph = [], [], [], defaultdict(set)
    casts = sentinels = expects = string_results = 0
    for f in files:
        text = open(f).read()
        lines = text.count("\n") + 1
        rel = os.path.relpath(f, src)
        # Production code only: a file's test module (and a tests.rs, or a file of a tests/
        # folder) does not count.
        cut = re.search(r"^#\[cfg\(test\)\]\s*\n\s*mod ", text, re.M)
        if cut:
            text = text[: cut.start()]
        if os.path.basename(f) == "tests.rs" or "tests" in rel.split(os.sep)[:-1]:
            text = ""
        if lines > 600:
            big_files.append((lines, rel))
        for name, first, n in functions(text):
            if n > 80:
                long_all.append((n, f"{rel}:{first} {name}"))
                if rel.startswith("world" + os.sep):
                    long_world.append((n, f"{rel}:{first} {name}"))
        module = module_of(f, src)
        graph[module] |= imports(text, module, modules)
        clean = strip(text)
        if rel.startswith("world" + os.sep):
            casts += len(re.findall(r"\bas usize\b", clean))
            sentinels += len(re.findall(r"\bu32::MAX\b", clean))
            expects += len(re.findall(r"\.expect\(", clean))
        if rel != "main.rs":
            string_results += len(re.findall(r"->\s*Result<[^;{]*,\s*String\s*>", clean))
    found = cycles(graph)
    print(f"World fields: {world_fields(src)}")
    print(f"functions over 80 lines: {len(long_all)} in src/, {len(long_world)} in world/")
    for n, where in sorted(long_all, reverse=True):
        print(f"  {n:4} {where}")
    print(f"files over 600 lines: {len(big_files)}")
    for n, rel in sorted(big_files, reverse=True):
        print(f"  {n:5} {rel}")
    print(f"import cycles: {len(found)} (largest {len(found[0]) if found else 0} files)")
    for comp in found:
        print("  " + ", ".join("::".join(c) or "crate" for c in comp))
    print(f"world/: {casts} `as usize`, {sentinels} `u32::MAX`, {expects} `.expect(`")
    print(f"functions returning Result<_, String> (outside main.rs): {string_results}")


if __name__ == "__main__":
    main()
