//! User attributes checked against the pool's schema, with AWS's messages.

use crate::error::{DomainError, Result};
use crate::pool::UserPool;
use cmfa_wire::shapes::{AttributeDataType, AttributeType, SchemaAttributeType};

const PREFIX: &str = "Attributes did not conform to the schema: ";

fn schema_of<'a>(pool: &'a UserPool, name: &str) -> Option<&'a SchemaAttributeType> {
    pool.config
        .schema_attributes
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .find(|a| a.name.as_deref() == Some(name))
}

/// A Boolean attribute's value in AWS's spelling, from any case of `true` / `false`.
pub fn boolean(value: &str) -> Option<&'static str> {
    if value.eq_ignore_ascii_case("true") {
        Some("true")
    } else if value.eq_ignore_ascii_case("false") {
        Some("false")
    } else {
        None
    }
}

/// The value to store: Boolean attributes (the `_verified` flags) as `true` / `false`.
pub fn normalized(name: &str, value: String) -> String {
    match name {
        "email_verified" | "phone_number_verified" => boolean(&value).map(str::to_owned).unwrap_or(value),
        _ => value,
    }
}

fn invalid(m: String) -> DomainError {
    DomainError::InvalidParameter(m)
}

/// Checks one attribute's name, type and length against the schema.
pub fn check_attribute(pool: &UserPool, a: &AttributeType) -> Result<()> {
    let Some(schema) = schema_of(pool, &a.name) else {
        return Err(invalid(format!(
            "{PREFIX}Type for attribute {{{}}} could not be determined",
            a.name
        )));
    };
    let value = a.value.as_deref().unwrap_or("");
    match schema.attribute_data_type {
        // Any case, as AWS accepts (Python's str(True) is "True"); stored as "true" / "false".
        Some(AttributeDataType::Boolean) if boolean(value).is_none() => {
            return Err(invalid(format!(
                "{PREFIX}{}: Value must be either true or false",
                a.name
            )));
        }
        Some(AttributeDataType::Number) if !value.is_empty() && value.parse::<f64>().is_err() => {
            return Err(invalid(format!("{PREFIX}{}: Number must be a valid number", a.name)));
        }
        _ => {}
    }
    if let Some(c) = &schema.string_attribute_constraints {
        let len = value.chars().count();
        if let Some(max) = c.max_length.as_deref().and_then(|m| m.parse::<usize>().ok())
            && len > max
        {
            return Err(invalid(format!(
                "{PREFIX}{}: String must be no longer than {max} characters",
                a.name
            )));
        }
        if let Some(min) = c.min_length.as_deref().and_then(|m| m.parse::<usize>().ok())
            && len < min
            && !value.is_empty()
        {
            return Err(invalid(format!(
                "{PREFIX}{}: String must be no shorter than {min} characters",
                a.name
            )));
        }
    }
    match a.name.as_str() {
        "email" if !looks_like_email(value) => Err(invalid("Invalid email address format.".into())),
        "phone_number" if !looks_like_e164(value) => Err(invalid("Invalid phone number format.".into())),
        _ => Ok(()),
    }
}

/// Checks attributes a caller sets (not `sub`, nothing non-mutable once the user exists).
pub fn check_writable(pool: &UserPool, attrs: &[AttributeType], creating: bool) -> Result<()> {
    for a in attrs {
        if a.name == "sub" {
            return Err(invalid(format!(
                "{PREFIX}sub: Attribute cannot be updated. (changing an immutable attribute)"
            )));
        }
        check_attribute(pool, a)?;
        if !creating && schema_of(pool, &a.name).and_then(|s| s.mutable) == Some(false) {
            return Err(invalid(format!(
                "{PREFIX}{}: Attribute cannot be updated. (changing an immutable attribute)",
                a.name
            )));
        }
    }
    Ok(())
}

/// Checks that every attribute the schema marks required is present.
pub fn check_required(pool: &UserPool, attrs: &[AttributeType]) -> Result<()> {
    for s in pool.config.schema_attributes.as_deref().unwrap_or(&[]) {
        let name = s.name.as_deref().unwrap_or("");
        if s.required == Some(true) && name != "sub" && !attrs.iter().any(|a| a.name == name) {
            return Err(invalid(format!("{PREFIX}{name}: The attribute is required")));
        }
    }
    Ok(())
}

fn looks_like_email(v: &str) -> bool {
    match v.split_once('@') {
        Some((local, domain)) => !local.is_empty() && !domain.is_empty() && !v.contains(char::is_whitespace),
        None => false,
    }
}

fn looks_like_e164(v: &str) -> bool {
    let digits = v.strip_prefix('+').unwrap_or("");
    (2..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pool::rules;
    use cmfa_wire::shapes::CreateUserPoolRequest;

    fn pool() -> UserPool {
        rules::create(
            "us-east-1_a".into(),
            "arn".into(),
            1.0,
            CreateUserPoolRequest {
                pool_name: "p".into(),
                ..Default::default()
            },
        )
        .unwrap()
    }

    fn attr(n: &str, v: &str) -> AttributeType {
        AttributeType {
            name: n.into(),
            value: Some(v.into()),
        }
    }

    #[test]
    fn schema_rules() {
        let p = pool();
        check_writable(
            &p,
            &[attr("email", "a@example.com"), attr("phone_number", "+15550100")],
            true,
        )
        .unwrap();
        assert!(check_writable(&p, &[attr("email", "nope")], true).is_err());
        assert!(check_writable(&p, &[attr("phone_number", "5550100")], true).is_err());
        assert!(check_writable(&p, &[attr("custom:x", "1")], true).is_err());
        assert!(check_writable(&p, &[attr("sub", "1")], true).is_err());
        assert!(check_writable(&p, &[attr("email_verified", "yes")], true).is_err());
        assert!(check_writable(&p, &[attr("name", &"x".repeat(2049))], true).is_err());
    }
}
