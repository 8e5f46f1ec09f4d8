//! Bearer-JWT access control over real HTTP.

use audit_server::Config;
use aws_lc_rs::encoding::AsDer as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::support::{AUDIENCE, TestServer, claims, now_secs, pem, sign, token};

/// Every protected route with the scope it needs.
const PROTECTED: [(&str, &str, &str); 7] = [
    ("GET", "/v1/audit/records", "audit:read"),
    ("GET", "/v1/audit/records/some-id", "audit:read"),
    ("GET", "/v1/audit/records/export", "audit:read"),
    ("POST", "/v1/audit/records", "audit:write"),
    ("GET", "/v1/audit/status", "audit:admin"),
    ("GET", "/metrics", "audit:admin"),
    ("GET", "/openapi.json", ""),
];

async fn call(server: &TestServer, method: &str, path: &str, token: Option<&str>) -> (u16, Value) {
    let mut request = match method {
        "POST" => server.client.post(server.url(path)).body("[]"),
        _ => server.client.get(server.url(path)),
    };
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    if status == 401 {
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
    }
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test]
async fn tokens_are_checked_on_every_route_but_health() {
    let server = TestServer::sqlite(|_| {}).await;
    let wrong_key = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims("audit:admin"),
        &EncodingKey::from_secret(b"another-secret-another-secret-xx"),
    )
    .unwrap();
    let mut expired = claims("audit:admin");
    expired["exp"] = json!(now_secs() - 3600);
    let mut audience = claims("audit:admin");
    audience["aud"] = json!("someone-else");
    let mut no_exp = claims("audit:admin");
    no_exp.as_object_mut().unwrap().remove("exp");
    let mut later = claims("audit:admin");
    later["nbf"] = json!(now_secs() + 3600);
    let admin = token("audit:admin");
    let alg_none = {
        // header {"alg":"none"} with the admin claims and no signature
        let mut parts = admin.split('.');
        let _ = parts.next();
        format!("eyJhbGciOiJub25lIn0.{}.", parts.next().unwrap())
    };
    let tampered = {
        // the admin token's payload replaced by one with more systems, old signature kept
        let mut c = claims("audit:read");
        c["audit_systems"] = json!(["BILLING"]);
        let limited = sign(&c);
        let full = token("audit:read");
        let l: Vec<&str> = limited.split('.').collect();
        let a: Vec<&str> = full.split('.').collect();
        format!("{}.{}.{}", l[0], a[1], l[2])
    };
    let cases: [(&str, Option<&str>, &str); 8] = [
        ("no token", None, "missing bearer token"),
        ("garbage", Some("not-a-jwt"), "invalid token"),
        ("bad signature", Some(&wrong_key), "invalid token"),
        ("alg none", Some(&alg_none), "invalid token"),
        ("tampered payload", Some(&tampered), "invalid token"),
        ("expired", Some(&sign(&expired)), "token expired"),
        (
            "wrong audience",
            Some(&sign(&audience)),
            "token not issued for this audience",
        ),
        ("no exp", Some(&sign(&no_exp)), "invalid token"),
    ];
    for (method, path, _) in PROTECTED {
        for (what, t, reason) in &cases {
            let (status, body) = call(&server, method, path, *t).await;
            assert_eq!(status, 401, "{what} on {method} {path}: {body}");
            assert_eq!(body["message"], *reason, "{what} on {method} {path}");
        }
        let (status, _) = call(&server, method, path, Some(&sign(&later))).await;
        assert_eq!(status, 401, "nbf in the future on {path}");
    }
    for path in ["/healthz", "/readyz"] {
        assert_eq!(call(&server, "GET", path, None).await.0, 200, "{path}");
    }
}

