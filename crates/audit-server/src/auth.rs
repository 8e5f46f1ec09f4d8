//! Bearer-JWT validation and the scopes of a caller.

use std::collections::BTreeSet;

use audit_store::Access;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use crate::config::AuthConfig;
use crate::error::Error;

/// A scope a token can grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// `audit:read`: list, get and export records.
    Read,
    /// `audit:write`: ingest records.
    Write,
    /// `audit:admin`: status and metrics (implies read and write).
    Admin,
}

impl Scope {
    /// The scope as it appears in a token.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "audit:read",
            Self::Write => "audit:write",
            Self::Admin => "audit:admin",
        }
    }
}

/// Who is calling, from a validated token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token's subject (`sub`, empty when absent).
    pub subject: String,
    /// The token's issuer (`iss`, empty when absent).
    pub issuer: String,
    /// The granted scopes (from `scope`, space-separated, or `scp`, an array).
    pub scopes: BTreeSet<Scope>,
    /// Which systems' records the caller may read.
    pub access: Access,
}

impl Principal {
    /// Whether the token grants `scope` (`audit:admin` grants every scope).
    #[must_use]
    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope) || self.scopes.contains(&Scope::Admin)
    }
}

/// Why a request is not authenticated (always answered 401; the reason goes to the client and
/// to the debug log, the token never does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// No `Authorization: Bearer` header.
    Missing,
    /// The token is malformed, signed with an unknown key or algorithm, or badly signed.
    Invalid,
    /// `exp` has passed.
    Expired,
    /// `aud` is not this server's audience.
    WrongAudience,
    /// `iss` is not the configured issuer.
    WrongIssuer,
    /// The systems claim is present but not an array of strings.
    BadSystemsClaim,
}

impl AuthFailure {
    /// A short reason for the response body.
    #[must_use]
    pub fn reason(self) -> &'static str {
        match self {
            Self::Missing => "missing bearer token",
            Self::Invalid => "invalid token",
            Self::Expired => "token expired",
            Self::WrongAudience => "token not issued for this audience",
            Self::WrongIssuer => "token from an unexpected issuer",
            Self::BadSystemsClaim => "the systems claim must be an array of strings",
        }
    }
}

/// Validates bearer tokens against the configured keys.
#[derive(Clone)]
pub struct Authenticator {
    keys: Vec<(Algorithm, DecodingKey)>,
    audience: String,
    issuer: Option<String>,
    systems_claim: String,
    leeway: u64,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field(
                "algorithms",
                &self.keys.iter().map(|(a, _)| *a).collect::<Vec<_>>(),
            )
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

impl Authenticator {
    /// Loads the keys named by the configuration. With no key configured every token is
    /// refused (401).
    ///
    /// # Errors
    /// [`Error::Key`] for an unreadable or non-PEM key file.
    pub fn new(config: &AuthConfig) -> Result<Self, Error> {
        let mut keys = Vec::new();
        if let Some(secret) = &config.hs256_secret {
            keys.push((
                Algorithm::HS256,
                DecodingKey::from_secret(secret.as_bytes()),
            ));
        }
        for (files, algorithm, name) in [
            (&config.rs256_public_key_files, Algorithm::RS256, "RS256"),
            (&config.es256_public_key_files, Algorithm::ES256, "ES256"),
        ] {
            for path in files {
                let key_error = |reason: String| Error::Key {
                    path: path.clone(),
                    algorithm: name,
                    reason,
                };
                let pem = std::fs::read(path).map_err(|e| key_error(e.to_string()))?;
                let key = match algorithm {
                    Algorithm::RS256 => DecodingKey::from_rsa_pem(&pem),
                    _ => DecodingKey::from_ec_pem(&pem),
                }
                .map_err(|e| key_error(e.to_string()))?;
                keys.push((algorithm, key));
            }
        }
        Ok(Self {
            keys,
            audience: config.audience.clone(),
            issuer: config.issuer.clone(),
            systems_claim: config.systems_claim.clone(),
            leeway: config.leeway_secs,
        })
    }

    /// Validates the value of an `Authorization` header.
    ///
    /// # Errors
    /// The [`AuthFailure`].
    pub fn authenticate(&self, header: Option<&str>) -> Result<Principal, AuthFailure> {
        let token = header
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(AuthFailure::Missing)?;
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthFailure::Invalid)?;
        let mut last = AuthFailure::Invalid;
        for (algorithm, key) in self.keys.iter().filter(|(a, _)| *a == header.alg) {
            let mut validation = Validation::new(*algorithm);
            validation.set_audience(&[self.audience.as_str()]);
            if let Some(issuer) = &self.issuer {
                validation.set_issuer(&[issuer.as_str()]);
                validation.set_required_spec_claims(&["exp", "aud", "iss"]);
            } else {
                validation.set_required_spec_claims(&["exp", "aud"]);
            }
            validation.validate_nbf = true;
            validation.leeway = self.leeway;
            match jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(
                token,
                key,
                &validation,
            ) {
                Ok(data) => return self.principal(&data.claims),
                Err(e) => {
                    use jsonwebtoken::errors::ErrorKind;
                    last = match e.kind() {
                        ErrorKind::ExpiredSignature => AuthFailure::Expired,
                        ErrorKind::InvalidAudience => AuthFailure::WrongAudience,
                        ErrorKind::InvalidIssuer => AuthFailure::WrongIssuer,
                        _ => AuthFailure::Invalid,
                    };
                    // a claim failure means the signature was good: no other key applies
                    if last != AuthFailure::Invalid {
                        return Err(last);
                    }
                }
            }
        }
        Err(last)
    }

    fn principal(
        &self,
        claims: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Principal, AuthFailure> {
        let text = |name: &str| {
            claims
                .get(name)
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let mut names: Vec<&str> = Vec::new();
        if let Some(scope) = claims.get("scope").and_then(serde_json::Value::as_str) {
            names.extend(scope.split_whitespace());
        }
        if let Some(scp) = claims.get("scp").and_then(serde_json::Value::as_array) {
            names.extend(scp.iter().filter_map(serde_json::Value::as_str));
        }
        let scopes = names
            .into_iter()
            .filter_map(|n| match n {
                "audit:read" => Some(Scope::Read),
                "audit:write" => Some(Scope::Write),
                "audit:admin" => Some(Scope::Admin),
                _ => None,
            })
            .collect();
        let access = match claims.get(&self.systems_claim) {
            None | Some(serde_json::Value::Null) => Access::AllSystems,
            Some(serde_json::Value::Array(items)) => {
                let mut systems = BTreeSet::new();
                for item in items {
                    systems.insert(
                        item.as_str()
                            .ok_or(AuthFailure::BadSystemsClaim)?
                            .to_owned(),
                    );
                }
                Access::Systems(systems)
            }
            Some(_) => return Err(AuthFailure::BadSystemsClaim),
        };
        Ok(Principal {
            subject: text("sub"),
            issuer: text("iss"),
            scopes,
            access,
        })
    }
}
