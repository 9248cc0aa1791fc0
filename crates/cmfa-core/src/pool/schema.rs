//! A pool's attribute schema as CreateUserPool (and AddCustomAttributes) declare it: the checks
//! AWS makes on each declared attribute before anything is stored.
//!
//! A declared attribute either refines a standard one (`Required`, `Mutable`, constraints; never
//! its type and never developer-only) or is a custom one, stored as `custom:<name>`, or
//! `dev:custom:<name>` when it is developer-only (only an administrator may write it). Custom
//! attributes need a type; constraints must fit the type, be numbers, and bound a range that is
//! not empty; string lengths stop at 2,048.

use crate::error::{DomainError, Result};
use cmfa_wire::shapes::{AttributeDataType, SchemaAttributeType};

/// Longest string attribute AWS allows.
pub const MAX_STRING_LENGTH: u64 = 2048;

fn invalid(m: String) -> DomainError {
    DomainError::InvalidParameter(m)
}

/// The stored name of a custom attribute declared as `name` (with or without its prefix).
pub fn custom_name(name: &str, developer_only: bool) -> String {
    let bare = name
        .strip_prefix("dev:custom:")
        .or_else(|| name.strip_prefix("custom:"))
        .unwrap_or(name);
    if developer_only {
        format!("dev:custom:{bare}")
    } else {
        format!("custom:{bare}")
    }
}

/// Checks one declared custom attribute and completes it as DescribeUserPool shows it.
pub fn custom_attribute(mut attr: SchemaAttributeType) -> Result<SchemaAttributeType> {
    let name = attr.name.clone().unwrap_or_default();
    let Some(kind) = attr.attribute_data_type else {
        // AWS's text (reported by Amplify users).
        return Err(invalid(
            "Invalid AttributeDataType input, consider using the provided AttributeDataType enum.".into(),
        ));
    };
    if attr.required == Some(true) {
        return Err(invalid(format!(
            "Required custom attributes are not supported currently. Attribute: {name}"
        )));
    }
    check_constraints(&name, kind, &attr)?;
    let developer_only = attr.developer_only_attribute.unwrap_or(false);
    attr.name = Some(custom_name(&name, developer_only));
    attr.developer_only_attribute = Some(developer_only);
    attr.mutable.get_or_insert(true);
    attr.required = Some(false);
    Ok(attr)
}

/// Applies a declaration of the standard attribute `standard` (its type cannot change, and it
/// cannot become developer-only).
pub fn refine_standard(standard: &mut SchemaAttributeType, attr: SchemaAttributeType) -> Result<()> {
    let name = standard.name.clone().unwrap_or_default();
    let kind = standard.attribute_data_type.unwrap_or(AttributeDataType::String);
    if attr.attribute_data_type.is_some_and(|t| t != kind) || attr.developer_only_attribute == Some(true) {
        return Err(invalid(format!(
            "You can not change AttributeDataType or set developerOnlyAttribute for standard schema attribute {name}"
        )));
    }
    check_constraints(&name, kind, &attr)?;
    if let Some(r) = attr.required {
        standard.required = Some(r);
    }
    if let Some(m) = attr.mutable {
        standard.mutable = Some(m);
    }
    if let Some(c) = attr.string_attribute_constraints {
        standard.string_attribute_constraints = Some(c);
    }
    if let Some(c) = attr.number_attribute_constraints {
        standard.number_attribute_constraints = Some(c);
    }
    Ok(())
}

