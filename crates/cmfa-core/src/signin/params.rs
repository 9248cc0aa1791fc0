//! The edge of the engine: `AuthParameters` and `ChallengeResponses` parsed once into closed
//! types, with AWS's errors for what a flow or challenge needs and did not get. This is the only
//! module that reads the two string maps; unknown members are ignored, as AWS ignores them.

use super::choice::FirstFactor;
use crate::auth::session::session_in_secret_block;
use crate::client::{self, AppClient};
use crate::error::{DomainError, Result};
use crate::messages::BAD_CREDENTIALS;
use cmfa_wire::shapes::{AttributeType, AuthFlowType, ChallengeNameType, ExplicitAuthFlowsType};
use std::collections::BTreeMap;

type Map = BTreeMap<String, String>;

fn need(p: &Map, name: &str) -> Result<String> {
    p.get(name)
        .cloned()
        .ok_or_else(|| DomainError::InvalidParameter(format!("Missing required parameter {name}")))
}

fn flow_not_enabled(flow: AuthFlowType) -> DomainError {
    DomainError::InvalidParameter(format!("{} flow not enabled for this client", flow.as_str()))
}

/// The first factor an `InitiateAuth` / `AdminInitiateAuth` presents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Start {
    /// USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH, ADMIN_NO_SRP_AUTH.
    Password { username: String, password: String },
    /// USER_SRP_AUTH.
    Srp { username: String, srp_a: String },
    /// REFRESH_TOKEN_AUTH / REFRESH_TOKEN (the username comes from the token).
    Refresh { token: String },
    /// USER_AUTH, with the factor named by `PREFERRED_CHALLENGE` if any.
    UserAuth {
        username: String,
        preferred: Option<Choice>,
    },
}

/// A first factor chosen in USER_AUTH (`PREFERRED_CHALLENGE`, or SELECT_CHALLENGE's `ANSWER`),
/// with what it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Choice {
    Password(String),
    PasswordSrp {
        srp_a: String,
    },
    EmailOtp,
    SmsOtp,
    /// WEB_AUTHN: the passkey challenge; or, answering SELECT_CHALLENGE, its `CREDENTIAL` at
    /// once (signed over the SELECT_CHALLENGE's own request options).
    WebAuthn {
        credential: Option<String>,
    },
}

impl Choice {
    /// Reads a choice named `name`, with the members it needs from `p`.
    fn parse(name: &str, what: &str, p: &Map) -> Result<Choice> {
        Ok(match name {
            "PASSWORD" => Choice::Password(need(p, "PASSWORD")?),
            "PASSWORD_SRP" => Choice::PasswordSrp {
                srp_a: need(p, "SRP_A")?,
            },
            "EMAIL_OTP" => Choice::EmailOtp,
            "SMS_OTP" => Choice::SmsOtp,
            "WEB_AUTHN" => Choice::WebAuthn {
                credential: p.get("CREDENTIAL").cloned(),
            },
            other => {
                return Err(DomainError::InvalidParameter(format!(
                    "Invalid {what} {other}: choose one of PASSWORD, PASSWORD_SRP, EMAIL_OTP, SMS_OTP, WEB_AUTHN"
                )));
            }
        })
    }

    /// The first factor this is.
    pub(crate) fn factor(&self) -> FirstFactor {
        match self {
            Choice::Password(_) => FirstFactor::Password,
            Choice::PasswordSrp { .. } => FirstFactor::PasswordSrp,
            Choice::EmailOtp => FirstFactor::EmailOtp,
            Choice::SmsOtp => FirstFactor::SmsOtp,
            Choice::WebAuthn { .. } => FirstFactor::WebAuthn,
        }
    }
}

/// A parsed `InitiateAuth` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StartRequest {
    pub start: Start,
    pub secret_hash: Option<String>,
}

