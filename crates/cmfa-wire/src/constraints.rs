//! Model-constraint validation of request bodies, with AWS's messages.
//!
//! Validation walks the JSON value against the generated shape tables instead of the typed
//! structs, so that every constraint of every operation is enforced from the same data, the
//! violations come out in model order, and a wrong JSON type can be told apart from a constraint
//! violation (AWS answers the first with `SerializationException`).

mod class_run;

use crate::Operation;
use crate::generated::constraint_tables::{PATTERNS_JAVA, PATTERNS_RUST, SHAPES};
use class_run::ClassRun;
use regex::Regex;
use serde_json::Value;
use std::fmt::Write as _;
use std::sync::OnceLock;

/// Index of a shape in the generated table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShapeId(pub(crate) u16);

/// One shape of the model, as far as validation needs it.
#[derive(Debug)]
pub(crate) struct Shape {
    pub(crate) name: &'static str,
    pub(crate) sensitive: bool,
    pub(crate) kind: Kind,
}

#[derive(Debug)]
pub(crate) enum Kind {
    Structure(&'static [Member]),
    String {
        min: Option<i64>,
        max: Option<i64>,
        pattern: Option<usize>,
        enum_values: &'static [&'static str],
    },
    List {
        member: ShapeId,
        min: Option<i64>,
        max: Option<i64>,
    },
    Map {
        key: ShapeId,
        value: ShapeId,
        min: Option<i64>,
        max: Option<i64>,
    },
    Integer {
        min: Option<i64>,
        max: Option<i64>,
    },
    Boolean,
    Timestamp,
    Blob {
        min: Option<i64>,
        max: Option<i64>,
    },
    Document,
}

#[derive(Debug)]
pub(crate) struct Member {
    pub(crate) name: &'static str,
    /// The name as AWS writes it in messages: first letter lower-cased.
    pub(crate) path: &'static str,
    pub(crate) shape: ShapeId,
    pub(crate) required: bool,
}

/// Why a body was refused before reaching the operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalid {
    /// The body is not the JSON structure the model describes (`SerializationException`).
    Serialization(String),
    /// One or more model constraints failed (`InvalidParameterException`), in model order.
    Constraints(Vec<Violation>),
}

impl Invalid {
    /// The message AWS sends for this failure.
    pub fn message(&self) -> String {
        match self {
            Invalid::Serialization(m) => m.clone(),
            Invalid::Constraints(v) => violations_message(v),
        }
    }
}

/// One failed constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Dotted member path, e.g. `smsMfaConfiguration.smsAuthenticationMessage`.
    pub path: String,
    /// The offending value as AWS renders it (`'abc'`, `null`), or `None` for sensitive members,
    /// whose values AWS leaves out of messages.
    pub value: Option<String>,
    /// The constraint text after `Member must ...`.
    pub constraint: String,
}

/// Renders violations as AWS does: `1 validation error detected: Value 'x' at 'y' failed to
/// satisfy constraint: Member must ...`, several joined by `; `.
pub fn violations_message(v: &[Violation]) -> String {
    let mut out = String::with_capacity(96 * v.len());
    if v.len() == 1 {
        out.push_str("1 validation error detected: ");
    } else {
        let _ = write!(out, "{} validation errors detected: ", v.len());
    }
    for (i, x) in v.iter().enumerate() {
        if i > 0 {
            out.push_str("; ");
        }
        match &x.value {
            Some(val) => {
                let _ = write!(out, "Value {val} at '{}'", x.path);
            }
            None => {
                let _ = write!(out, "Value at '{}'", x.path);
            }
        }
        let _ = write!(out, " failed to satisfy constraint: {}", x.constraint);
    }
    out
}

/// Longest list rendering echoed into a message (strings are echoed whole, as AWS does; the
/// server bounds the header copy of the message separately).
const MAX_ECHO_CHARS: usize = 256;

