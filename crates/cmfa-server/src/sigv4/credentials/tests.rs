//! The shared-credentials file parser.

use super::*;

#[test]
fn parses_shared_credentials_file() {
    let text = "\u{feff}# AWS CLI credentials\n\
        [default]\n\
        aws_access_key_id = AKIADEFAULT\n\
        aws_secret_access_key = secret/default+key#not-a-comment\n\
        region = eu-west-1\n\
        \n\
        ; another comment\n\
        [admin]\n\
        AWS_ACCESS_KEY_ID=AKIAADMIN\n\
        aws_secret_access_key:admin-secret\n\
        aws_session_token = IQoJb3JpZ2luX2VjEXAMPLE\n\
        s3 =\n\
        \x20\x20max_concurrent_requests = 20\n\
        \x20\x20multipart\n\
        \n\
        [profile readonly]\n\
        \taws_access_key_id = AKIAREAD  \n\
        \taws_secret_access_key =   read secret with spaces  \n\
        [region-only]\n\
        region = us-east-1\n";
    let creds = Credentials::parse(text).unwrap();
    assert_eq!(creds.len(), 3);
    assert!(!creds.is_empty());
    assert_eq!(creds.secret("AKIADEFAULT"), Some("secret/default+key#not-a-comment"));
    assert_eq!(creds.secret("AKIAADMIN"), Some("admin-secret"));
    assert_eq!(creds.secret("AKIAREAD"), Some("read secret with spaces"));
    assert_eq!(creds.secret("AKIDEXAMPLE"), None);

    let debug = format!("{creds:?}");
    assert!(debug.contains("AKIAADMIN") && debug.contains("AKIADEFAULT"));
    for secret in ["secret/default", "admin-secret", "read secret"] {
        assert!(!debug.contains(secret), "Debug leaks a secret: {debug}");
    }

    // The same key in two profiles with the same secret is fine.
    let twice = "[a]\naws_access_key_id=K\naws_secret_access_key=S\n\
                 [b]\naws_access_key_id=K\naws_secret_access_key=S\n";
    assert_eq!(Credentials::parse(twice).unwrap().len(), 1);
}

#[test]
fn credentials_file_errors() {
    let err = |text: &str| Credentials::parse(text).unwrap_err();
    assert!(err("").contains("no aws_access_key_id"));
    assert!(err("# only comments\n[default]\nregion = x\n").contains("no aws_access_key_id"));
    assert_eq!(
        err("[default]\naws_access_key_id = AKIA1\n"),
        "profile 'default' has aws_access_key_id but no aws_secret_access_key"
    );
    assert!(err("[p]\naws_secret_access_key = TOPSECRET\n").contains("no aws_access_key_id"));
    assert!(err("aws_access_key_id = AKIA1\n").contains("outside of any [profile]"));
    assert!(err("[p\naws_access_key_id = AKIA1\n").contains("closing ']'"));
    assert!(err("[]\n").contains("no name"));
    assert!(err("[p]\njust words\n").contains("line 2"));
    assert!(err("[p]\naws_access_key_id = \naws_secret_access_key = s\n").contains("empty"));
    assert!(err("[p]\naws_access_key_id = a/b\naws_secret_access_key = s\n").contains("'/'"));
    let duplicated = err("[p]\naws_secret_access_key = TOPSECRET\naws_secret_access_key = OTHER\n");
    assert!(duplicated.contains("twice"));
    let conflict = err("[a]\naws_access_key_id=K\naws_secret_access_key=TOPSECRET\n\
                        [b]\naws_access_key_id=K\naws_secret_access_key=OTHER\n");
    assert!(conflict.contains("'a' and 'b'"));
    // No error message ever quotes a secret.
    for message in [duplicated, conflict, err("[p]\naws_secret_access_key = TOPSECRET\n")] {
        assert!(
            !message.contains("TOPSECRET") && !message.contains("OTHER"),
            "{message}"
        );
    }
}

#[test]
fn from_pairs_and_debug() {
    let creds = Credentials::from_pairs([
        ("B".to_owned(), "s1".to_owned()),
        ("A".to_owned(), "s2-very-secret".to_owned()),
    ]);
    assert_eq!(creds.len(), 2);
    assert_eq!(
        format!("{creds:?}"),
        r#"Credentials { access_key_ids: ["A", "B"], .. }"#
    );
    assert!(Credentials::from_pairs(Vec::new()).is_empty());
}