/// Parses `AuthParameters` for `flow`, in AWS's order: the flow must suit the operation (`admin`
/// for AdminInitiateAuth) and be enabled on the client, then its members must be present.
pub(crate) fn parse_start(flow: AuthFlowType, p: &Map, admin: bool, client: &AppClient) -> Result<StartRequest> {
    let allows = |f| client::allows(&client.config, f);
    let start = match flow {
        AuthFlowType::UserPasswordAuth | AuthFlowType::AdminUserPasswordAuth | AuthFlowType::AdminNoSrpAuth => {
            let admin_flow = flow != AuthFlowType::UserPasswordAuth;
            if admin_flow != admin {
                return Err(DomainError::InvalidParameter(
                    "Initiate Auth method not supported.".into(),
                ));
            }
            let needed = if admin_flow {
                ExplicitAuthFlowsType::AllowAdminUserPasswordAuth
            } else {
                ExplicitAuthFlowsType::AllowUserPasswordAuth
            };
            if !allows(needed) {
                return Err(flow_not_enabled(flow));
            }
            Start::Password {
                username: need(p, "USERNAME")?,
                password: need(p, "PASSWORD")?,
            }
        }
        AuthFlowType::UserSrpAuth => {
            if !allows(ExplicitAuthFlowsType::AllowUserSrpAuth) {
                return Err(flow_not_enabled(flow));
            }
            Start::Srp {
                username: need(p, "USERNAME")?,
                srp_a: need(p, "SRP_A")?,
            }
        }
        AuthFlowType::RefreshTokenAuth | AuthFlowType::RefreshToken => {
            if !allows(ExplicitAuthFlowsType::AllowRefreshTokenAuth) {
                return Err(flow_not_enabled(flow));
            }
            Start::Refresh {
                token: need(p, "REFRESH_TOKEN")?,
            }
        }
        AuthFlowType::UserAuth => {
            if !allows(ExplicitAuthFlowsType::AllowUserAuth) {
                return Err(flow_not_enabled(flow));
            }
            let username = need(p, "USERNAME")?;
            let preferred = match p.get("PREFERRED_CHALLENGE") {
                Some(name) => Some(Choice::parse(name, "PREFERRED_CHALLENGE", p)?),
                None => None,
            };
            Start::UserAuth { username, preferred }
        }
        AuthFlowType::CustomAuth => {
            return Err(DomainError::InvalidParameter(format!(
                "{} is not supported by this server yet (docs/compatibility.md).",
                flow.as_str()
            )));
        }
    };
    Ok(StartRequest {
        start,
        secret_hash: p.get("SECRET_HASH").cloned(),
    })
}

/// The answer to one challenge, by challenge.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Answer {
    PasswordVerifier {
        secret_block: String,
        signature: String,
        timestamp: String,
    },
    NewPassword {
        password: String,
        /// `userAttributes.<name>` members, as attributes.
        attributes: Vec<AttributeType>,
    },
    SmsMfa {
        code: String,
    },
    EmailOtp {
        code: String,
    },
    SoftwareTokenMfa {
        code: String,
    },
    SelectMfaType {
        answer: String,
    },
    MfaSetup {
        /// An address to set up email MFA with (`EMAIL`, or `email` as some clients send it).
        email: Option<String>,
    },
    SmsOtp {
        code: String,
    },
    SelectChallenge {
        choice: Choice,
    },
    WebAuthn {
        /// `CREDENTIAL`: the `AuthenticationResponseJSON`, as a JSON string.
        credential: String,
    },
}

/// Which stored session an answer continues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SessionRef {
    /// The request's `Session` (or the `SESSION` member of its responses).
    Given(String),
    /// PASSWORD_VERIFIER answered without a Session: the session its SECRET_BLOCK names.
    InSecretBlock(String),
}

/// Who answers: `USERNAME` (which must name the session's user, by username or alias) and
/// `SECRET_HASH` for clients with a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Identity {
    pub username: String,
    pub secret_hash: Option<String>,
}

/// The challenges this server answers; anything else is refused before the session is read.
pub(crate) fn check_supported(challenge: ChallengeNameType) -> Result<()> {
    use ChallengeNameType as C;
    match challenge {
        C::PasswordVerifier
        | C::NewPasswordRequired
        | C::SmsMfa
        | C::EmailOtp
        | C::SoftwareTokenMfa
        | C::SelectMfaType
        | C::MfaSetup
        | C::SmsOtp
        | C::SelectChallenge
        | C::WebAuthn => Ok(()),
        other => Err(DomainError::InvalidParameter(format!(
            "The challenge {} is not supported by this server yet (docs/compatibility.md).",
            other.as_str()
        ))),
    }
}