/// How one model pattern is checked: a byte loop for a repeated ASCII class, else the regex.
enum Matcher {
    ClassRun(ClassRun),
    Regex(Regex),
}

fn matchers() -> &'static [OnceLock<Matcher>] {
    static CELLS: OnceLock<Vec<OnceLock<Matcher>>> = OnceLock::new();
    CELLS.get_or_init(|| (0..PATTERNS_RUST.len()).map(|_| OnceLock::new()).collect())
}

fn pattern_matches(idx: usize, s: &str) -> bool {
    let m = matchers()[idx].get_or_init(|| match ClassRun::parse(PATTERNS_RUST[idx]) {
        Some(run) => Matcher::ClassRun(run),
        // Every pattern is compiled by a unit test, so this cannot fail at run time.
        None => Matcher::Regex(Regex::new(PATTERNS_RUST[idx]).expect("generated pattern compiles")),
    });
    match m {
        Matcher::ClassRun(run) => run.matches(s),
        Matcher::Regex(re) => re.is_match(s),
    }
}

/// Checks `body` against the input shape of `op`.
pub fn validate(op: Operation, body: &Value) -> Result<(), Invalid> {
    validate_shape(op.input_shape(), body)
}

/// Checks `body` against one input shape. Exposed for tests of single shapes.
pub fn validate_shape(shape: ShapeId, body: &Value) -> Result<(), Invalid> {
    if !body.is_object() {
        return Err(Invalid::Serialization(
            "Start of structure or map found where not expected.".to_owned()
                + " The request body must be a JSON object.",
        ));
    }
    let mut v = Walker {
        violations: Vec::new(),
        path: String::new(),
    };
    v.walk(shape, body)?;
    if v.violations.is_empty() {
        Ok(())
    } else {
        Err(Invalid::Constraints(v.violations))
    }
}

struct Walker {
    violations: Vec<Violation>,
    path: String,
}

fn render_str(s: &str) -> String {
    format!("'{s}'")
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "structure or map",
    }
}

impl Walker {
    fn push(&mut self, shape: &Shape, value: Option<String>, constraint: String) {
        self.violations.push(Violation {
            path: self.path.clone(),
            value: if shape.sensitive { None } else { value },
            constraint,
        });
    }

    fn wrong_type(&self, expected: &str, got: &Value) -> Invalid {
        Invalid::Serialization(format!(
            "Unexpected {} at '{}': expected {expected}.",
            type_name(got),
            if self.path.is_empty() { "(root)" } else { &self.path }
        ))
    }

    fn length(&mut self, shape: &Shape, len: i64, min: Option<i64>, max: Option<i64>, shown: &dyn Fn() -> String) {
        if let Some(min) = min
            && len < min
        {
            self.push(
                shape,
                Some(shown()),
                format!("Member must have length greater than or equal to {min}"),
            );
        }
        if let Some(max) = max
            && len > max
        {
            self.push(
                shape,
                Some(shown()),
                format!("Member must have length less than or equal to {max}"),
            );
        }
    }

    fn enter(&mut self, seg: &str) -> usize {
        let mark = self.path.len();
        if !self.path.is_empty() {
            self.path.push('.');
        }
        self.path.push_str(seg);
        mark
    }

