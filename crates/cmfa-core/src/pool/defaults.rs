//! The values AWS fills in for a new pool when the caller leaves them out.

use cmfa_wire::shapes::{
    AttributeDataType, NumberAttributeConstraintsType, SchemaAttributeType, StringAttributeConstraintsType,
};

/// Cognito's standard attributes as DescribeUserPool lists them for a new pool.
pub fn standard_schema() -> Vec<SchemaAttributeType> {
    const STRINGS: &[(&str, &str, &str, bool, bool)] = &[
        // name, min, max, mutable, required
        ("sub", "1", "2048", false, true),
        ("name", "0", "2048", true, false),
        ("given_name", "0", "2048", true, false),
        ("family_name", "0", "2048", true, false),
        ("middle_name", "0", "2048", true, false),
        ("nickname", "0", "2048", true, false),
        ("preferred_username", "0", "2048", true, false),
        ("profile", "0", "2048", true, false),
        ("picture", "0", "2048", true, false),
        ("website", "0", "2048", true, false),
        ("email", "0", "2048", true, false),
        ("gender", "0", "2048", true, false),
        ("birthdate", "10", "10", true, false),
        ("zoneinfo", "0", "2048", true, false),
        ("locale", "0", "2048", true, false),
        ("phone_number", "0", "2048", true, false),
        ("address", "0", "2048", true, false),
    ];
    let mut out = Vec::with_capacity(STRINGS.len() + 3);
    for &(name, min, max, mutable, required) in STRINGS {
        out.push(SchemaAttributeType {
            name: Some(name.into()),
            attribute_data_type: Some(AttributeDataType::String),
            developer_only_attribute: Some(false),
            mutable: Some(mutable),
            required: Some(required),
            string_attribute_constraints: Some(StringAttributeConstraintsType {
                min_length: Some(min.into()),
                max_length: Some(max.into()),
            }),
            number_attribute_constraints: None,
        });
        // AWS lists the verified flags right after their attribute.
        if name == "email" || name == "phone_number" {
            out.push(SchemaAttributeType {
                name: Some(format!("{name}_verified")),
                attribute_data_type: Some(AttributeDataType::Boolean),
                developer_only_attribute: Some(false),
                mutable: Some(true),
                required: Some(false),
                string_attribute_constraints: None,
                number_attribute_constraints: None,
            });
        }
    }
    out.push(SchemaAttributeType {
        name: Some("updated_at".into()),
        attribute_data_type: Some(AttributeDataType::Number),
        developer_only_attribute: Some(false),
        mutable: Some(true),
        required: Some(false),
        string_attribute_constraints: None,
        number_attribute_constraints: Some(NumberAttributeConstraintsType {
            min_value: Some("0".into()),
            max_value: None,
        }),
    });
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn standard_schema_has_the_twenty_standard_attributes() {
        let s = super::standard_schema();
        assert_eq!(s.len(), 20);
        assert_eq!(s[0].name.as_deref(), Some("sub"));
        assert_eq!(s[0].mutable, Some(false));
        assert!(s.iter().any(|a| a.name.as_deref() == Some("email_verified")));
    }
}
