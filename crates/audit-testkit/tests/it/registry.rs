use audit_testkit::SchemaRegistry;

use crate::{http, listening};

#[test]
fn starts_registers_and_stops_on_drop() {
    let registry = SchemaRegistry::start().expect("registry starts");
    let port = registry.port();
    assert_eq!(registry.url(), format!("http://127.0.0.1:{port}"));
    let schema =
        r#"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"string\"}]}"#;
    let (status, body) = http(
        port,
        "POST",
        "/subjects/testkit-value/versions",
        Some(&format!(r#"{{"schema":"{schema}"}}"#)),
    );
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("\"id\":1"),
        "a fresh registry starts at id 1: {body}"
    );
    let (status, body) = http(port, "GET", "/subjects", None);
    assert_eq!(status, 200);
    assert!(body.contains("testkit-value"), "{body}");
    drop(registry);
    assert!(!listening(port), "registry still listening after drop");
}

#[test]
fn shared_is_one_instance() {
    let a = SchemaRegistry::shared().expect("shared registry");
    let b = SchemaRegistry::shared().expect("shared registry");
    assert!(std::ptr::eq(a, b));
    let (status, _) = http(a.port(), "GET", "/subjects", None);
    assert_eq!(status, 200);
}