    fn walk(&mut self, id: ShapeId, value: &Value) -> Result<(), Invalid> {
        let shape = &SHAPES[id.0 as usize];
        match &shape.kind {
            Kind::Structure(members) => {
                let Value::Object(map) = value else {
                    return Err(self.wrong_type("a structure", value));
                };
                for m in members.iter() {
                    let mark = self.enter(m.path);
                    match map.get(m.name) {
                        None | Some(Value::Null) => {
                            if m.required {
                                self.violations.push(Violation {
                                    path: self.path.clone(),
                                    value: Some("null".to_owned()),
                                    constraint: "Member must not be null".to_owned(),
                                });
                            }
                        }
                        Some(v) => self.walk(m.shape, v)?,
                    }
                    self.path.truncate(mark);
                }
            }
            Kind::String {
                min,
                max,
                pattern,
                enum_values,
            } => {
                let Value::String(s) = value else {
                    return Err(self.wrong_type("a string", value));
                };
                let len = s.chars().count() as i64;
                self.length(shape, len, *min, *max, &|| render_str(s));
                if let Some(p) = pattern
                    && !pattern_matches(*p, s)
                {
                    self.push(
                        shape,
                        Some(render_str(s)),
                        format!("Member must satisfy regular expression pattern: {}", PATTERNS_JAVA[*p]),
                    );
                }
                if !enum_values.is_empty() && !enum_values.contains(&s.as_str()) {
                    self.push(
                        shape,
                        Some(render_str(s)),
                        format!("Member must satisfy enum value set: [{}]", enum_values.join(", ")),
                    );
                }
            }
            Kind::List { member, min, max } => {
                let Value::Array(items) = value else {
                    return Err(self.wrong_type("a list", value));
                };
                self.length(shape, items.len() as i64, *min, *max, &|| render_list(items));
                for (i, item) in items.iter().enumerate() {
                    if item.is_null() {
                        continue;
                    }
                    let mark = self.enter(&format!("{}.member", i + 1));
                    self.walk(*member, item)?;
                    self.path.truncate(mark);
                }
            }
            Kind::Map {
                key,
                value: vshape,
                min,
                max,
            } => {
                let Value::Object(map) = value else {
                    return Err(self.wrong_type("a map", value));
                };
                self.length(shape, map.len() as i64, *min, *max, &|| {
                    format!("'{{{} entries}}'", map.len())
                });
                for (k, v) in map {
                    let mark = self.enter(k);
                    self.walk(*key, &Value::String(k.clone()))?;
                    if !v.is_null() {
                        self.walk(*vshape, v)?;
                    }
                    self.path.truncate(mark);
                }
            }
            Kind::Integer { min, max } => {
                let Some(n) = value.as_i64() else {
                    return Err(self.wrong_type("an integer", value));
                };
                if let Some(min) = min
                    && n < *min
                {
                    self.push(
                        shape,
                        Some(format!("'{n}'")),
                        format!("Member must have value greater than or equal to {min}"),
                    );
                }
                if let Some(max) = max
                    && n > *max
                {
                    self.push(
                        shape,
                        Some(format!("'{n}'")),
                        format!("Member must have value less than or equal to {max}"),
                    );
                }
            }
            Kind::Boolean => {
                if !value.is_boolean() {
                    return Err(self.wrong_type("a boolean", value));
                }
            }
            Kind::Timestamp => {
                if !value.is_number() {
                    return Err(self.wrong_type("a timestamp (epoch seconds)", value));
                }
            }
            Kind::Blob { min, max } => {
                let Value::String(s) = value else {
                    return Err(self.wrong_type("a base64 string", value));
                };
                self.length(shape, s.len() as i64, *min, *max, &|| "'<blob>'".to_owned());
            }
            Kind::Document => {}
        }
        Ok(())
    }
}

fn render_list(items: &[Value]) -> String {
    let mut out = String::from("'[");
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        match it {
            Value::String(s) => out.push_str(s),
            other => out.push_str(&other.to_string()),
        }
        if out.len() > MAX_ECHO_CHARS {
            out.push_str("...");
            break;
        }
    }
    out.push_str("]'");
    out
}

