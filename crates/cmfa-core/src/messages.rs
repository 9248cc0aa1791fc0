//! AWS's texts that more than one operation answers with, in one place, so two paths that mean
//! the same failure cannot drift apart. Texts used by one operation stay beside it.

/// Wrong password, wrong SRP proof, or (with existence errors hidden) no such user.
pub const BAD_CREDENTIALS: &str = "Incorrect username or password.";
/// The lockout after repeated failures (`NotAuthorizedException`).
pub const LOCKED: &str = "Password attempts exceeded";
/// A disabled user signing in or presenting a token (`NotAuthorizedException`).
pub const USER_DISABLED: &str = "User is disabled.";
/// An unconfirmed user signing in (`UserNotConfirmedException`).
pub const NOT_CONFIRMED: &str = "User is not confirmed.";
/// `UserNotFoundException` of the IAM operations.
pub const USER_NOT_FOUND: &str = "User does not exist.";
/// `UserNotFoundException` of the public (client) operations.
pub const CLIENT_USER_NOT_FOUND: &str = "Username/client id combination not found.";
/// A wrong MFA code (`CodeMismatchException`).
pub const CODE_MISMATCH: &str = "Invalid code or auth state for the user.";
/// A TOTP code whose time step has signed in already (`ExpiredCodeException`).
pub const TOTP_REUSED: &str = "Your software token has already been used once.";
/// No authenticator registered (`SoftwareTokenMFANotFoundException`).
pub const NO_SOFTWARE_TOKEN: &str = "Software Token MFA does not exist for the user.";
/// AssociateSoftwareToken in a pool without TOTP (`SoftwareTokenMFANotFoundException`).
pub const TOTP_NOT_IN_POOL: &str = "Software Token MFA has not been enabled by the userPool.";
/// VerifySoftwareToken with a wrong first code (`EnableSoftwareTokenMFAException`).
pub const TOTP_MISMATCH: &str = "Code mismatch and fail enable Software Token MFA";
/// SignUp (and the store) for a taken username (`UsernameExistsException`).
pub const USERNAME_EXISTS: &str = "User already exists";