/// Constraints fit the type, are numbers, and bound a non-empty range.
fn check_constraints(name: &str, kind: AttributeDataType, attr: &SchemaAttributeType) -> Result<()> {
    if let Some(c) = &attr.string_attribute_constraints {
        if kind != AttributeDataType::String {
            return Err(invalid(format!(
                "{name}: StringAttributeConstraints apply to String attributes only"
            )));
        }
        let length = |v: &Option<String>, what: &str| -> Result<Option<u64>> {
            v.as_deref()
                .map(|s| {
                    s.trim()
                        .parse::<u64>()
                        .map_err(|_| invalid(format!("{name}: {what} must be a non-negative whole number")))
                })
                .transpose()
        };
        let (min, max) = (length(&c.min_length, "MinLength")?, length(&c.max_length, "MaxLength")?);
        if max.is_some_and(|m| m > MAX_STRING_LENGTH) || min.is_some_and(|m| m > MAX_STRING_LENGTH) {
            return Err(invalid(format!(
                "{name}: String attributes cannot have a length of more than {MAX_STRING_LENGTH}"
            )));
        }
        if let (Some(min), Some(max)) = (min, max)
            && min > max
        {
            return Err(invalid(format!("{name}: MaxLength cannot be less than MinLength")));
        }
    }
    if let Some(c) = &attr.number_attribute_constraints {
        if kind != AttributeDataType::Number {
            return Err(invalid(format!(
                "{name}: NumberAttributeConstraints apply to Number attributes only"
            )));
        }
        let value = |v: &Option<String>, what: &str| -> Result<Option<i64>> {
            v.as_deref()
                .map(|s| {
                    s.trim()
                        .parse::<i64>()
                        .map_err(|_| invalid(format!("{name}: {what} must be a whole number")))
                })
                .transpose()
        };
        let (min, max) = (value(&c.min_value, "MinValue")?, value(&c.max_value, "MaxValue")?);
        if let (Some(min), Some(max)) = (min, max)
            && min > max
        {
            return Err(invalid(format!("{name}: MaxValue cannot be less than MinValue")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cmfa_wire::shapes::{NumberAttributeConstraintsType, StringAttributeConstraintsType};

    fn attr(name: &str, kind: Option<AttributeDataType>) -> SchemaAttributeType {
        SchemaAttributeType {
            name: Some(name.into()),
            attribute_data_type: kind,
            ..Default::default()
        }
    }

    fn message(r: Result<SchemaAttributeType>) -> String {
        match r {
            Err(DomainError::InvalidParameter(m)) => m,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn custom_attributes_need_a_type_and_get_their_prefix() {
        assert!(message(custom_attribute(attr("tier", None))).starts_with("Invalid AttributeDataType input"));
        let a = custom_attribute(attr("tier", Some(AttributeDataType::String))).unwrap();
        assert_eq!(a.name.as_deref(), Some("custom:tier"));
        assert_eq!(
            (a.mutable, a.required, a.developer_only_attribute),
            (Some(true), Some(false), Some(false))
        );
        let mut dev = attr("custom:secret", Some(AttributeDataType::String));
        dev.developer_only_attribute = Some(true);
        assert_eq!(
            custom_attribute(dev).unwrap().name.as_deref(),
            Some("dev:custom:secret")
        );
    }

    #[test]
    fn constraints_must_fit_the_type_be_numbers_and_bound_a_range() {
        let strings = |min: &str, max: &str| {
            let mut a = attr("s", Some(AttributeDataType::String));
            a.string_attribute_constraints = Some(StringAttributeConstraintsType {
                min_length: Some(min.into()),
                max_length: Some(max.into()),
            });
            a
        };
        assert!(custom_attribute(strings("0", "2048")).is_ok());
        assert!(message(custom_attribute(strings("0", "2049"))).contains("more than 2048"));
        assert!(message(custom_attribute(strings("10", "5"))).contains("cannot be less than"));
        assert!(message(custom_attribute(strings("a", "5"))).contains("MinLength must be"));
        let mut wrong = strings("0", "5");
        wrong.attribute_data_type = Some(AttributeDataType::Number);
        assert!(message(custom_attribute(wrong)).contains("String attributes only"));
        let mut n = attr("n", Some(AttributeDataType::String));
        n.number_attribute_constraints = Some(NumberAttributeConstraintsType {
            min_value: Some("1".into()),
            max_value: Some("x".into()),
        });
        assert!(message(custom_attribute(n.clone())).contains("Number attributes only"));
        n.attribute_data_type = Some(AttributeDataType::Number);
        assert!(message(custom_attribute(n)).contains("MaxValue must be a whole number"));
    }

    #[test]
    fn a_standard_attribute_keeps_its_type_and_is_never_developer_only() {
        let mut email = attr("email", Some(AttributeDataType::String));
        assert!(refine_standard(&mut email, attr("email", Some(AttributeDataType::Number))).is_err());
        let mut dev = attr("email", None);
        dev.developer_only_attribute = Some(true);
        assert!(refine_standard(&mut email, dev).is_err());
        let mut required = attr("email", Some(AttributeDataType::String));
        required.required = Some(true);
        refine_standard(&mut email, required).unwrap();
        assert_eq!(email.required, Some(true));
    }
}
