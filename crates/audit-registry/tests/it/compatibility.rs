use audit_registry::CompatibilityLevel;

use crate::{PLAIN_V1, PLAIN_V2_DEFAULT, PLAIN_V2_NO_DEFAULT, client, unique_topic};

#[tokio::test]
async fn compatibility_against_latest_version() {
    let client = client();
    let subject = format!("{}-value", unique_topic("compat"));
    client
        .set_compatibility(&subject, CompatibilityLevel::Backward)
        .await
        .expect("BACKWARD");
    assert_eq!(
        client
            .subject_compatibility(&subject)
            .await
            .expect("config"),
        Some(CompatibilityLevel::Backward)
    );
    client
        .register(&subject, PLAIN_V1)
        .await
        .expect("register v1");

    let bad = client
        .check_compatibility(&subject, PLAIN_V2_NO_DEFAULT)
        .await
        .expect("check");
    assert!(!bad.is_compatible);
    assert!(
        bad.messages.iter().any(|m| m.contains('b')),
        "the registry explains why: {:?}",
        bad.messages
    );

    let good = client
        .check_compatibility(&subject, PLAIN_V2_DEFAULT)
        .await
        .expect("check");
    assert!(good.is_compatible, "{:?}", good.messages);

    // Under NONE everything is compatible.
    client
        .set_compatibility(&subject, CompatibilityLevel::None)
        .await
        .expect("NONE");
    assert!(
        client
            .check_compatibility(&subject, PLAIN_V2_NO_DEFAULT)
            .await
            .expect("check")
            .is_compatible
    );
}
