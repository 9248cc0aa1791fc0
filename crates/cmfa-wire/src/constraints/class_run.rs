//! A fast path for the model's commonest pattern form: one character class of ASCII members,
//! repeated over the whole value (`[A-Za-z0-9\-_=.]+`, `[^ \t\n\x0B\x0C\r]+`, optionally inside
//! `^…$`). Tokens, sessions and secrets are hundreds of bytes long and checked on every request;
//! a byte loop over a 128-bit set does that without the regex engine. Any other pattern, or a
//! class with a member this parser does not know (`\p{..}`, `\w`, set operations, a non-ASCII
//! character), keeps the regex: `parse` answers `None`.

/// One class, repeated: `[set]+` / `[set]*`, or `[^set]+` / `[^set]*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ClassRun {
    /// Bit `b` set: ASCII byte `b` is a member of the written set.
    set: u128,
    /// `[^…]`: every character outside the set matches, non-ASCII ones included.
    negated: bool,
    /// `+`: at least one character.
    non_empty: bool,
}

impl ClassRun {
    /// The class run that `pattern` (a generated `\A(?:…)\z` pattern) is, if it is one.
    pub(super) fn parse(pattern: &str) -> Option<ClassRun> {
        let inner = pattern.strip_prefix(r"\A(?:")?.strip_suffix(r")\z")?;
        let inner = match inner.strip_prefix('^') {
            Some(rest) => rest.strip_suffix('$')?,
            None => inner,
        };
        let (class, non_empty) = match inner.strip_suffix("]+") {
            Some(c) => (c, true),
            None => (inner.strip_suffix("]*")?, false),
        };
        let class = class.strip_prefix('[')?;
        let (members, negated) = match class.strip_prefix('^') {
            Some(m) => (m, true),
            None => (class, false),
        };
        // Set operations (`--`, `&&`, `~~`) and nested classes are left to the regex.
        if members.is_empty() || ["--", "&&", "~~", "["].iter().any(|op| members.contains(op)) {
            return None;
        }
        let mut set = 0u128;
        let mut rest = members.as_bytes();
        while !rest.is_empty() {
            let (lo, after) = member(rest)?;
            rest = after;
            // `a-z`; a `-` that ends the class is itself a member.
            let (hi, after) = match rest {
                [b'-', more @ ..] if !more.is_empty() => member(more)?,
                _ => (lo, rest),
            };
            rest = after;
            if hi < lo {
                return None;
            }
            for b in lo..=hi {
                set |= 1u128 << b;
            }
        }
        Some(ClassRun {
            set,
            negated,
            non_empty,
        })
    }

    /// Whether all of `s` matches (as the anchored regex would).
    pub(super) fn matches(&self, s: &str) -> bool {
        if self.non_empty && s.is_empty() {
            return false;
        }
        let set = self.set;
        let member = |b: u8| b < 128 && set >> b & 1 == 1;
        if self.negated {
            // Bytes of a multi-byte UTF-8 character are all >= 0x80 and never in the set.
            s.bytes().all(|b| !member(b))
        } else {
            s.bytes().all(member)
        }
    }
}

/// One member at the start of `s`: an ASCII literal, `\xHH`, `\t` `\n` `\r`, or an escaped
/// punctuation character; the byte and what follows it.
fn member(s: &[u8]) -> Option<(u8, &[u8])> {
    match s {
        [b'\\', b'x', h, l, rest @ ..] => {
            let b = u8::from_str_radix(std::str::from_utf8(&[*h, *l]).ok()?, 16).ok()?;
            (b < 128).then_some((b, rest))
        }
        [b'\\', b't', rest @ ..] => Some((b'\t', rest)),
        [b'\\', b'n', rest @ ..] => Some((b'\n', rest)),
        [b'\\', b'r', rest @ ..] => Some((b'\r', rest)),
        [b'\\', c, rest @ ..] if c.is_ascii_punctuation() => Some((*c, rest)),
        // Any other escape (`\p{..}`, `\w`, `\d`, `\s`, `\b`...) is a class of its own.
        [b'\\', ..] => None,
        [b']', ..] => None,
        [c, rest @ ..] if c.is_ascii() && !c.is_ascii_control() => Some((*c, rest)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::ClassRun;
    use crate::generated::constraint_tables::PATTERNS_RUST;
    use regex::Regex;

    /// Strings that probe a class: every ASCII character alone and doubled, pairs of a member
    /// with every other character, the empty string, non-ASCII letters, symbols and separators.
    fn probes() -> Vec<String> {
        let mut out = vec![String::new()];
        for b in 0u8..128 {
            let c = b as char;
            out.push(c.to_string());
            out.push(format!("{c}{c}"));
            out.push(format!("a{c}"));
            out.push(format!("{c}Z9"));
            out.push(format!("eyJ0eXAi.{c}-_="));
        }
        for s in [
            "ü",
            "üs-east-1",
            "日本語",
            "a\u{2028}b",
            "\u{a0}",
            "€",
            "x\u{10FFFF}",
            "ab\u{7f}",
        ] {
            out.push(s.to_owned());
        }
        out
    }

    #[test]
    fn the_fast_path_agrees_with_the_regex_on_every_pattern_it_takes() {
        let mut taken = 0;
        for (i, p) in PATTERNS_RUST.iter().enumerate() {
            let Some(run) = ClassRun::parse(p) else {
                continue;
            };
            taken += 1;
            let re = Regex::new(p).unwrap();
            for s in probes() {
                assert_eq!(run.matches(&s), re.is_match(&s), "pattern {i} {p} on {s:?}");
            }
        }
        // The token, session, secret and client-id patterns among them.
        assert!(taken >= 12, "only {taken} patterns take the fast path");
    }

    #[test]
    fn the_access_token_pattern_takes_the_fast_path() {
        let run = ClassRun::parse(r"\A(?:[A-Za-z0-9\-_=.]+)\z").expect("a class run");
        assert!(run.matches("eyJraWQiOiJrMSJ9.eyJzdWIiOiIxIn0.c2ln-_="));
        assert!(!run.matches("eyJ.abc def") && !run.matches("") && !run.matches("tök"));
    }

    #[test]
    fn classes_it_does_not_know_keep_the_regex() {
        for p in [
            r"\A(?:[\p{L}\p{M}]+)\z",
            r"\A(?:[\w-]+)\z",
            r"\A(?:[a-z--x]+)\z",
            r"\A(?:[a-z&&[^x]]+)\z",
            r"\A(?:[a-z]+_[0-9]+)\z",
            r"\A(?:[z-a]+)\z",
            r"\A(?:[é]+)\z",
            r"\A(?:[]+)\z",
            r"\A(?:(?s).*)\z",
        ] {
            assert_eq!(ClassRun::parse(p), None, "{p}");
        }
    }
}