/// Which session the answer continues: the request's `Session`, the `SESSION` member, or for
/// PASSWORD_VERIFIER without either the session its SECRET_BLOCK names.
pub(crate) fn session_ref(challenge: ChallengeNameType, session: Option<&str>, r: &Map) -> Result<SessionRef> {
    if let Some(s) = session.or_else(|| r.get("SESSION").map(String::as_str)) {
        return Ok(SessionRef::Given(s.to_owned()));
    }
    if challenge == ChallengeNameType::PasswordVerifier {
        let block = need(r, "PASSWORD_CLAIM_SECRET_BLOCK")?;
        return session_in_secret_block(&block)
            .map(SessionRef::InSecretBlock)
            .ok_or_else(|| DomainError::NotAuthorized(BAD_CREDENTIALS.into()));
    }
    Err(DomainError::InvalidParameter(
        "Missing required parameter Session".into(),
    ))
}

/// `USERNAME` and `SECRET_HASH`.
pub(crate) fn identity(r: &Map) -> Result<Identity> {
    Ok(Identity {
        username: need(r, "USERNAME")?,
        secret_hash: r.get("SECRET_HASH").cloned(),
    })
}

/// The members of the answer to `challenge` (read once the session is known to wait on it).
pub(crate) fn parse_answer(challenge: ChallengeNameType, r: &Map) -> Result<Answer> {
    check_supported(challenge)?;
    Ok(match challenge {
        ChallengeNameType::PasswordVerifier => Answer::PasswordVerifier {
            secret_block: need(r, "PASSWORD_CLAIM_SECRET_BLOCK")?,
            signature: need(r, "PASSWORD_CLAIM_SIGNATURE")?,
            timestamp: need(r, "TIMESTAMP")?,
        },
        ChallengeNameType::NewPasswordRequired => Answer::NewPassword {
            password: need(r, "NEW_PASSWORD")?,
            attributes: r
                .iter()
                .filter_map(|(k, v)| {
                    k.strip_prefix("userAttributes.").map(|n| AttributeType {
                        name: n.to_owned(),
                        value: Some(v.clone()),
                    })
                })
                .collect(),
        },
        ChallengeNameType::SmsMfa => Answer::SmsMfa {
            code: need(r, "SMS_MFA_CODE")?,
        },
        ChallengeNameType::EmailOtp => Answer::EmailOtp {
            code: need(r, "EMAIL_OTP_CODE")?,
        },
        ChallengeNameType::SoftwareTokenMfa => Answer::SoftwareTokenMfa {
            code: need(r, "SOFTWARE_TOKEN_MFA_CODE")?,
        },
        ChallengeNameType::SelectMfaType => Answer::SelectMfaType {
            answer: need(r, "ANSWER")?,
        },
        ChallengeNameType::SmsOtp => Answer::SmsOtp {
            code: need(r, "SMS_OTP_CODE")?,
        },
        ChallengeNameType::WebAuthn => Answer::WebAuthn {
            credential: need(r, "CREDENTIAL")?,
        },
        ChallengeNameType::SelectChallenge => Answer::SelectChallenge {
            choice: Choice::parse(&need(r, "ANSWER")?, "ANSWER", r)?,
        },
        _ => Answer::MfaSetup {
            email: r.get("EMAIL").or_else(|| r.get("email")).cloned(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> Map {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    /// The message without the `__type` prefix of `Display`.
    fn message(e: DomainError) -> String {
        e.to_string()
            .split_once(": ")
            .map(|(_, m)| m.to_owned())
            .unwrap_or_default()
    }

    #[test]
    fn answers_are_typed_by_challenge() {
        let r = map(&[("USERNAME", "alice"), ("SMS_MFA_CODE", "123456"), ("SECRET_HASH", "h")]);
        assert_eq!(
            parse_answer(ChallengeNameType::SmsMfa, &r).unwrap(),
            Answer::SmsMfa { code: "123456".into() }
        );
        let id = identity(&r).unwrap();
        assert_eq!((id.username.as_str(), id.secret_hash.as_deref()), ("alice", Some("h")));

        let r = map(&[("USERNAME", "a"), ("NEW_PASSWORD", "P"), ("userAttributes.name", "Al")]);
        let Answer::NewPassword { password, attributes } =
            parse_answer(ChallengeNameType::NewPasswordRequired, &r).unwrap()
        else {
            panic!("new password")
        };
        assert_eq!(password, "P");
        assert_eq!(
            (attributes[0].name.as_str(), attributes[0].value.as_deref()),
            ("name", Some("Al"))
        );
        let r = map(&[("email", "a@example.com")]);
        assert_eq!(
            parse_answer(ChallengeNameType::MfaSetup, &r).unwrap(),
            Answer::MfaSetup {
                email: Some("a@example.com".into())
            }
        );
    }

    #[test]
    fn a_missing_member_is_named() {
        let r = map(&[("USERNAME", "alice")]);
        for (c, member) in [
            (ChallengeNameType::SmsMfa, "SMS_MFA_CODE"),
            (ChallengeNameType::EmailOtp, "EMAIL_OTP_CODE"),
            (ChallengeNameType::SoftwareTokenMfa, "SOFTWARE_TOKEN_MFA_CODE"),
            (ChallengeNameType::SelectMfaType, "ANSWER"),
            (ChallengeNameType::NewPasswordRequired, "NEW_PASSWORD"),
            (ChallengeNameType::PasswordVerifier, "PASSWORD_CLAIM_SECRET_BLOCK"),
        ] {
            let e = parse_answer(c, &r).unwrap_err();
            assert!(matches!(e, DomainError::InvalidParameter(_)), "{c:?}");
            assert_eq!(message(e), format!("Missing required parameter {member}"));
        }
        let e = identity(&map(&[("SMS_MFA_CODE", "1")])).unwrap_err();
        assert_eq!(message(e), "Missing required parameter USERNAME");
        let e = session_ref(ChallengeNameType::SmsMfa, None, &Map::new()).unwrap_err();
        assert_eq!(message(e), "Missing required parameter Session");
    }

    #[test]
    fn the_session_comes_from_the_request_the_responses_or_the_secret_block() {
        let r = map(&[("SESSION", "from-map")]);
        assert_eq!(
            session_ref(ChallengeNameType::SoftwareTokenMfa, None, &r).unwrap(),
            SessionRef::Given("from-map".into())
        );
        assert_eq!(
            session_ref(ChallengeNameType::SoftwareTokenMfa, Some("given"), &r).unwrap(),
            SessionRef::Given("given".into())
        );
        let block = crate::auth::session::secret_block_for("sid");
        let r = map(&[("PASSWORD_CLAIM_SECRET_BLOCK", &block)]);
        assert_eq!(
            session_ref(ChallengeNameType::PasswordVerifier, None, &r).unwrap(),
            SessionRef::InSecretBlock("sid".into())
        );
        let forged = map(&[("PASSWORD_CLAIM_SECRET_BLOCK", "c2VjcmV0")]);
        let e = session_ref(ChallengeNameType::PasswordVerifier, None, &forged).unwrap_err();
        assert!(matches!(e, DomainError::NotAuthorized(m) if m == BAD_CREDENTIALS));
    }

    #[test]
    fn challenges_without_an_answer_here_are_refused() {
        let e = check_supported(ChallengeNameType::CustomChallenge).unwrap_err();
        assert!(matches!(e, DomainError::InvalidParameter(m) if m.contains("CUSTOM_CHALLENGE")));
        assert!(parse_answer(ChallengeNameType::DeviceSrpAuth, &Map::new()).is_err());
    }

    #[test]
    fn a_flow_must_suit_the_operation_and_the_client() {
        let client = crate::client::create(
            "c".into(),
            0.0,
            cmfa_wire::shapes::CreateUserPoolClientRequest {
                user_pool_id: "us-east-1_x".into(),
                client_name: "c".into(),
                ..Default::default()
            },
        )
        .unwrap();
        let p = map(&[("USERNAME", "a"), ("PASSWORD", "p"), ("SECRET_HASH", "h")]);
        let r = parse_start(AuthFlowType::UserPasswordAuth, &p, false, &client);
        assert!(
            matches!(r, Err(DomainError::InvalidParameter(m)) if m == "USER_PASSWORD_AUTH flow not enabled for this client")
        );
        let r = parse_start(AuthFlowType::AdminUserPasswordAuth, &p, false, &client);
        assert!(matches!(r, Err(DomainError::InvalidParameter(m)) if m == "Initiate Auth method not supported."));
        let r = parse_start(AuthFlowType::AdminNoSrpAuth, &p, true, &client);
        assert!(
            matches!(r, Err(DomainError::InvalidParameter(m)) if m == "ADMIN_NO_SRP_AUTH flow not enabled for this client")
        );
        let mut admin_client = client.clone();
        admin_client.config.explicit_auth_flows = Some(vec![ExplicitAuthFlowsType::AllowAdminUserPasswordAuth]);
        let start = parse_start(AuthFlowType::AdminNoSrpAuth, &p, true, &admin_client).unwrap();
        let expected = StartRequest {
            start: Start::Password {
                username: "a".into(),
                password: "p".into(),
            },
            secret_hash: Some("h".into()),
        };
        assert_eq!(start, expected);
        let r = parse_start(
            AuthFlowType::AdminUserPasswordAuth,
            &map(&[("USERNAME", "a")]),
            true,
            &admin_client,
        );
        assert!(matches!(r, Err(DomainError::InvalidParameter(m)) if m == "Missing required parameter PASSWORD"));
        let r = parse_start(AuthFlowType::UserSrpAuth, &map(&[("USERNAME", "a")]), false, &client);
        assert!(matches!(r, Err(DomainError::InvalidParameter(m)) if m == "Missing required parameter SRP_A"));
        let r = parse_start(AuthFlowType::UserAuth, &p, false, &client);
        assert!(
            matches!(r, Err(DomainError::InvalidParameter(m)) if m == "USER_AUTH flow not enabled for this client")
        );
        let r = parse_start(AuthFlowType::CustomAuth, &p, false, &client);
        assert!(matches!(r, Err(DomainError::InvalidParameter(m)) if m.contains("CUSTOM_AUTH")));
        let mut choice_client = client.clone();
        choice_client.config.explicit_auth_flows = Some(vec![ExplicitAuthFlowsType::AllowUserAuth]);
        for (pref, extra, want) in [
            (None, None, None),
            (
                Some("PASSWORD"),
                Some(("PASSWORD", "pw")),
                Some(Choice::Password("pw".into())),
            ),
            (
                Some("PASSWORD_SRP"),
                Some(("SRP_A", "aa")),
                Some(Choice::PasswordSrp { srp_a: "aa".into() }),
            ),
            (Some("EMAIL_OTP"), None, Some(Choice::EmailOtp)),
            (Some("SMS_OTP"), None, Some(Choice::SmsOtp)),
            (Some("WEB_AUTHN"), None, Some(Choice::WebAuthn { credential: None })),
        ] {
            let mut m = map(&[("USERNAME", "u")]);
            if let Some(pref) = pref {
                m.insert("PREFERRED_CHALLENGE".into(), pref.into());
            }
            if let Some((k, v)) = extra {
                m.insert(k.into(), v.into());
            }
            let s = parse_start(AuthFlowType::UserAuth, &m, false, &choice_client).unwrap();
            assert_eq!(
                s.start,
                Start::UserAuth {
                    username: "u".into(),
                    preferred: want
                },
                "{pref:?}"
            );
        }
        let m = map(&[("USERNAME", "u"), ("PREFERRED_CHALLENGE", "PASSWORD")]);
        let r = parse_start(AuthFlowType::UserAuth, &m, false, &choice_client);
        assert!(matches!(r, Err(DomainError::InvalidParameter(m)) if m == "Missing required parameter PASSWORD"));
        let m = map(&[("USERNAME", "u"), ("PREFERRED_CHALLENGE", "SOFTWARE_TOKEN_MFA")]);
        let r = parse_start(AuthFlowType::UserAuth, &m, false, &choice_client);
        assert!(matches!(r, Err(DomainError::InvalidParameter(m)) if m.starts_with("Invalid PREFERRED_CHALLENGE")));
    }
}
