//! The SDK's `Document` (WebAuthn options and credentials travel as JSON documents) to and from
//! `serde_json::Value`.

use aws_smithy_types::{Document, Number};
use serde_json::Value;

/// A Document as JSON.
pub fn to_json(d: &Document) -> Value {
    match d {
        Document::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
        Document::Array(a) => Value::Array(a.iter().map(to_json).collect()),
        Document::Number(Number::PosInt(n)) => Value::from(*n),
        Document::Number(Number::NegInt(n)) => Value::from(*n),
        Document::Number(Number::Float(f)) => Value::from(*f),
        Document::String(s) => Value::String(s.clone()),
        Document::Bool(b) => Value::Bool(*b),
        Document::Null => Value::Null,
    }
}

/// JSON as a Document.
pub fn from_json(v: &Value) -> Document {
    match v {
        Value::Object(m) => Document::Object(m.iter().map(|(k, v)| (k.clone(), from_json(v))).collect()),
        Value::Array(a) => Document::Array(a.iter().map(from_json).collect()),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => Document::Number(Number::PosInt(u)),
            (None, Some(i)) => Document::Number(Number::NegInt(i)),
            _ => Document::Number(Number::Float(n.as_f64().unwrap_or_default())),
        },
        Value::String(s) => Document::String(s.clone()),
        Value::Bool(b) => Document::Bool(*b),
        Value::Null => Document::Null,
    }
}
