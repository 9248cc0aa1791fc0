//! AddCustomAttributes: new `custom:` (or developer-only `dev:`) attributes in a pool's schema.
//!
//! The rules for the added attributes live in [`check_added_attributes`], on their own, so that
//! they can join CreateUserPool's schema rules in one place later.

use super::{Caller, Service};
use crate::error::{DomainError, Result};
use crate::pool::UserPool;
use cmfa_wire::shapes::{
    AddCustomAttributesRequest, AddCustomAttributesResponse, AttributeDataType, SchemaAttributeType,
};

/// Custom attributes a pool may have (AWS's quota, "Custom attributes per user pool").
pub(crate) const MAX_CUSTOM_ATTRIBUTES: usize = 50;

fn invalid(m: String) -> DomainError {
    DomainError::InvalidParameter(m)
}

/// A constraint bound: a whole number, as AWS's consoles and docs give them.
fn bound(attr: &str, what: &str, v: Option<&str>) -> Result<Option<i128>> {
    v.map(|s| {
        s.trim()
            .parse::<i128>()
            .map_err(|_| invalid(format!("Invalid {what} for attribute {attr}: {s} is not a number.")))
    })
    .transpose()
}

fn ordered(attr: &str, min: Option<i128>, max: Option<i128>) -> Result<()> {
    match (min, max) {
        (Some(lo), Some(hi)) if lo > hi => Err(invalid(format!(
            "Invalid constraints for attribute {attr}: the minimum is greater than the maximum."
        ))),
        _ => Ok(()),
    }
}

/// Checks AddCustomAttributes' list against the pool's schema and returns the attributes as the
/// schema will hold them: named `custom:<Name>` (`dev:<Name>` when developer-only, as the model
/// documents `DeveloperOnlyAttribute`), type String unless given, mutable unless told otherwise,
/// never required. The model's constraints (1–25 attributes, names of 1–20 characters) are
/// checked before this.
pub(crate) fn check_added_attributes(
    pool: &UserPool,
    added: &[SchemaAttributeType],
) -> Result<Vec<SchemaAttributeType>> {
    let schema = pool.config.schema_attributes.as_deref().unwrap_or(&[]);
    let is_custom = |n: &str| n.starts_with("custom:") || n.starts_with("dev:");
    let existing = schema
        .iter()
        .filter(|a| a.name.as_deref().is_some_and(is_custom))
        .count();
    if existing + added.len() > MAX_CUSTOM_ATTRIBUTES {
        return Err(invalid(format!(
            "A user pool can have at most {MAX_CUSTOM_ATTRIBUTES} custom attributes; it has {existing}."
        )));
    }
    let mut out: Vec<SchemaAttributeType> = Vec::with_capacity(added.len());
    for a in added {
        let base = a.name.as_deref().unwrap_or("");
        if base.is_empty() {
            return Err(invalid("Custom attribute names cannot be empty.".into()));
        }
        let developer_only = a.developer_only_attribute.unwrap_or(false);
        let name = format!("{}:{base}", if developer_only { "dev" } else { "custom" });
        let taken = |n: &str| schema.iter().chain(out.iter()).any(|s| s.name.as_deref() == Some(n));
        if taken(&name) {
            return Err(invalid(format!("Existing attribute already has name {name}.")));
        }
        if a.required == Some(true) {
            return Err(invalid(format!(
                "Required custom attributes are not supported currently. Attribute: {base}"
            )));
        }
        let data_type = a.attribute_data_type.unwrap_or(AttributeDataType::String);
        if let Some(c) = &a.string_attribute_constraints {
            if data_type != AttributeDataType::String {
                return Err(invalid(format!(
                    "StringAttributeConstraints can only be set on attributes of type String: {name}"
                )));
            }
            let min = bound(&name, "MinLength", c.min_length.as_deref())?;
            let max = bound(&name, "MaxLength", c.max_length.as_deref())?;
            if min.is_some_and(|n| n < 0) || max.is_some_and(|n| !(0..=2048).contains(&n)) {
                return Err(invalid(format!(
                    "Invalid constraints for attribute {name}: string lengths run from 0 to 2048."
                )));
            }
            ordered(&name, min, max)?;
        }
        if let Some(c) = &a.number_attribute_constraints {
            if data_type != AttributeDataType::Number {
                return Err(invalid(format!(
                    "NumberAttributeConstraints can only be set on attributes of type Number: {name}"
                )));
            }
            let min = bound(&name, "MinValue", c.min_value.as_deref())?;
            let max = bound(&name, "MaxValue", c.max_value.as_deref())?;
            ordered(&name, min, max)?;
        }
        out.push(SchemaAttributeType {
            name: Some(name),
            attribute_data_type: Some(data_type),
            developer_only_attribute: Some(developer_only),
            mutable: Some(a.mutable.unwrap_or(true)),
            required: Some(false),
            number_attribute_constraints: a.number_attribute_constraints.clone(),
            string_attribute_constraints: a.string_attribute_constraints.clone(),
        });
    }
    Ok(out)
}

