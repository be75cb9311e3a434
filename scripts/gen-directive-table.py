#!/usr/bin/env python3
"""Generate nginx-edit/src/directives/table.rs from nginx source trees.

Python 3.11, standard library only.

The script reads C sources and extracts facts only (directive names, the
`type` bitmask of every `ngx_command_t` entry, the set-handler's name, which
module owns the command array, and the names of the `ngx_conf_enum_t` /
`ngx_conf_bitmask_t` array its `post` field points to); no C code is copied.

Usage:

    python3 scripts/gen-directive-table.py [options] NGINX [NAME=THIRD_PARTY ...] \
        > nginx-edit/src/directives/table.rs

NGINX and each THIRD_PARTY is either a source directory or `git:GIT_DIR@REF`
(a bare/mirror git directory and a commit, tag or branch; the sources are read
with `git archive`, nothing is checked out).  NAME is the label of the
third-party module set, e.g. `lua-nginx-module`.

Options:

    --history GIT_DIR        an nginx git directory: every `release-X.Y.Z` tag
                             from --baseline up to NGINX's version is scanned so
                             that each directive records the first release that
                             has it (`since`) and the first release that no
                             longer has it (`removed_in`).
    --baseline X.Y.Z         oldest release covered (default 1.22.0); directives
                             present there get since = baseline.
    --repo-url NAME=URL      repository URL shown in the header (optional).
    -o FILE                  write to FILE instead of stdout.

Verification (no generation): compare the committed table with a real nginx:

    python3 scripts/gen-directive-table.py --verify-nginx /usr/sbin/nginx \
        nginx-edit/src/directives/table.rs

Regenerate the committed table with (mirrors fetched under /work/.mirror;
about three minutes, most of it the history scan; the output is the same
byte for byte when the mirrors are at the commits the table's header names):

    M=/work/.mirror
    python3 scripts/gen-directive-table.py \
        --history $M/nginx+nginx/repo git:$M/nginx+nginx/repo@HEAD \
        lua-nginx-module=git:$M/openresty+lua-nginx-module/repo@HEAD \
        stream-lua-nginx-module=git:$M/openresty+stream-lua-nginx-module/repo@HEAD \
        njs=git:$M/nginx+njs/repo@HEAD \
        headers-more-nginx-module=git:$M/openresty+headers-more-nginx-module/repo@HEAD \
        ngx_http_geoip2_module=git:$M/leev+ngx_http_geoip2_module/repo@HEAD \
        --repo-url nginx=https://github.com/nginx/nginx \
        --repo-url lua-nginx-module=https://github.com/openresty/lua-nginx-module \
        --repo-url stream-lua-nginx-module=https://github.com/openresty/stream-lua-nginx-module \
        --repo-url njs=https://github.com/nginx/njs \
        --repo-url headers-more-nginx-module=https://github.com/openresty/headers-more-nginx-module \
        --repo-url ngx_http_geoip2_module=https://github.com/leev/ngx_http_geoip2_module \
        -o nginx-edit/src/directives/table.rs
"""

from __future__ import annotations

import argparse
import ast
import io
import os
import re
import subprocess
import sys
import tarfile
from dataclasses import dataclass, field

# --------------------------------------------------------------------------
# Source trees
# --------------------------------------------------------------------------

SKIP_DIRS = {"t", "test", "tests", ".git", "docs", "doc", "util", "misc-tests"}


@dataclass
class Tree:
    label: str  # human label for the header
    files: dict[str, str]  # relative path -> text (only .c and .h)
    commit: str | None = None
    describe: str | None = None
    spec: str = ""


def _wanted(path: str) -> bool:
    if not (path.endswith(".c") or path.endswith(".h")):
        return False
    parts = path.split("/")
    return not any(p in SKIP_DIRS for p in parts[:-1])


