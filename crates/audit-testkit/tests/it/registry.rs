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

/// Runs only as the child of `shared_server_dies_with_a_killed_test_process`.
#[test]
#[ignore = "helper process for shared_server_dies_with_a_killed_test_process"]
fn child_holding_a_shared_registry() {
    if std::env::var_os("AUDIT_TESTKIT_CHILD").is_none() {
        return;
    }
    let registry = SchemaRegistry::shared().expect("shared registry");
    println!("PORT={}", registry.port());
    std::thread::sleep(std::time::Duration::from_secs(120));
}

#[test]
fn shared_server_dies_with_a_killed_test_process() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--ignored",
            "--exact",
            "registry::child_holding_a_shared_registry",
            "--nocapture",
        ])
        .env("AUDIT_TESTKIT_CHILD", "1")
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn child test process");
    let stdout = child.stdout.take().expect("stdout");
    let port: u16 = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|line| line.strip_prefix("PORT=").map(|p| p.parse().expect("port")))
        .expect("child reports its registry port");
    assert!(listening(port), "the child's registry is up");

    child.kill().expect("SIGKILL the child"); // no destructor runs in the child
    child.wait().expect("reap child");

    // The watchdog sees EOF on its stdin and kills the server; poll for it (bounded).
    let gone = (0..200).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(50));
        !listening(port)
    });
    assert!(gone, "registry on port {port} survived its test process");
}