/// The shape with this name, for tests.
pub fn shape_named(name: &str) -> Option<ShapeId> {
    SHAPES.iter().position(|s| s.name == name).map(|i| ShapeId(i as u16))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_model_pattern_compiles_and_anchors() {
        for (i, p) in PATTERNS_RUST.iter().enumerate() {
            let re = Regex::new(p).unwrap_or_else(|e| panic!("pattern {i} {p}: {e}"));
            assert!(p.starts_with("\\A(?:") && p.ends_with(")\\z"), "{p}");
            drop(re);
        }
    }

    #[test]
    fn java_semantics_are_kept() {
        let pool = shape_named("UserPoolIdType").unwrap();
        let Kind::String { pattern: Some(p), .. } = SHAPES[pool.0 as usize].kind else {
            panic!()
        };
        assert!(pattern_matches(p, "us-east-1_AbC123xyZ"));
        assert!(!pattern_matches(p, "us-east-1_AbC123xyZ "), "whole-value match");
        // Java's \w is ASCII-only; Rust's would accept this.
        assert!(!pattern_matches(p, "üs-east-1_abc"));
    }

    #[test]
    fn messages_match_aws_format() {
        let err = validate(
            Operation::SetUserPoolMfaConfig,
            &json!({
                "UserPoolId": "us-east-1_abc",
                "SmsMfaConfiguration": {"SmsAuthenticationMessage": "no code here"},
                "MfaConfiguration": "MAYBE"
            }),
        )
        .unwrap_err();
        assert_eq!(
            err.message(),
            "2 validation errors detected: Value 'no code here' at 'smsMfaConfiguration.smsAuthenticationMessage' failed to satisfy constraint: Member must satisfy regular expression pattern: .*\\{####\\}.*; Value 'MAYBE' at 'mfaConfiguration' failed to satisfy constraint: Member must satisfy enum value set: [OFF, ON, OPTIONAL]"
        );
        let err = validate(Operation::GetUserPoolMfaConfig, &json!({})).unwrap_err();
        assert_eq!(
            err.message(),
            "1 validation error detected: Value null at 'userPoolId' failed to satisfy constraint: Member must not be null"
        );
    }

    #[test]
    fn wrong_types_are_serialization_errors() {
        let e = validate(Operation::GetUserPoolMfaConfig, &json!({"UserPoolId": 5})).unwrap_err();
        assert!(matches!(e, Invalid::Serialization(_)));
        let e = validate(Operation::GetUserPoolMfaConfig, &json!([1])).unwrap_err();
        assert!(matches!(e, Invalid::Serialization(_)));
        let e = validate(Operation::ListUserPools, &json!({"MaxResults": "x"})).unwrap_err();
        assert!(matches!(e, Invalid::Serialization(_)));
    }

    #[test]
    fn ranges_and_lengths() {
        let e = validate(Operation::ListUserPools, &json!({"MaxResults": 0})).unwrap_err();
        assert_eq!(
            e.message(),
            "1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1"
        );
        let long = "a".repeat(141) + "{####}";
        let e = validate(
            Operation::SetUserPoolMfaConfig,
            &json!({"UserPoolId": "us-east-1_a", "SmsMfaConfiguration": {"SmsAuthenticationMessage": long}}),
        )
        .unwrap_err();
        assert!(
            e.message()
                .contains("Member must have length less than or equal to 140"),
            "{}",
            e.message()
        );
    }

    #[test]
    fn sensitive_values_are_not_echoed() {
        let e = validate(
            Operation::InitiateAuth,
            &json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": "abc", "AuthParameters": {"PASSWORD": "x".repeat(300)}}),
        );
        if let Err(e) = e {
            assert!(!e.message().contains("xxxx"), "{}", e.message());
        }
    }

    #[test]
    fn valid_bodies_pass() {
        validate(Operation::SetUserPoolMfaConfig, &json!({
            "UserPoolId": "eu-west-1_AbC123",
            "MfaConfiguration": "ON",
            "SoftwareTokenMfaConfiguration": {"Enabled": true},
            "EmailMfaConfiguration": {"Message": "Your code is {####}", "Subject": "Code"},
            "WebAuthnConfiguration": {"RelyingPartyId": "example.com", "UserVerification": "preferred", "FactorConfiguration": "SINGLE_FACTOR"}
        }))
        .unwrap();
    }
}