impl Service {
    /// Appends the attributes to the pool's schema (a versioned pool write, as any other).
    pub async fn add_custom_attributes(
        &self,
        caller: &Caller,
        req: AddCustomAttributesRequest,
    ) -> Result<AddCustomAttributesResponse> {
        let pool = self.load_pool(caller, &req.user_pool_id).await?;
        let added = check_added_attributes(&pool, &req.custom_attributes)?;
        let mut next = UserPool::clone(&pool);
        next.config.schema_attributes.get_or_insert_with(Vec::new).extend(added);
        next.config.last_modified_date = Some(self.clock.now_millis());
        next.version = pool.version + 1;
        self.save_pool(&pool.id, &next).await?;
        Ok(AddCustomAttributesResponse {})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pool::rules;
    use cmfa_wire::shapes::{CreateUserPoolRequest, NumberAttributeConstraintsType, StringAttributeConstraintsType};

    fn pool() -> UserPool {
        let req = CreateUserPoolRequest {
            pool_name: "p".into(),
            ..Default::default()
        };
        rules::create("us-east-1_a".into(), "arn".into(), 1.0, req).unwrap()
    }

    fn attr(name: &str) -> SchemaAttributeType {
        SchemaAttributeType {
            name: Some(name.into()),
            ..Default::default()
        }
    }

    fn message(r: Result<Vec<SchemaAttributeType>>) -> String {
        match r {
            Err(DomainError::InvalidParameter(m)) => m,
            other => panic!("expected InvalidParameter, got {other:?}"),
        }
    }

    #[test]
    fn names_get_their_prefix_and_defaults_are_filled_in() {
        let dev = SchemaAttributeType {
            developer_only_attribute: Some(true),
            mutable: Some(false),
            ..attr("secret")
        };
        let out = check_added_attributes(&pool(), &[attr("tier"), dev]).unwrap();
        assert_eq!(out[0].name.as_deref(), Some("custom:tier"));
        assert_eq!(out[0].attribute_data_type, Some(AttributeDataType::String));
        assert_eq!((out[0].mutable, out[0].required), (Some(true), Some(false)));
        assert_eq!(out[1].name.as_deref(), Some("dev:secret"));
        assert_eq!(out[1].mutable, Some(false));
    }

    #[test]
    fn a_name_in_use_or_twice_in_the_request_is_refused() {
        let mut p = pool();
        let added = check_added_attributes(&p, &[attr("tier")]).unwrap();
        p.config.schema_attributes.as_mut().unwrap().extend(added);
        assert_eq!(
            message(check_added_attributes(&p, &[attr("tier")])),
            "Existing attribute already has name custom:tier."
        );
        assert!(message(check_added_attributes(&pool(), &[attr("a"), attr("a")])).contains("custom:a"));
    }

    #[test]
    fn the_pool_limit_counts_existing_custom_attributes() {
        let mut p = pool();
        let first: Vec<_> = (0..25).map(|i| attr(&format!("a{i}"))).collect();
        let second: Vec<_> = (25..50).map(|i| attr(&format!("a{i}"))).collect();
        let added = check_added_attributes(&p, &first).unwrap();
        p.config.schema_attributes.as_mut().unwrap().extend(added);
        let added = check_added_attributes(&p, &second).unwrap();
        p.config.schema_attributes.as_mut().unwrap().extend(added);
        assert!(message(check_added_attributes(&p, &[attr("one_more")])).contains("at most 50"));
    }

    #[test]
    fn constraints_must_fit_the_type_and_be_ordered_numbers() {
        let p = pool();
        let wrong_type = SchemaAttributeType {
            attribute_data_type: Some(AttributeDataType::Number),
            string_attribute_constraints: Some(StringAttributeConstraintsType {
                min_length: Some("1".into()),
                max_length: None,
            }),
            ..attr("n")
        };
        assert!(message(check_added_attributes(&p, &[wrong_type])).contains("type String"));
        let backwards = SchemaAttributeType {
            attribute_data_type: Some(AttributeDataType::Number),
            number_attribute_constraints: Some(NumberAttributeConstraintsType {
                min_value: Some("10".into()),
                max_value: Some("1".into()),
            }),
            ..attr("n")
        };
        assert!(message(check_added_attributes(&p, &[backwards])).contains("greater than"));
        let not_a_number = SchemaAttributeType {
            string_attribute_constraints: Some(StringAttributeConstraintsType {
                min_length: Some("x".into()),
                max_length: None,
            }),
            ..attr("s")
        };
        assert!(message(check_added_attributes(&p, &[not_a_number])).contains("not a number"));
        let required = SchemaAttributeType {
            required: Some(true),
            ..attr("r")
        };
        assert!(message(check_added_attributes(&p, &[required])).contains("Required custom attributes"));
    }
}