def _git(git_dir: str, *args: str) -> str:
    return subprocess.run(
        ["git", "--git-dir", git_dir, *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def load_git(git_dir: str, ref: str, label: str) -> Tree:
    data = subprocess.run(
        ["git", "--git-dir", git_dir, "archive", "--format=tar", ref],
        check=True,
        capture_output=True,
    ).stdout
    files: dict[str, str] = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar:
            if member.isfile() and _wanted(member.name):
                fh = tar.extractfile(member)
                if fh is not None:
                    files[member.name] = fh.read().decode("utf-8", "replace")
    commit = _git(git_dir, "rev-parse", ref + "^{commit}")
    try:
        describe = _git(git_dir, "describe", "--tags", commit)
    except subprocess.CalledProcessError:
        describe = None
    return Tree(label, files, commit, describe, f"git:{git_dir}@{ref}")


def load_dir(path: str, label: str) -> Tree:
    files: dict[str, str] = {}
    for root, dirs, names in os.walk(path):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for name in sorted(names):
            full = os.path.join(root, name)
            rel = os.path.relpath(full, path)
            if _wanted(rel):
                with open(full, encoding="utf-8", errors="replace") as fh:
                    files[rel] = fh.read()
    commit = describe = None
    try:
        commit = subprocess.run(
            ["git", "-C", path, "rev-parse", "HEAD"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        describe = subprocess.run(
            ["git", "-C", path, "describe", "--tags", "HEAD"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except (subprocess.CalledProcessError, FileNotFoundError):
        pass
    return Tree(label, files, commit, describe, path)


def load(spec: str, label: str) -> Tree:
    if spec.startswith("git:"):
        rest = spec[4:]
        git_dir, _, ref = rest.rpartition("@")
        if not git_dir:
            git_dir, ref = rest, "HEAD"
        return load_git(git_dir, ref, label)
    return load_dir(spec, label)


# --------------------------------------------------------------------------
# C scanning helpers
# --------------------------------------------------------------------------


def strip_comments(text: str) -> str:
    """Remove /* */ and // comments, keeping strings and newlines intact."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "/" and i + 1 < n and text[i + 1] == "*":
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j) or " ")
            i = j
        elif c == "/" and i + 1 < n and text[i + 1] == "/":
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(text[i : j + 1])
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def matching_brace(text: str, start: int) -> int:
    """Index of the '}' closing the '{' at text[start]."""
    depth = 0
    i, n = start, len(text)
    while i < n:
        c = text[i]
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError("unbalanced braces")


def split_top(text: str) -> list[str]:
    """Split on commas that are not nested in (), {} or strings."""
    parts, depth, cur = [], 0, []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            cur.append(text[i : j + 1])
            i = j + 1
            continue
        if c in "({[":
            depth += 1
        elif c in ")}]":
            depth -= 1
        if c == "," and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(c)
        i += 1
    tail = "".join(cur).strip()
    if tail:
        parts.append(tail)
    return parts


DEFINE_RE = re.compile(r"^[ \t]*#[ \t]*define[ \t]+(\w+)[ \t]+(.*)$", re.M)


def collect_defines(tree: Tree, into: dict[str, str]) -> None:
    for path in sorted(tree.files):
        text = strip_comments(tree.files[path].replace("\\\n", " "))
        for m in DEFINE_RE.finditer(text):
            name, value = m.group(1), m.group(2).strip()
            if name.startswith("NGX_") and name not in into:
                into[name] = value


_ALLOWED_NODES = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.BitOr,
    ast.BitAnd,
    ast.BitXor,
    ast.Invert,
    ast.LShift,
    ast.Add,
    ast.Constant,
)


def evaluate(expr: str, defines: dict[str, str], depth: int = 0) -> int:
    if depth > 20:
        raise ValueError(f"define recursion in {expr!r}")
    expr = re.sub(r"\(\s*(?:ngx_uint_t|ngx_int_t|u_int|int|unsigned)\s*\)", "", expr)

    def repl(m: re.Match[str]) -> str:
        word = m.group(0)
        if re.fullmatch(r"0[xX][0-9a-fA-F]+|\d+", word):
            return str(int(word, 0))
        if word not in defines:
            raise KeyError(word)
        return "(" + str(evaluate(defines[word], defines, depth + 1)) + ")"

    py = re.sub(r"\b(?:0[xX][0-9a-fA-F]+|\w+)\b", repl, expr)
    py = re.sub(r"(?<=\d)[uUlL]+\b", "", py)
    node = ast.parse(py.strip(), mode="eval")
    for sub in ast.walk(node):
        if not isinstance(sub, _ALLOWED_NODES):
            raise ValueError(f"unsupported expression {expr!r}")
    return eval(compile(node, "<mask>", "eval"), {"__builtins__": {}}) & 0xFFFFFFFF


# --------------------------------------------------------------------------
# Extraction
# --------------------------------------------------------------------------

KIND_BY_TYPE = {
    "NGX_CORE_MODULE": "Core",
    "NGX_CONF_MODULE": "Conf",
    "NGX_EVENT_MODULE": "Event",
    "NGX_HTTP_MODULE": "Http",
    "NGX_MAIL_MODULE": "Mail",
    "NGX_STREAM_MODULE": "Stream",
}

CMD_ARRAY_RE = re.compile(r"\bngx_command_t\s+(\w+)\s*\[\s*\w*\s*\]\s*=\s*\{")
MODULE_RE = re.compile(r"\bngx_module_t\s+(\w+)\s*=\s*\{")
PP_RE = re.compile(r"^[ \t]*#[ \t]*(if|ifdef|ifndef|elif|else|endif)\b(.*)$")


@dataclass
class Command:
    name: str
    type_expr: str
    set: str
    cond: str  # preprocessor condition ("" when unconditional)
    path: str
    post: str = ""  # the `post` field, `&` stripped ("" when NULL or absent)


@dataclass
class Directive:
    name: str
    kind: str
    mask: int
    type_expr: str
    module: str
    set: str
    cond: str
    path: str
    source: str | None = None  # None = nginx, else third-party label
    on_off: bool = False  # value checked by ngx_conf_set_flag_slot
    custom_body: bool = False  # block body read by cf->handler, not as directives
    # names of the ngx_conf_enum_t / ngx_conf_bitmask_t array `post` points to,
    # in array order, each with the first release that has it (see apply_history)
    values: list[tuple[str, int]] = field(default_factory=list)
    since: int = 0
    removed_in: int | None = None
    order: int = 0


def parse_commands(path: str, body: str) -> list[Command]:
    """Parse the inside of an ngx_command_t initializer."""
    cmds: list[Command] = []
    stack: list[str] = []
    depth = 0
    entry: list[str] | None = None
    entry_cond = ""
    for line in body.split("\n"):
        m = PP_RE.match(line)
        if m and depth == 0:
            kw, arg = m.group(1), " ".join(m.group(2).split())
            if kw == "if":
                stack.append(arg)
            elif kw == "ifdef":
                stack.append(f"defined({arg})")
            elif kw == "ifndef":
                stack.append(f"!defined({arg})")
            elif kw in ("elif", "else") and stack:
                prev = stack.pop()
                stack.append(f"!{prev}" + (f" && {arg}" if kw == "elif" else ""))
            elif kw == "endif" and stack:
                stack.pop()
            continue
        for ch in line:
            if ch == "{":
                depth += 1
                if depth == 1:
                    entry = []
                    entry_cond = " && ".join(stack)
                    continue
            elif ch == "}":
                depth -= 1
                if depth == 0 and entry is not None:
                    text = "".join(entry)
                    parts = split_top(text)
                    nm = re.match(r'ngx_string\(\s*"([^"]*)"\s*\)', parts[0]) if parts else None
                    if nm:
                        cmds.append(
                            Command(
                                nm.group(1),
                                re.sub(r"\s*\|\s*", "|", " ".join(parts[1].split())),
                                parts[2].strip() if len(parts) > 2 else "",
                                entry_cond,
                                path,
                                parts[5].strip().lstrip("&").strip() if len(parts) > 5 else "",
                            )
                        )
                    elif parts and parts[0] not in ("ngx_null_command",):
                        print(f"warning: {path}: unparsed command entry {text[:60]!r}", file=sys.stderr)
                    entry = None
                    continue
            if depth >= 1 and entry is not None:
                entry.append(ch)
        if depth >= 1 and entry is not None:
            entry.append(" ")
    return cmds


# Bit names exported to Rust (read from nginx's headers, not hard-coded here).
BIT_NAMES = [
    "NGX_CONF_NOARGS",
    "NGX_CONF_TAKE1",
    "NGX_CONF_TAKE2",
    "NGX_CONF_TAKE3",
    "NGX_CONF_TAKE4",
    "NGX_CONF_TAKE5",
    "NGX_CONF_TAKE6",
    "NGX_CONF_TAKE7",
    "NGX_CONF_MAX_ARGS",
    "NGX_CONF_TAKE12",
    "NGX_CONF_TAKE13",
    "NGX_CONF_TAKE23",
    "NGX_CONF_TAKE123",
    "NGX_CONF_TAKE1234",
    "NGX_CONF_ARGS_NUMBER",
    "NGX_CONF_BLOCK",
    "NGX_CONF_FLAG",
    "NGX_CONF_ANY",
    "NGX_CONF_1MORE",
    "NGX_CONF_2MORE",
    "NGX_DIRECT_CONF",
    "NGX_MAIN_CONF",
    "NGX_ANY_CONF",
    "NGX_EVENT_CONF",
    "NGX_HTTP_MAIN_CONF",
    "NGX_HTTP_SRV_CONF",
    "NGX_HTTP_LOC_CONF",
    "NGX_HTTP_UPS_CONF",
    "NGX_HTTP_SIF_CONF",
    "NGX_HTTP_LIF_CONF",
    "NGX_HTTP_LMT_CONF",
    "NGX_MAIL_MAIN_CONF",
    "NGX_MAIL_SRV_CONF",
    "NGX_STREAM_MAIN_CONF",
    "NGX_STREAM_SRV_CONF",
    "NGX_STREAM_UPS_CONF",
]

FLAG_SLOT = "ngx_conf_set_flag_slot"
FUNC_RE = re.compile(r"^(\w+)\(\s*ngx_conf_t\s*\*\s*cf\s*,[^)]*\)\s*\{", re.M)


def handler_facts(tree: Tree) -> tuple[set[str], set[str]]:
    """Set-handlers that delegate to ngx_conf_set_flag_slot (on/off check),
    and set-handlers that install a custom body handler (`cf->handler = `)."""
    out = {FLAG_SLOT}
    custom: set[str] = set()
    for path in sorted(tree.files):
        if not path.endswith(".c"):
            continue
        text = strip_comments(tree.files[path])
        for m in FUNC_RE.finditer(text):
            # nginx style: a function body ends with "}" in column 0.
            end = text.find("\n}", m.end())
            end = len(text) if end < 0 else end
            if re.search(r"\bngx_conf_set_flag_slot\s*\(\s*cf\s*,", text[m.end() : end]):
                out.add(m.group(1))
            if re.search(r"\bcf->handler\s*=\s*\w", text[m.end() : end]):
                custom.add(m.group(1))
    return out, custom


VALUES_ARRAY_RE = re.compile(r"\bngx_conf_(?:enum|bitmask)_t\s+(\w+)\s*\[\s*\w*\s*\]\s*=\s*\{")
VALUE_NAME_RE = re.compile(r'\{\s*ngx_string\(\s*"([^"]*)"\s*\)')


VALUE_SLOTS = ("ngx_conf_set_enum_slot", "ngx_conf_set_bitmask_slot")


def value_arrays(tree: Tree) -> dict[str, list[str]]:
    """Every `ngx_conf_enum_t` / `ngx_conf_bitmask_t` array: name -> the
    names it lists, in order (entries under `#if` included: the builds
    modelled have SSL, HTTP/2 and the like)."""
    out: dict[str, list[str]] = {}
    for path in sorted(tree.files):
        text = strip_comments(tree.files[path])
        for m in VALUES_ARRAY_RE.finditer(text):
            start = m.end() - 1
            end = matching_brace(text, start)
            names = VALUE_NAME_RE.findall(text[start + 1 : end])
            if m.group(1) in out and out[m.group(1)] != names:
                print(f"warning: {path}: value array {m.group(1)} defined twice", file=sys.stderr)
            out.setdefault(m.group(1), names)
    return out


def extract(tree: Tree, defines: dict[str, str], source: str | None) -> list[Directive]:
    arrays: dict[tuple[str, str], list[Command]] = {}
    by_name: dict[str, list[tuple[str, str]]] = {}
    modules: list[tuple[str, str, str, str]] = []  # (path, module, cmds, type)
    for path in sorted(tree.files):
        if not path.endswith(".c"):
            continue
        text = strip_comments(tree.files[path])
        for m in CMD_ARRAY_RE.finditer(text):
            start = m.end() - 1
            end = matching_brace(text, start)
            arrays[(path, m.group(1))] = parse_commands(path, text[start + 1 : end])
            by_name.setdefault(m.group(1), []).append((path, m.group(1)))
        for m in MODULE_RE.finditer(text):
            start = m.end() - 1
            end = matching_brace(text, start)
            fields = split_top(text[start + 1 : end])
            if len(fields) >= 4 and fields[0] == "NGX_MODULE_V1":
                modules.append((path, m.group(1), fields[2].strip(), fields[3].strip()))

    wrappers, custom = handler_facts(tree)
    values = value_arrays(tree)
    out: list[Directive] = []
    used: set[tuple[str, str]] = set()
    for order, (path, module, cmds_name, mtype) in enumerate(modules):
        if cmds_name in ("NULL", "0"):
            continue
        key = (path, cmds_name)
        if key not in arrays:
            cands = by_name.get(cmds_name, [])
            if len(cands) != 1:
                print(f"warning: {path}: {module}: commands {cmds_name} not found", file=sys.stderr)
                continue
            key = cands[0]
        used.add(key)
        kind = KIND_BY_TYPE.get(mtype)
        if kind is None:
            print(f"warning: {path}: {module}: unknown module type {mtype}", file=sys.stderr)
            continue
        for cmd in arrays[key]:
            try:
                mask = evaluate(cmd.type_expr, defines)
            except (KeyError, ValueError, SyntaxError) as exc:
                print(f"warning: {cmd.path}: {cmd.name}: cannot evaluate {cmd.type_expr!r}: {exc}", file=sys.stderr)
                continue
            out.append(
                Directive(
                    cmd.name,
                    kind,
                    mask,
                    cmd.type_expr,
                    module,
                    cmd.set,
                    cmd.cond,
                    cmd.path,
                    source,
                    on_off=cmd.set in wrappers,
                    custom_body=bool(mask & 0x100) and cmd.set in custom,
                    values=[(v, 0) for v in values.get(cmd.post, [])],
                    order=order,
                )
            )
            if cmd.set in VALUE_SLOTS and cmd.post not in values:
                print(f"warning: {cmd.path}: {cmd.name}: values {cmd.post!r} not found", file=sys.stderr)
    for key in arrays:
        if key not in used:
            print(f"warning: {key[0]}: command array {key[1]} has no module", file=sys.stderr)
    return out


# --------------------------------------------------------------------------
# History
# --------------------------------------------------------------------------


def vnum(text: str) -> int:
    major, minor, patch = (int(x) for x in text.split("."))
    return major * 1_000_000 + minor * 1_000 + patch


def vstr(num: int) -> str:
    return f"{num // 1_000_000}.{num // 1_000 % 1_000}.{num % 1_000}"


def release_tags(git_dir: str) -> list[tuple[int, str]]:
    tags = []
    for tag in _git(git_dir, "tag", "--list", "release-*").split():
        m = re.fullmatch(r"release-(\d+\.\d+\.\d+)", tag)
        if m:
            tags.append((vnum(m.group(1)), tag))
    return sorted(tags)


def directive_key(d: Directive) -> tuple[str, str, str, int, str]:
    # A change of mask or set-handler makes a new entry: each entry is valid
    # for the releases [since, removed_in).
    return (d.name, d.kind, d.module, d.mask, d.set)


UNRELEASED = 0xFFFF_FFFF


def apply_history(
    directives: list[Directive], git_dir: str, baseline: int, head_version: int | None
) -> tuple[list[Directive], list[str]]:
    """Fill since/removed_in; add directives removed after the baseline.

    Returns the directives and the release tags scanned."""
    tags = [(v, t) for v, t in release_tags(git_dir) if v >= baseline and (head_version is None or v <= head_version)]
    # Walk versions in order; track the first version each key appears and
    # the first version (after appearing) it is missing.
    first_seen: dict[tuple[str, str, str, int, str], int] = {}
    last_seen_dir: dict[tuple[str, str, str, int, str], Directive] = {}
    missing_since: dict[tuple[str, str, str, int, str], int] = {}
    # per key: each enum/bitmask name -> the first release that lists it
    value_since: dict[tuple[str, str, str, int, str], dict[str, int]] = {}
    for version, tag in tags:
        tree = load_git(git_dir, tag, tag)
        defs: dict[str, str] = {}
        collect_defines(tree, defs)
        present = {}
        for d in extract(tree, defs, None):
            present.setdefault(directive_key(d), d)
        for key, d in present.items():
            first_seen.setdefault(key, baseline if version == tags[0][0] else version)
            for name, _ in d.values:
                value_since.setdefault(key, {}).setdefault(name, baseline if version == tags[0][0] else version)
            last_seen_dir[key] = d
            missing_since.pop(key, None)
        for key in first_seen:
            if key not in present and key not in missing_since:
                missing_since[key] = version
        print(f"history: {tag}: {len(present)} directives", file=sys.stderr)
    def stamp_values(d: Directive) -> None:
        # A name a release once listed stays accepted (a union, so that no
        # release's valid value is refused); each carries its first release.
        seen = value_since.get(directive_key(d), {})
        names = [n for n, _ in d.values]
        names += [n for n in seen if n not in names]
        d.values = [(n, seen.get(n, UNRELEASED)) for n in names]

    head_keys = {directive_key(d) for d in directives}
    for d in directives:
        key = directive_key(d)
        d.since = first_seen.get(key, UNRELEASED)
        stamp_values(d)
    removed = []
    for key, d in last_seen_dir.items():
        if key in head_keys:
            continue
        d.since = first_seen[key]
        d.removed_in = missing_since.get(key, UNRELEASED)
        stamp_values(d)
        removed.append(d)
    return directives + removed, [t for _, t in tags]


# --------------------------------------------------------------------------
# Rust output
# --------------------------------------------------------------------------


def rust_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def hexmask(mask: int) -> str:
    return f"0x{mask >> 16:04X}_{mask & 0xFFFF:04X}"


def since_expr(v: int) -> str:
    return "UNRELEASED" if v == UNRELEASED else f"{v // 1_000_000}_{v // 1_000 % 1_000:03}_{v % 1_000:03}"


def emit_entries(lines: list[str], directives: list[Directive]) -> None:
    for d in directives:
        cmt = f"    // {d.type_expr}"
        if d.cond:
            cmt += f"  [#if {d.cond}]"
        lines.append(cmt)
        src = "Source::Nginx" if d.source is None else f"Source::ThirdParty({rust_str(d.source)})"
        removed = "None" if d.removed_in is None else f"Some({since_expr(d.removed_in)})"
        values = ", ".join(f"({rust_str(n)}, {since_expr(v)})" for n, v in d.values)
        lines.append(
            "    DirectiveSpec { "
            f"name: {rust_str(d.name)}, kind: ModuleKind::{d.kind}, mask: {hexmask(d.mask)}, "
            f"module: {rust_str(d.module)}, set: {rust_str(d.set)}, on_off: {'true' if d.on_off else 'false'}, "
            f"custom_body: {'true' if d.custom_body else 'false'}, source: {src}, "
            f"since: {since_expr(d.since)}, removed_in: {removed}, values: &[{values}] }},"
        )


def sort_key(d: Directive) -> tuple:
    # Byte order of names (what binary search uses), then nginx's own module
    # order inside one tree (ngx_conf_handler takes the first match).
    return (d.name.encode(), d.removed_in is not None, d.order)


def dedup(directives: list[Directive]) -> list[Directive]:
    seen = set()
    out = []
    for d in directives:
        key = (d.name, d.kind, d.mask, d.module, d.source, d.removed_in)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def tree_desc(tree: Tree) -> str:
    bits = [tree.label]
    if tree.describe:
        bits.append(tree.describe)
    if tree.commit:
        bits.append(f"commit {tree.commit}")
    return ", ".join(bits)


# --------------------------------------------------------------------------
# Verification against a real nginx binary (--verify-nginx)
# --------------------------------------------------------------------------

ENTRY_RE = re.compile(
    r'DirectiveSpec \{ name: "([^"]*)", kind: ModuleKind::(\w+), mask: 0x([0-9A-F_]+), '
    r'module: "([^"]*)", set: "([^"]*)", on_off: (\w+), custom_body: \w+, source: Source::Nginx, '
    r"since: ([0-9_A-Z]+), removed_in: (None|Some\(([0-9_A-Z]+)\)), values: &\[[^\]]*\] \}"
)

# context name -> (module kind, cmd_type bit, config with "@" where the probe goes)
VERIFY_CONTEXTS = {
    "Main": ("Core", 0x0100_0000, "@\nevents {}\n"),
    "Event": ("Event", 0x0200_0000, "events {\n@\n}\n"),
    "Http": ("Http", 0x0200_0000, "events {}\nhttp {\n@\n}\n"),
    "HttpServer": ("Http", 0x0400_0000, "events {}\nhttp {\nserver {\n@\n}\n}\n"),
    "HttpLocation": ("Http", 0x0800_0000, "events {}\nhttp {\nserver {\nlocation / {\n@\n}\n}\n}\n"),
    "HttpUpstream": ("Http", 0x1000_0000, "events {}\nhttp {\nupstream u {\n@\n}\n}\n"),
    "HttpSif": ("Http", 0x2000_0000, "events {}\nhttp {\nserver {\nif ($a) {\n@\n}\n}\n}\n"),
    "HttpLif": ("Http", 0x4000_0000, "events {}\nhttp {\nserver {\nlocation / {\nif ($a) {\n@\n}\n}\n}\n}\n"),
    "HttpLmt": (
        "Http",
        0x8000_0000,
        "events {}\nhttp {\nserver {\nlocation / {\nlimit_except GET {\n@\n}\n}\n}\n}\n",
    ),
}


def _num(text: str) -> int:
    return UNRELEASED if text == "UNRELEASED" else int(text.replace("_", ""))


def _accepts(mask: int, nargs: int) -> bool:
    nelts = nargs + 1
    if mask & 0x400:
        return True
    if mask & 0x200:
        return nelts == 2
    if mask & 0x800:
        return nelts >= 2
    if mask & 0x1000:
        return nelts >= 3
    return nelts <= 8 and bool(mask & (1 << (nelts - 1)))


def _nginx_t(binary: str, conf: str) -> str | None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "nginx.conf")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(conf)
        res = subprocess.run(
            [binary, "-t", "-q", "-p", tmp, "-c", path, "-g", f"pid {tmp}/nginx.pid; error_log stderr;"],
            capture_output=True,
            text=True,
        )
        if res.returncode == 0:
            return None
        m = re.search(r"\[emerg\] \d+#\d+: (.*?) in " + re.escape(path) + r":\d+", res.stderr)
        return m.group(1) if m else res.stderr.strip()


def verify_nginx(binary: str, table_path: str) -> int:
    """Compare ngx_conf_handler verdicts of the table with `nginx -t`.

    For every nginx directive of the binary's version (core, event, http;
    modules the binary lacks answer "unknown directive" and are reported as
    such), tries it in every context where the table says it is not allowed,
    with an argument count the table rejects, and with the wrong terminator.
    """
    from concurrent.futures import ThreadPoolExecutor

    ver = subprocess.run([binary, "-v"], capture_output=True, text=True).stderr
    m = re.search(r"nginx/(\d+\.\d+\.\d+)", ver)
    if not m:
        print(f"cannot read the version of {binary}", file=sys.stderr)
        return 2
    version = vnum(m.group(1))
    with open(table_path, encoding="utf-8") as fh:
        text = fh.read()
    by_name: dict[str, list[tuple[str, int]]] = {}
    for name, kind, mask, _module, _set, _on_off, since, _r, removed in ENTRY_RE.findall(text):
        if not (_num(since) <= version and (not removed or version < _num(removed))):
            continue
        by_name.setdefault(name, []).append((kind, int(mask.replace("_", ""), 16)))

    cases: list[tuple[str, str, str]] = []  # (name, conf, expected message or "")
    for name, specs in sorted(by_name.items()):
        if not any(k in ("Core", "Event", "Http", "Conf") for k, _ in specs):
            continue

        def first(ctx: str) -> tuple[str, int] | None:
            kind, bit, _ = VERIFY_CONTEXTS[ctx]
            for k, mask in specs:
                if (k == kind or k == "Conf") and mask & bit:
                    return k, mask
            return None

        def probe(mask: int, nargs: int, block: bool) -> str:
            return name + " a" * nargs + (" {\n}" if block else ";")

        for ctx, (_kind, _bit, wrapper) in VERIFY_CONTEXTS.items():
            spec = first(ctx)
            if spec is None:
                # Any shape: context is checked first.
                cases.append((name, wrapper.replace("@", probe(0, 1, False)), f'"{name}" directive is not allowed here'))
                continue
            mask = spec[1]
            block = bool(mask & 0x100)
            bad = next((n for n in range(0, 10) if not _accepts(mask, n)), None)
            if bad is not None:
                cases.append(
                    (name, wrapper.replace("@", probe(mask, bad, block)), f'invalid number of arguments in "{name}" directive')
                )
            good = next(n for n in range(0, 10) if _accepts(mask, n))
            want = f'directive "{name}" has no opening "{{"' if block else f'directive "{name}" is not terminated by ";"'
            cases.append((name, wrapper.replace("@", probe(mask, good, not block)), want))

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 4) as pool:
        results = list(pool.map(lambda c: _nginx_t(binary, c[1]), cases))
    missing: set[str] = set()
    bad_cases = []
    for (name, conf, want), got in zip(cases, results):
        if got == f'unknown directive "{name}"':
            missing.add(name)
        elif got != want:
            bad_cases.append((name, conf, want, got))
    for name, conf, want, got in bad_cases:
        print(f"MISMATCH {name}: want {want!r}, nginx said {got!r}\n{conf}", file=sys.stderr)
    checked = {c[0] for c in cases} - missing
    print(
        f"nginx {m.group(1)}: {len(cases)} probes, {len(checked)} directives checked, "
        f"{len(bad_cases)} mismatches, {len(missing)} directives unknown to this binary: "
        + " ".join(sorted(missing)),
        file=sys.stderr,
    )
    return 1 if bad_cases else 0


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--verify-nginx":
        return verify_nginx(sys.argv[2], sys.argv[3])
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("nginx")
    ap.add_argument("third_party", nargs="*", help="NAME=DIR or NAME=git:GIT_DIR@REF")
    ap.add_argument("--history")
    ap.add_argument("--baseline", default="1.22.0")
    ap.add_argument("--repo-url", action="append", default=[])
    ap.add_argument("-o", "--output")
    args = ap.parse_args()

    urls = dict(u.split("=", 1) for u in args.repo_url)

    nginx = load(args.nginx, "nginx")
    defines: dict[str, str] = {}
    collect_defines(nginx, defines)
    core = dedup(extract(nginx, defines, None))

    head_version = None
    for path, text in nginx.files.items():
        if path.endswith("core/nginx.h"):
            m = re.search(r'#define\s+NGINX_VERSION\s+"(\d+\.\d+\.\d+)"', text)
            if m:
                head_version = vnum(m.group(1))
    baseline = vnum(args.baseline)
    scanned: list[str] = []
    if args.history:
        core, scanned = apply_history(core, args.history, baseline, head_version)
    else:
        for d in core:
            d.since = baseline
            d.values = [(n, baseline) for n, _ in d.values]
    core.sort(key=sort_key)

    third: list[Directive] = []
    tp_trees: list[Tree] = []
    for spec in args.third_party:
        label, _, where = spec.partition("=")
        if not where:
            where, label = label, os.path.basename(os.path.normpath(label))
        tree = load(where, label)
        tp_trees.append(tree)
        tp_defines = dict(defines)
        collect_defines(tree, tp_defines)
        for d in extract(tree, tp_defines, label):
            d.since = baseline
            d.values = [(n, baseline) for n, _ in d.values]
            third.append(d)
    third = dedup(third)
    third.sort(key=lambda d: (d.name.encode(), d.source or "", d.order))

    lines: list[str] = []
    lines.append("// @generated by scripts/gen-directive-table.py -- DO NOT EDIT BY HAND.")
    lines.append("//")
    lines.append(f"// nginx: {urls.get('nginx', 'https://github.com/nginx/nginx')} ({tree_desc(nginx)})")
    if head_version is not None:
        lines.append(f"//   NGINX_VERSION {vstr(head_version)}")
    if args.history:
        lines.append(
            f"//   since/removed_in from {len(scanned)} release tags {scanned[0]} .. {scanned[-1]}"
            " (UNRELEASED = only after the last tag)"
        )
    for t in tp_trees:
        url = urls.get(t.label, "")
        lines.append(f"// third-party {t.label}: {url + ' ' if url else ''}({tree_desc(t)})")
    lines.append("//")
    lines.append("// Each entry is one ngx_command_t: the comment above it is the original")
    lines.append("// `type` expression (and the #if it is compiled under, if any).")
    lines.append("// Regenerate: see the module documentation of `directives`.")
    lines.append("")
    lines.append("use super::{DirectiveSpec, ModuleKind, Source, UNRELEASED};")
    lines.append("")
    lines.append(f"/// nginx source the table was generated from (`git describe`).")
    lines.append(f"pub const NGINX_SOURCE: &str = {rust_str(nginx.describe or nginx.label)};")
    lines.append(f"/// Commit of that nginx source.")
    lines.append(f"pub const NGINX_COMMIT: &str = {rust_str(nginx.commit or '')};")
    lines.append(f"/// Oldest nginx release covered: entries with `since <= BASELINE` exist in it.")
    lines.append(f"pub const BASELINE: u32 = {since_expr(baseline)};")
    lines.append("")
    lines.append("/// nginx's own `#define` values for `ngx_command_t.type` bits (same names).")
    lines.append("#[allow(missing_docs)]")
    lines.append("pub mod bits {")
    for name in BIT_NAMES:
        value = evaluate(defines[name], defines)
        shown = str(value) if name == "NGX_CONF_MAX_ARGS" else hexmask(value)
        lines.append(f"    pub const {name}: u32 = {shown};")
    lines.append("}")
    lines.append("")
    lines.append("/// Third-party module sets: (label, `git describe`, commit).")
    lines.append("#[rustfmt::skip]")
    lines.append("pub static THIRD_PARTY_SOURCES: &[(&str, &str, &str)] = &[")
    for t in tp_trees:
        lines.append(f"    ({rust_str(t.label)}, {rust_str(t.describe or '')}, {rust_str(t.commit or '')}),")
    lines.append("];")
    lines.append("")
    lines.append(f"/// Directives of nginx's own modules ({len(core)} entries), sorted by name (bytes),")
    lines.append("/// then in nginx's module order.")
    lines.append("#[rustfmt::skip]")
    lines.append("pub static NGINX: &[DirectiveSpec] = &[")
    emit_entries(lines, core)
    lines.append("];")
    lines.append("")
    lines.append(f"/// Third-party modules' directives ({len(third)} entries), sorted by name (bytes).")
    lines.append("#[rustfmt::skip]")
    lines.append("pub static THIRD_PARTY: &[DirectiveSpec] = &[")
    emit_entries(lines, third)
    lines.append("];")
    text = "\n".join(lines) + "\n"
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
