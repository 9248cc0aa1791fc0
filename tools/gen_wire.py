#!/usr/bin/env python3
"""Generate cmfa-wire's model tables from botocore's cognito-idp service model.

The constraints a Cognito server enforces (lengths, patterns, enums, ranges, required members) and
the shapes it speaks must match AWS's current model exactly, so they are derived, never typed by
hand. Run this after changing the botocore pin or the list of typed operations:

    pip install botocore==1.44.8   # the pin lives in tests/python/requirements.txt
    python3 tools/gen_wire.py      # rewrites crates/cmfa-wire/src/generated/*.rs

`--check` exits non-zero when the checked-in files differ from what would be generated (CI runs it).
"""

import argparse
import gzip
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "crates", "cmfa-wire", "src", "generated")

# Operations whose request and response get typed Rust structs. Every operation gets constraint
# tables and an `Operation` variant regardless; this list only bounds how much serde code exists.
TYPED_OPERATIONS = [
    # issue 2: pools and their MFA configuration
    "CreateUserPool", "DescribeUserPool", "UpdateUserPool", "DeleteUserPool", "ListUserPools",
    "SetUserPoolMfaConfig", "GetUserPoolMfaConfig",
    # issue 3: clients, users, sign-in, tokens
    "CreateUserPoolClient", "DescribeUserPoolClient", "UpdateUserPoolClient",
    "DeleteUserPoolClient", "ListUserPoolClients",
    "SignUp", "ConfirmSignUp", "ResendConfirmationCode", "AdminCreateUser", "AdminConfirmSignUp",
    "AdminGetUser", "GetUser", "ListUsers", "AdminDeleteUser", "DeleteUser",
    "AdminUpdateUserAttributes", "UpdateUserAttributes", "AdminDeleteUserAttributes",
    "DeleteUserAttributes", "GetUserAttributeVerificationCode", "VerifyUserAttribute",
    "AdminSetUserPassword", "ChangePassword", "ForgotPassword", "ConfirmForgotPassword",
    "AdminResetUserPassword", "AdminDisableUser", "AdminEnableUser",
    "InitiateAuth", "AdminInitiateAuth", "RespondToAuthChallenge", "AdminRespondToAuthChallenge",
    "GlobalSignOut", "AdminUserGlobalSignOut", "RevokeToken",
    # issue 4: per-user MFA
    "AssociateSoftwareToken", "VerifySoftwareToken", "SetUserMFAPreference",
    "AdminSetUserMFAPreference", "SetUserSettings", "AdminSetUserSettings",
    "GetUserAuthFactors", "AdminGetUserAuthFactors", "AdminDeleteSoftwareToken",
    # issue 9, item 11: groups and custom attributes
    "CreateGroup", "GetGroup", "UpdateGroup", "DeleteGroup", "ListGroups",
    "AdminAddUserToGroup", "AdminRemoveUserFromGroup", "AdminListGroupsForUser",
    "ListUsersInGroup", "AddCustomAttributes",
    # issue 13: passkeys, and the domains their relying party id comes from
    "StartWebAuthnRegistration", "CompleteWebAuthnRegistration", "ListWebAuthnCredentials",
    "DeleteWebAuthnCredential", "CreateUserPoolDomain", "DescribeUserPoolDomain",
    "UpdateUserPoolDomain", "DeleteUserPoolDomain",
]

# Error codes that AWS's front end (not the Cognito model) can answer with.
FRONT_END_ERRORS = [
    ("SerializationException", 400),
    ("UnknownOperationException", 400),
    ("MissingAuthenticationTokenException", 400),
    ("IncompleteSignatureException", 400),
    ("InvalidSignatureException", 400),
    ("UnrecognizedClientException", 400),
    ("RequestEntityTooLargeException", 413),
    # Ours: a request body that stalls past the read timeout (AWS's front end answers 408 too).
    ("RequestTimeoutException", 408),
]

RUST_KEYWORDS = {
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
}


