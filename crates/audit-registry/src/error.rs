//! The crate's error type.

use schema_registry_converter::error::SRCError;
use schema_registry_converter::schema_registry_common::RawError;

pub use audit_schema::registry::BoxError;

/// Everything that can go wrong talking to a schema registry or encoding/decoding through it.
///
/// Registry errors name the HTTP method, the full URL and (for answers) the HTTP status.
/// Nothing that fails is cached: the next call asks the registry again.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The registry could not be reached (connection refused, DNS, TLS, timeout).
    #[error("schema registry unreachable: {method} {url}")]
    Unreachable {
        /// HTTP method.
        method: &'static str,
        /// Full request URL.
        url: String,
        /// The transport error.
        #[source]
        source: BoxError,
    },
    /// The registry answered with an HTTP error status.
    #[error("schema registry answered HTTP {status}{} to {method} {url}: {message}", code_suffix(*.error_code))]
    Http {
        /// HTTP method.
        method: &'static str,
        /// Full request URL.
        url: String,
        /// HTTP status code.
        status: u16,
        /// Confluent `error_code` from the body (e.g. 40403), when present.
        error_code: Option<u32>,
        /// The registry's message (or the raw body).
        message: String,
    },
    /// The registry answered 2xx with a body we cannot use.
    #[error("schema registry gave an invalid answer to {method} {url}: {message}")]
    InvalidResponse {
        /// HTTP method.
        method: &'static str,
        /// Full request URL.
        url: String,
        /// What is wrong with it.
        message: String,
    },
    /// The schema is not registered under the subject and auto-registration is off.
    #[error(
        "schema (fingerprint {fingerprint:016x}) is not registered under subject {subject} at {url}, and auto-registration is off"
    )]
    NotRegistered {
        /// The subject looked in.
        subject: String,
        /// Registry base URL.
        url: String,
        /// CRC-64-AVRO fingerprint of the schema's Parsing Canonical Form.
        fingerprint: u64,
    },
    /// The client configuration is invalid (URL, TLS certificate, ...).
    #[error("invalid schema registry configuration: {message}")]
    Config {
        /// What is wrong.
        message: String,
        /// The underlying error, if any.
        #[source]
        source: Option<BoxError>,
    },
    /// A writer schema fetched by id cannot be used to read the command.
    #[error("writer schema id {id} from {url} cannot be used")]
    WriterSchema {
        /// Schema id.
        id: u32,
        /// Registry base URL.
        url: String,
        /// Why.
        #[source]
        source: audit_schema::Error,
    },
    /// Framing, encoding or decoding failed.
    #[error("Avro encoding, decoding or framing failed")]
    Codec(#[from] audit_schema::Error),
}

fn code_suffix(code: Option<u32>) -> String {
    code.map(|c| format!(" (error code {c})"))
        .unwrap_or_default()
}

impl Error {
    /// The HTTP status, for [`Error::Http`].
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Http { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether retrying later may succeed: registry unreachable, HTTP 408, 429 or 5xx.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Unreachable { .. } => true,
            Error::Http { status, .. } => matches!(*status, 408 | 429 | 500..=599),
            _ => false,
        }
    }

    /// Maps an error of `schema_registry_converter` for a request to `url`.
    pub(crate) fn from_src(err: SRCError, method: &'static str, url: String) -> Error {
        let source = std::error::Error::source(&err);
        if let Some(raw) = source.and_then(|s| s.downcast_ref::<RawError>()) {
            let status = status_from_message(&err.error).unwrap_or(0);
            return Error::Http {
                method,
                url,
                status,
                error_code: Some(raw.error_code).filter(|c| *c != 0),
                message: raw.message.clone(),
            };
        }
        if let Some(http) = source.and_then(|s| s.downcast_ref::<reqwest::Error>()) {
            if let Some(status) = http.status() {
                return Error::Http {
                    method,
                    url,
                    status: status.as_u16(),
                    error_code: None,
                    message: http.to_string(),
                };
            }
            if http.is_decode() || http.is_body() {
                return Error::InvalidResponse {
                    method,
                    url,
                    message: format!("{}: {http}", err.error),
                };
            }
            return Error::Unreachable {
                method,
                url,
                source: Box::new(err),
            };
        }
        match status_from_message(&err.error) {
            Some(status) => Error::Http {
                method,
                url,
                status,
                error_code: None,
                message: err.cause.clone().unwrap_or_else(|| err.error.clone()),
            },
            None => Error::InvalidResponse {
                method,
                url,
                message: err.to_string(),
            },
        }
    }

    /// Maps a transport error of our own reqwest calls.
    pub(crate) fn from_reqwest(err: reqwest::Error, method: &'static str, url: String) -> Error {
        if err.is_decode() || err.is_body() {
            Error::InvalidResponse {
                method,
                url,
                message: err.to_string(),
            }
        } else {
            Error::Unreachable {
                method,
                url,
                source: Box::new(err),
            }
        }
    }
}

/// `schema_registry_converter` 6 reports HTTP errors as
/// "HTTP request to schema registry failed with status 404 Not Found".
fn status_from_message(message: &str) -> Option<u16> {
    let (_, rest) = message.split_once("with status ")?;
    rest.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn status_is_read_from_the_converter_message() {
        assert_eq!(
            status_from_message("HTTP request to schema registry failed with status 404 Not Found"),
            Some(404)
        );
        assert_eq!(status_from_message("could not parse"), None);
    }

    #[test]
    fn converter_http_errors_keep_status_and_code() {
        let raw: RawError =
            serde_json::from_str(r#"{"error_code":40403,"message":"Schema not found"}"#)
                .expect("raw error json");
        let src = SRCError::non_retryable_with_cause(
            raw,
            "HTTP request to schema registry failed with status 404 Not Found",
        );
        let err = Error::from_src(src, "GET", "http://r/schemas/ids/9".to_owned());
        assert_eq!(err.status(), Some(404));
        assert!(!err.is_transient());
        let text = err.to_string();
        assert!(text.contains("HTTP 404 (error code 40403)"), "{text}");
        assert!(text.contains("GET http://r/schemas/ids/9"), "{text}");
        assert!(text.contains("Schema not found"), "{text}");
    }

    #[test]
    fn server_errors_are_transient() {
        let err = Error::Http {
            method: "GET",
            url: "u".to_owned(),
            status: 503,
            error_code: None,
            message: String::new(),
        };
        assert!(err.is_transient());
    }
}
