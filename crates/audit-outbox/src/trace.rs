//! Trace-context capture for the stored `traceparent` header.
//!
//! `tracing` spans carry no W3C trace context by themselves; the context lives in whatever
//! tracing-to-OpenTelemetry bridge the application installs. The application registers one
//! function that returns the current `traceparent` (for `tracing-opentelemetry`:
//! `tracing::Span::current().context()` formatted as `00-<trace id>-<span id>-<flags>`), and
//! every enqueue without an explicit `traceparent` header stores its result. With the feature
//! `opentelemetry`, `opentelemetry_traceparent` is that function for `tracing-opentelemetry`.

use std::sync::OnceLock;

static SOURCE: OnceLock<fn() -> Option<String>> = OnceLock::new();

/// Registers the function that yields the current `traceparent` (once per process; later calls
/// return `false` and change nothing).
///
/// ```
/// fn current() -> Option<String> {
///     Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".to_owned())
/// }
/// audit_outbox::trace::set_traceparent_source(current);
/// assert!(audit_outbox::trace::current_traceparent().is_some());
/// ```
pub fn set_traceparent_source(source: fn() -> Option<String>) -> bool {
    SOURCE.set(source).is_ok()
}

/// The current `traceparent`, if a source is registered and it yields a well-formed value.
pub fn current_traceparent() -> Option<String> {
    let tp = SOURCE.get()?()?;
    is_valid_traceparent(&tp).then_some(tp)
}

/// The W3C `traceparent` of the current `tracing` span's OpenTelemetry context (requires the
/// `tracing-opentelemetry` layer in the subscriber); `None` outside a sampled-or-not valid span
/// context. Register it once at start-up:
///
/// ```
/// audit_outbox::trace::set_traceparent_source(audit_outbox::trace::opentelemetry_traceparent);
/// // outside a span with an OpenTelemetry context there is nothing to capture
/// assert_eq!(audit_outbox::trace::current_traceparent(), None);
/// ```
#[cfg(feature = "opentelemetry")]
pub fn opentelemetry_traceparent() -> Option<String> {
    use opentelemetry::trace::TraceContextExt;
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    let cx = tracing::Span::current().context();
    let span = cx.span();
    let sc = span.span_context();
    sc.is_valid().then(|| {
        format!(
            "00-{}-{}-{:02x}",
            sc.trace_id(),
            sc.span_id(),
            sc.trace_flags().to_u8()
        )
    })
}

/// Checks the W3C `traceparent` shape: `vv-<32 hex>-<16 hex>-<2 hex>`, ids not all zero.
pub fn is_valid_traceparent(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let hex = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit());
    matches!(parts.as_slice(), [v, t, p, f]
        if hex(v, 2) && hex(t, 32) && hex(p, 16) && hex(f, 2)
            && t.bytes().any(|b| b != b'0') && p.bytes().any(|b| b != b'0'))
}

#[cfg(test)]
mod tests {
    #[test]
    fn shapes() {
        use super::is_valid_traceparent as ok;
        assert!(ok(
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        ));
        assert!(!ok(
            "00-00000000000000000000000000000000-b7ad6b7169203331-01"
        ));
        assert!(!ok("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331"));
        assert!(!ok("garbage"));
    }
}