# Where the model's constraint contradicts its own documentation and AWS's behaviour, the
# documented behaviour wins. DomainType's pattern and 63-character limit admit a prefix only, but
# the member's docs (and every AWS example) give custom domains as an FQDN such as
# auth.example.com: labels of the same pattern joined by dots, 253 characters at most.
MODEL_ERRATA = {
    "DomainType": {
        "pattern": r"^[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?)*$",
        "max": 253,
    },
}


def load_model():
    import botocore  # noqa: imported for its data files

    path = os.path.join(os.path.dirname(botocore.__file__), "data", "cognito-idp",
                        "2016-04-18", "service-2.json.gz")
    with gzip.open(path) as f:
        model = json.load(f)
    for shape, fix in MODEL_ERRATA.items():
        model["shapes"][shape].update(fix)
    return model, botocore.__version__


def snake(name):
    # Plural and mixed-case acronyms read as one word: CallbackURLs -> callback_urls.
    for a, b in (("URLs", "Urls"), ("OAuth", "Oauth"), ("ARNs", "Arns"), ("IDs", "Ids")):
        name = name.replace(a, b)
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s).lower()
    if s in RUST_KEYWORDS:
        s = "r#" + s
    return s


def variant(value):
    """An enum wire value as a Rust variant name."""
    parts = re.split(r"[^0-9A-Za-z]+", value)
    out = "".join(p[:1].upper() + p[1:].lower() if p.isupper() or p.islower() else p[:1].upper() + p[1:]
                  for p in parts if p)
    if not out or out[0].isdigit():
        out = "V" + out
    return out


def java_to_rust_regex(p):
    """Translate a Java (Coral) pattern into an equivalent Rust `regex` pattern.

    Java's \\w, \\d and \\s are ASCII-only where Rust's are Unicode, so they are spelled out;
    Rust has no look-behind, so the one model pattern that uses it is rewritten by hand."""
    manual = {
        r"^[0-9A-Za-z\.\-_]*(?<!\.)$": r"^(?:[0-9A-Za-z.\-_]*[0-9A-Za-z\-_])?$",
    }
    if p in manual:
        return manual[p]
    ws = r" \t\n\x0B\x0C\r"
    out = []
    i = 0
    in_class = False
    while i < len(p):
        c = p[i]
        if c == "\\" and i + 1 < len(p):
            e = p[i + 1]
            if e == "w":
                out.append("0-9A-Za-z_" if in_class else "[0-9A-Za-z_]")
            elif e == "d":
                out.append("0-9" if in_class else "[0-9]")
            elif e == "s":
                out.append(ws if in_class else "[" + ws + "]")
            elif e == "S":
                if in_class:
                    # only ever used alone, as `[\S]`: the class is negated by the caller below
                    out.append("\x00NOTWS\x00")
                else:
                    out.append("[^" + ws + "]")
            elif e == "p" and p[i + 2] == "{":
                j = p.index("}", i)
                out.append(p[i:j + 1])
                i = j + 1
                continue
            elif e == "x":
                out.append(p[i:i + 4])
                i += 4
                continue
            else:
                out.append(p[i:i + 2])
            i += 2
            continue
        if c == "[" and not in_class:
            in_class = True
            out.append(c)
            # a literal ']' or '^' right after '[' keeps its class meaning in both dialects
            i += 1
            continue
        if c == "]" and in_class:
            in_class = False
        if in_class and c == "-":
            # Java treats '-' after a range (or before ']') as a literal; Rust wants it escaped
            prev = "".join(out)
            nxt = p[i + 1] if i + 1 < len(p) else "]"
            if nxt == "]" or prev.endswith("[") or re.search(r".-.$", prev) or prev.endswith("_"):
                out.append("\\-")
                i += 1
                continue
        if in_class and c in "&~" :
            out.append("\\" + c)
            i += 1
            continue
        if in_class and c == "[":
            out.append("\\[")
            i += 1
            continue
        out.append(c)
        i += 1
    s = "".join(out)
    s = s.replace("[\x00NOTWS\x00]", "[^" + ws + "]")
    return s


