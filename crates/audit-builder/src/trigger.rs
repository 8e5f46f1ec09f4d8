//! Sources for the conveniences: a token for a user trigger, a consumed jEAP message for a
//! system-component trigger.

use audit_schema::CreateAuditRecordCommand;

/// Anything that knows the authenticated user's subject and issuer, e.g. verified token claims.
///
/// Implement it for your own authentication type to use
/// [`AuditCommandBuilder::user_from_token`](crate::AuditCommandBuilder::user_from_token).
///
/// ```
/// use audit_builder::TokenSubject;
///
/// struct Session { user: String, realm: String }
/// impl TokenSubject for Session {
///     fn subject(&self) -> &str { &self.user }
///     fn issuer(&self) -> &str { &self.realm }
/// }
/// let s = Session { user: "u1".into(), realm: "https://idp.example".into() };
/// assert_eq!(s.subject(), "u1");
/// ```
pub trait TokenSubject {
    /// The user id (the JWT `sub` claim).
    fn subject(&self) -> &str;
    /// The identity provider (the JWT `iss` claim).
    fn issuer(&self) -> &str;
}

impl<T: TokenSubject + ?Sized> TokenSubject for &T {
    fn subject(&self) -> &str {
        (**self).subject()
    }
    fn issuer(&self) -> &str {
        (**self).issuer()
    }
}

/// The claims of an already verified JWT that the audit needs (`sub` and `iss`); other claims are
/// ignored when deserializing. Verification is the caller's job (no JWT library is pulled in).
///
/// ```
/// use audit_builder::{JwtClaims, TokenSubject};
/// let claims: JwtClaims =
///     serde_json::from_str(r#"{"sub":"u1","iss":"https://idp.example","exp":1}"#).unwrap();
/// assert_eq!((claims.subject(), claims.issuer()), ("u1", "https://idp.example"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct JwtClaims {
    /// Subject: the user id.
    pub sub: String,
    /// Issuer: the identity provider.
    pub iss: String,
}

impl TokenSubject for JwtClaims {
    fn subject(&self) -> &str {
        &self.sub
    }
    fn issuer(&self) -> &str {
        &self.iss
    }
}

/// A consumed jEAP message an audit can be derived from: its publisher and idempotence id.
///
/// Implemented for [`CreateAuditRecordCommand`]; implement it for your other message types to use
/// [`AuditCommandBuilder::system_component_from_message`](crate::AuditCommandBuilder::system_component_from_message).
pub trait JeapMessage {
    /// `publisher.system` of the consumed message.
    fn publisher_system(&self) -> &str;
    /// `publisher.service` of the consumed message.
    fn publisher_service(&self) -> &str;
    /// `identity.idempotenceId` of the consumed message.
    fn idempotence_id(&self) -> &str;
}

impl<T: JeapMessage + ?Sized> JeapMessage for &T {
    fn publisher_system(&self) -> &str {
        (**self).publisher_system()
    }
    fn publisher_service(&self) -> &str {
        (**self).publisher_service()
    }
    fn idempotence_id(&self) -> &str {
        (**self).idempotence_id()
    }
}

impl JeapMessage for CreateAuditRecordCommand {
    fn publisher_system(&self) -> &str {
        &self.publisher.system
    }
    fn publisher_service(&self) -> &str {
        &self.publisher.service
    }
    fn idempotence_id(&self) -> &str {
        &self.identity.idempotence_id
    }
}
