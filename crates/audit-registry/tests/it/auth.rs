//! rivven-schema has no authentication, so basic auth is checked on the wire: a one-shot HTTP
//! listener records the request heads both request paths (converter and direct) send.

use std::sync::{Arc, Mutex};

use audit_registry::{CompatibilityLevel, RegistryClient, RegistryConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

async fn recording_server(bodies: Vec<&'static str>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let heads = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&heads);
    tokio::spawn(async move {
        for body in bodies {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let mut buf = Vec::new();
            let mut chunk = [0_u8; 4096];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            seen.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&buf).into_owned());
            let response = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes()).await;
        }
    });
    (url, heads)
}

#[tokio::test]
async fn basic_auth_is_sent_on_every_request_path() {
    let (url, heads) = recording_server(vec![r#"["s"]"#, r#"{"compatibility":"NONE"}"#]).await;
    let client = RegistryClient::new(RegistryConfig::new(&url).basic_auth("user", Some("pw")))
        .expect("client");
    assert_eq!(
        client.subjects().await.expect("subjects"),
        vec!["s".to_owned()]
    );
    client
        .set_compatibility("s", CompatibilityLevel::None)
        .await
        .expect("put config");
    let heads = heads.lock().unwrap().clone();
    assert_eq!(heads.len(), 2);
    for head in &heads {
        // base64("user:pw")
        assert!(
            head.to_ascii_lowercase()
                .contains("authorization: basic dxnlcjpwdw=="),
            "{head}"
        );
    }
    assert!(heads[0].starts_with("GET /subjects "), "{}", heads[0]);
    assert!(heads[1].starts_with("PUT /config/s "), "{}", heads[1]);
}