def reachable(shapes, roots):
    seen = []
    seen_set = set()
    stack = list(roots)
    while stack:
        name = stack.pop()
        if name in seen_set:
            continue
        seen_set.add(name)
        seen.append(name)
        s = shapes[name]
        t = s["type"]
        if t == "structure":
            for m in s.get("members", {}).values():
                stack.append(m["shape"])
        elif t == "list":
            stack.append(s["member"]["shape"])
        elif t == "map":
            stack.append(s["key"]["shape"])
            stack.append(s["value"]["shape"])
    return seen


def rust_str(s):
    return json.dumps(s, ensure_ascii=False)


def raw_str(s):
    hashes = "#"
    while ('"' + hashes) in s:
        hashes += "#"
    return "r" + hashes + '"' + s + '"' + hashes


HEADER = "// @generated by tools/gen_wire.py from botocore {ver} (cognito-idp 2016-04-18). Do not edit.\n"


def gen_operations(model, ver, shape_index):
    ops = model["operations"]
    names = sorted(ops)
    lines = [HEADER.format(ver=ver)]
    lines.append("//! Every operation of the cognito-idp model, and what the model says about each.\n")
    lines.append("use crate::constraints::ShapeId;\n")
    lines.append("/// One operation of the cognito-idp API (the part of `X-Amz-Target` after the dot).")
    lines.append("#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]")
    lines.append("pub enum Operation {")
    for n in names:
        lines.append(f"    {n},")
    lines.append("}\n")
    lines.append("impl Operation {")
    lines.append(f"    /// Every operation in the model, sorted by name.")
    lines.append(f"    pub const ALL: [Operation; {len(names)}] = [")
    for n in names:
        lines.append(f"        Operation::{n},")
    lines.append("    ];\n")
    lines.append("    /// The operation's name as it appears in `X-Amz-Target`.")
    lines.append("    pub const fn name(self) -> &'static str {")
    lines.append("        match self {")
    for n in names:
        lines.append(f'            Operation::{n} => "{n}",')
    lines.append("        }")
    lines.append("    }\n")
    lines.append("    /// Parses an operation name; `None` for anything the model does not define.")
    lines.append("    pub fn from_name(name: &str) -> Option<Operation> {")
    lines.append("        match name {")
    for n in names:
        lines.append(f'            "{n}" => Some(Operation::{n}),')
    lines.append("            _ => None,")
    lines.append("        }")
    lines.append("    }\n")
    lines.append("    /// Public operations carry `smithy.api#noAuth`: clients send them unsigned and the")
    lines.append("    /// caller is identified by a token, a session or nothing at all.")
    lines.append("    pub const fn is_public(self) -> bool {")
    pub = [n for n in names if "smithy.api#noAuth" in ops[n].get("auth", [])]
    lines.append("        matches!(")
    lines.append("            self,")
    lines.append("            " + "\n                | ".join(f"Operation::{n}" for n in pub))
    lines.append("        )")
    lines.append("    }\n")
    lines.append("    /// The input shape, for model-constraint validation.")
    lines.append("    pub const fn input_shape(self) -> ShapeId {")
    lines.append("        match self {")
    for n in names:
        inp = ops[n].get("input", {}).get("shape")
        lines.append(f"            Operation::{n} => ShapeId({shape_index[inp]}),")
    lines.append("        }")
    lines.append("    }\n")
    lines.append("    /// The error shapes the model lists for this operation.")
    lines.append("    pub const fn errors(self) -> &'static [&'static str] {")
    lines.append("        match self {")
    for n in names:
        errs = ", ".join(rust_str(e["shape"]) for e in ops[n].get("errors", []))
        lines.append(f"            Operation::{n} => &[{errs}],")
    lines.append("        }")
    lines.append("    }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def gen_errors(model, ver):
    shapes = model["shapes"]
    exc = sorted(k for k, v in shapes.items() if v.get("exception"))
    allc = [(e, 500 if shapes[e].get("fault") else 400) for e in exc] + FRONT_END_ERRORS
    lines = [HEADER.format(ver=ver)]
    lines.append("//! Every error code a client can receive: the model's exception shapes plus the few that")
    lines.append("//! AWS's front end answers with before a request reaches Cognito.\n")
    lines.append("/// An error `__type`, exactly as clients match it.")
    lines.append("#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]")
    lines.append("pub enum ErrorCode {")
    for n, _ in allc:
        lines.append(f"    {n},")
    lines.append("}\n")
    lines.append("impl ErrorCode {")
    lines.append("    /// Every error code, the model's in name order, then the front end's.")
    lines.append(f"    pub const ALL: [ErrorCode; {len(allc)}] = [")
    for n, _ in allc:
        lines.append(f"        ErrorCode::{n},")
    lines.append("    ];\n")
    lines.append("    /// Parses a `__type` name; `None` for anything not in [`ErrorCode::ALL`].")
    lines.append("    pub fn from_name(name: &str) -> Option<ErrorCode> {")
    lines.append("        match name {")
    for n, _ in allc:
        lines.append(f'            "{n}" => Some(ErrorCode::{n}),')
    lines.append("            _ => None,")
    lines.append("        }")
    lines.append("    }\n")
    lines.append("    /// The `__type` name.")
    lines.append("    pub const fn name(self) -> &'static str {")
    lines.append("        match self {")
    for n, _ in allc:
        lines.append(f'            ErrorCode::{n} => "{n}",')
    lines.append("        }")
    lines.append("    }\n")
    lines.append("    /// The HTTP status AWS answers with: 400 for client errors (as real captures show),")
    lines.append("    /// 500 for the model's server faults.")
    lines.append("    pub const fn http_status(self) -> u16 {")
    lines.append("        match self {")
    for n, st in allc:
        lines.append(f"            ErrorCode::{n} => {st},")
    lines.append("        }")
    lines.append("    }\n")
    lines.append("    /// The `x-amzn-ErrorType` header value: the name with AWS's trailing colon.")
    lines.append("    pub const fn header_value(self) -> &'static str {")
    lines.append("        match self {")
    for n, _ in allc:
        lines.append(f'            ErrorCode::{n} => "{n}:",')
    lines.append("        }")
    lines.append("    }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def gen_constraints(model, ver, order):
    shapes = model["shapes"]
    idx = {n: i for i, n in enumerate(order)}
    patterns = []
    pat_idx = {}
    for n in order:
        p = shapes[n].get("pattern")
        if p is not None and p not in pat_idx:
            pat_idx[p] = len(patterns)
            patterns.append(p)
    lines = [HEADER.format(ver=ver)]
    lines.append("//! The model's constraint tables: one entry per shape reachable from an operation input.\n")
    lines.append("use crate::constraints::{Kind, Member, Shape, ShapeId};\n")
    lines.append(f"/// Patterns as the model writes them (Java syntax), quoted verbatim in error messages.")
    lines.append(f"pub(crate) static PATTERNS_JAVA: [&str; {len(patterns)}] = [")
    for p in patterns:
        lines.append(f"    {raw_str(p)},")
    lines.append("];\n")
    lines.append(f"/// The same patterns in Rust `regex` syntax, anchored for a whole-value match.")
    lines.append(f"pub(crate) static PATTERNS_RUST: [&str; {len(patterns)}] = [")
    for p in patterns:
        lines.append(f"    {raw_str(chr(92) + 'A(?:' + java_to_rust_regex(p) + ')' + chr(92) + 'z')},")
    lines.append("];\n")
    lines.append(f"pub(crate) static SHAPES: [Shape; {len(order)}] = [")
    for n in order:
        s = shapes[n]
        t = s["type"]
        sens = "true" if s.get("sensitive") else "false"
        mn = s.get("min")
        mx = s.get("max")
        mn_s = f"Some({int(mn)})" if mn is not None else "None"
        mx_s = f"Some({int(mx)})" if mx is not None else "None"
        if t == "structure":
            if s.get("document"):
                kind = "Kind::Document"
            else:
                req = set(s.get("required", []))
                mems = []
                for mname, m in s.get("members", {}).items():
                    mems.append(
                        f"Member {{ name: {rust_str(mname)}, path: {rust_str(mname[:1].lower() + mname[1:])}, "
                        f"shape: ShapeId({idx[m['shape']]}), required: {'true' if mname in req else 'false'} }}")
                kind = "Kind::Structure(&[" + ", ".join(mems) + "])"
        elif t == "string":
            ev = s.get("enum")
            pat = s.get("pattern")
            pat_s = f"Some({pat_idx[pat]})" if pat is not None else "None"
            ev_s = "&[" + ", ".join(rust_str(v) for v in ev) + "]" if ev else "&[]"
            kind = f"Kind::String {{ min: {mn_s}, max: {mx_s}, pattern: {pat_s}, enum_values: {ev_s} }}"
        elif t == "list":
            kind = f"Kind::List {{ member: ShapeId({idx[s['member']['shape']]}), min: {mn_s}, max: {mx_s} }}"
        elif t == "map":
            kind = (f"Kind::Map {{ key: ShapeId({idx[s['key']['shape']]}), value: ShapeId({idx[s['value']['shape']]}), "
                    f"min: {mn_s}, max: {mx_s} }}")
        elif t in ("integer", "long"):
            kind = f"Kind::Integer {{ min: {mn_s}, max: {mx_s} }}"
        elif t == "boolean":
            kind = "Kind::Boolean"
        elif t == "timestamp":
            kind = "Kind::Timestamp"
        elif t == "blob":
            kind = f"Kind::Blob {{ min: {mn_s}, max: {mx_s} }}"
        else:
            raise SystemExit(f"unknown shape type {t} for {n}")
        lines.append(f"    Shape {{ name: {rust_str(n)}, sensitive: {sens}, kind: {kind} }},")
    lines.append("];")
    return "\n".join(lines) + "\n"


def gen_shapes(model, ver, typed):
    shapes = model["shapes"]
    lines = [HEADER.format(ver=ver)]
    lines.append("//! Typed request and response shapes of the operations the server implements.")
    lines.append("//! Members the model marks required are plain fields; the rest are `Option`s that are")
    lines.append("//! left out of responses when empty, as AWS does.\n")
    lines.append("#![allow(clippy::large_enum_variant, clippy::derivable_impls)]\n")
    lines.append("use serde::{Deserialize, Serialize};")
    lines.append("use std::collections::BTreeMap;\n")

    def is_enum(n):
        s = shapes[n]
        return s["type"] == "string" and "enum" in s

    def rust_type(n):
        s = shapes[n]
        t = s["type"]
        if t == "structure":
            return "serde_json::Value" if s.get("document") else n
        if t == "string":
            return n if is_enum(n) else "String"
        if t == "list":
            return f"Vec<{rust_type(s['member']['shape'])}>"
        if t == "map":
            return f"BTreeMap<String, {rust_type(s['value']['shape'])}>"
        if t == "integer":
            return "i32"
        if t == "long":
            return "i64"
        if t == "boolean":
            return "bool"
        if t == "timestamp":
            return "f64"
        if t == "blob":
            return "String"
        raise SystemExit(t)

    def defaultable(n):
        s = shapes[n]
        for mname in s.get("required", []):
            ms = s["members"][mname]["shape"]
            st = shapes[ms]
            if (st["type"] == "structure" and not st.get("document")) or is_enum(ms):
                return False
        return True

    structs = [n for n in typed if shapes[n]["type"] == "structure" and not shapes[n].get("document")
               and not shapes[n].get("exception")]
    enums = [n for n in typed if is_enum(n)]
    for n in sorted(enums):
        vals = shapes[n]["enum"]
        lines.append("#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]")
        lines.append(f"pub enum {n} {{")
        used = set()
        for v in vals:
            vn = variant(v)
            while vn in used:
                vn += "_"
            used.add(vn)
            lines.append(f"    #[serde(rename = {rust_str(v)})]")
            lines.append(f"    {vn},")
        lines.append("}\n")
        lines.append(f"impl {n} {{")
        lines.append("    /// The value as it appears on the wire.")
        lines.append("    pub const fn as_str(self) -> &'static str {")
        lines.append("        match self {")
        used = set()
        for v in vals:
            vn = variant(v)
            while vn in used:
                vn += "_"
            used.add(vn)
            lines.append(f"            {n}::{vn} => {rust_str(v)},")
        lines.append("        }")
        lines.append("    }")
        lines.append("}\n")
    for n in sorted(structs):
        s = shapes[n]
        req = set(s.get("required", []))
        members = s.get("members", {})
        has_sensitive = any(shapes[m["shape"]].get("sensitive") for m in members.values())
        derives = ["Clone", "PartialEq", "Serialize", "Deserialize"]
        if not has_sensitive:
            derives.insert(0, "Debug")
        if defaultable(n):
            derives.append("Default")
        lines.append(f"#[derive({', '.join(derives)})]")
        lines.append(f"pub struct {n} {{")
        for mname, m in members.items():
            ty = rust_type(m["shape"])
            field = snake(mname)
            attrs = [f"rename = {rust_str(mname)}"]
            if mname in req:
                if shapes[m["shape"]]["type"] in ("list", "map"):
                    attrs.append("default")
                lines.append(f"    #[serde({', '.join(attrs)})]")
                lines.append(f"    pub {field}: {ty},")
            else:
                attrs.append("default")
                attrs.append('skip_serializing_if = "Option::is_none"')
                lines.append(f"    #[serde({', '.join(attrs)})]")
                lines.append(f"    pub {field}: Option<{ty}>,")
        lines.append("}\n")
        if has_sensitive:
            lines.append(f"impl std::fmt::Debug for {n} {{")
            lines.append("    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {")
            lines.append(f'        f.debug_struct("{n}")')
            for mname, m in members.items():
                field = snake(mname)
                if shapes[m["shape"]].get("sensitive"):
                    lines.append(f'            .field("{field}", &"<redacted>")')
                else:
                    lines.append(f'            .field("{field}", &self.{field})')
            lines.append("            .finish()")
            lines.append("    }")
            lines.append("}\n")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="fail if the checked-in files are stale")
    args = ap.parse_args()
    model, ver = load_model()
    shapes = model["shapes"]
    ops = model["operations"]
    input_roots = sorted({o["input"]["shape"] for o in ops.values() if "input" in o})
    order = reachable(shapes, input_roots)
    order.sort()
    shape_index = {n: i for i, n in enumerate(order)}
    typed_roots = []
    for op in TYPED_OPERATIONS:
        o = ops[op]
        for k in ("input", "output"):
            if k in o:
                typed_roots.append(o[k]["shape"])
    typed = sorted(reachable(shapes, typed_roots))
    files = {
        "operations.rs": gen_operations(model, ver, shape_index),
        "errors.rs": gen_errors(model, ver),
        "constraint_tables.rs": gen_constraints(model, ver, order),
        "shapes.rs": gen_shapes(model, ver, typed),
    }
    os.makedirs(OUT, exist_ok=True)
    stale = []
    for name, text in files.items():
        path = os.path.join(OUT, name)
        old = open(path, encoding="utf-8").read() if os.path.exists(path) else None
        if old != text:
            stale.append(name)
            if not args.check:
                with open(path, "w", encoding="utf-8") as f:
                    f.write(text)
    if args.check and stale:
        print("stale generated files (run python3 tools/gen_wire.py):", ", ".join(stale))
        sys.exit(1)
    print(f"botocore {ver}: {len(ops)} operations, {len(order)} input shapes, {len(typed)} typed shapes"
          + ("" if not stale else f"; wrote {', '.join(stale)}"))


if __name__ == "__main__":
    main()