#[tokio::test]
async fn missing_scope_is_403_and_each_scope_opens_its_routes() {
    let server = TestServer::sqlite(|_| {}).await;
    let scopes = [
        "",
        "audit:read",
        "audit:write",
        "audit:admin",
        "audit:read audit:write",
    ];
    for held in scopes {
        let t = token(held);
        for (method, path, needed) in PROTECTED {
            let granted =
                needed.is_empty() || held.split(' ').any(|s| s == needed || s == "audit:admin");
            let (status, body) = call(&server, method, path, Some(&t)).await;
            if granted {
                assert!(
                    status == 200 || status == 404,
                    "{held:?} on {method} {path}: {status} {body}"
                );
            } else {
                assert_eq!(status, 403, "{held:?} on {method} {path}: {body}");
                assert!(body["message"].as_str().unwrap().contains(needed));
            }
        }
    }
    // `scp` as an array works like `scope`
    let mut c = claims("");
    c["scp"] = json!(["audit:admin"]);
    assert_eq!(
        call(&server, "GET", "/v1/audit/status", Some(&sign(&c)))
            .await
            .0,
        200
    );
    // a malformed systems claim is refused, not read as "all systems"
    let mut c = claims("audit:read");
    c["audit_systems"] = json!("BILLING");
    assert_eq!(
        call(&server, "GET", "/v1/audit/records", Some(&sign(&c)))
            .await
            .0,
        401
    );
}

#[tokio::test]
async fn rs256_and_es256_public_keys_from_config() {
    use aws_lc_rs::{rsa, signature};
    let dir = tempfile::tempdir().unwrap();
    let rsa_key = rsa::KeyPair::generate(rsa::KeySize::Rsa2048).unwrap();
    let rsa_private = pem("PRIVATE KEY", rsa_key.as_der().unwrap().as_ref());
    let rsa_public = pem(
        "PUBLIC KEY",
        signature::KeyPair::public_key(&rsa_key)
            .as_der()
            .unwrap()
            .as_ref(),
    );
    let ec_key =
        signature::EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let ec_private = pem("PRIVATE KEY", ec_key.to_pkcs8v1().unwrap().as_ref());
    let ec_public = pem(
        "PUBLIC KEY",
        signature::KeyPair::public_key(&ec_key)
            .as_der()
            .unwrap()
            .as_ref(),
    );
    std::fs::write(dir.path().join("rsa.pem"), &rsa_public).unwrap();
    std::fs::write(dir.path().join("ec.pem"), &ec_public).unwrap();
    let env = [
        (
            "AUDIT_SERVER_JWT_RS256_KEY_FILES".to_owned(),
            dir.path().join("rsa.pem").display().to_string(),
        ),
        (
            "AUDIT_SERVER_JWT_ES256_KEY_FILES".to_owned(),
            dir.path().join("ec.pem").display().to_string(),
        ),
        (
            "AUDIT_SERVER_STORE_URL".to_owned(),
            format!("sqlite://{}", dir.path().join("a.db").display()),
        ),
        ("AUDIT_SERVER_JWT_AUDIENCE".to_owned(), AUDIENCE.to_owned()),
    ];
    let config = Config::load_from(None, env).unwrap();
    let store = audit_store::AuditStore::connect(&config.store_url)
        .await
        .unwrap();
    let server = TestServer::start(config, store, None).await;
    let c = claims("audit:admin");
    let rs = jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        &c,
        &EncodingKey::from_rsa_pem(rsa_private.as_bytes()).unwrap(),
    )
    .unwrap();
    let es = jsonwebtoken::encode(
        &Header::new(Algorithm::ES256),
        &c,
        &EncodingKey::from_ec_pem(ec_private.as_bytes()).unwrap(),
    )
    .unwrap();
    assert_eq!(
        call(&server, "GET", "/v1/audit/status", Some(&rs)).await.0,
        200
    );
    assert_eq!(
        call(&server, "GET", "/v1/audit/status", Some(&es)).await.0,
        200
    );
    // no HS256 secret configured: an HS256 token is refused
    assert_eq!(
        call(&server, "GET", "/v1/audit/status", Some(&sign(&c)))
            .await
            .0,
        401
    );
    // an RS256 token signed by another key is refused
    let other = rsa::KeyPair::generate(rsa::KeySize::Rsa2048).unwrap();
    let forged = jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        &c,
        &EncodingKey::from_rsa_pem(pem("PRIVATE KEY", other.as_der().unwrap().as_ref()).as_bytes())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        call(&server, "GET", "/v1/audit/status", Some(&forged))
            .await
            .0,
        401
    );
}
