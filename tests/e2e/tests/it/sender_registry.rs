//! Issue 14, acceptance 1: the outbox's sender gets its schema id through the registry client,
//! which asks the registry once per subject and then answers from its cache. The requests are
//! counted on the wire (an HTTP recorder in front of a real rivven-schema, or a local HTTP server
//! answering the three calls of a registration), not by the client.

use audit_outbox::sender::{AuditSender, AuditTopics};
use audit_registry::{COMMAND_FULL_NAME, RegistryClient, RegistryConfig, SubjectStrategy};
use audit_schema::SchemaVersion;
use audit_testkit::{HttpRecorder, RecordedRequest, SchemaRegistry};
use std::collections::HashMap;
use std::sync::Mutex;

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The registration requests (`POST /subjects/{subject}/versions`) among `requests`.
fn registrations<'a>(requests: &'a [RecordedRequest], subject: &str) -> Vec<&'a RecordedRequest> {
    let path = format!("/subjects/{subject}/versions");
    requests
        .iter()
        .filter(|r| r.method == "POST" && r.target.split('?').next() == Some(path.as_str()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sender_asks_the_registry_once_per_subject_then_serves_from_the_cache() -> TestResult {
    let registry = SchemaRegistry::start()?;
    let recorder = HttpRecorder::start(registry.port())?;
    let client = RegistryClient::new(RegistryConfig::new(recorder.url()))?;
    let topics = AuditTopics {
        topic: None,
        topics: vec!["audit-a".to_owned(), "audit-b".to_owned()],
    };

    let first = AuditSender::per_topic_with_provider(&topics, &client).await?;
    let after_first = recorder.requests();
    for (sender, topic) in first.iter().zip(["audit-a", "audit-b"]) {
        let subject = format!("{topic}-{COMMAND_FULL_NAME}");
        assert_eq!(
            registrations(&after_first, &subject).len(),
            1,
            "one registration of {subject}: {after_first:?}"
        );
        // The id is the one the registry holds under jEAP's subject.
        let direct = RegistryClient::new(RegistryConfig::new(registry.url()))?;
        assert_eq!(
            direct.subject_version(&subject, None).await?.id,
            sender.schema_id()
        );
    }
    // Both topics' subjects, nothing else written: a new subject is prepared (GET its versions,
    // PUT compatibility NONE) and registered, once each.
    assert_eq!(after_first.len(), 6, "{after_first:?}");

    // More senders for the same topics, from the same client and from a clone: the cache answers.
    for _ in 0..3 {
        let again = AuditSender::per_topic_with_provider(&topics, &client.clone()).await?;
        let ids: Vec<u32> = again.iter().map(AuditSender::schema_id).collect();
        let first_ids: Vec<u32> = first.iter().map(AuditSender::schema_id).collect();
        assert_eq!(ids, first_ids);
    }
    assert_eq!(
        recorder.requests(),
        after_first,
        "no request once every subject is cached"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics_sharing_a_subject_are_one_registration() -> TestResult {
    let registry = SchemaRegistry::start()?;
    let recorder = HttpRecorder::start(registry.port())?;
    let client = RegistryClient::new(
        RegistryConfig::new(recorder.url()).subject_strategy(SubjectStrategy::RecordName),
    )?;
    let topics = AuditTopics {
        topic: None,
        topics: vec!["audit-x".to_owned(), "audit-y".to_owned()],
    };
    let senders = AuditSender::per_topic_with_provider(&topics, &client).await?;
    assert_eq!(senders.len(), 2);
    assert_eq!(senders[0].schema_id(), senders[1].schema_id());
    let requests = recorder.requests();
    assert_eq!(
        registrations(&requests, COMMAND_FULL_NAME).len(),
        1,
        "{requests:?}"
    );
    assert_eq!(requests.len(), 3, "{requests:?}");
    // The registered schema is the newest version's (rivven re-serializes the text: compare forms).
    let direct = RegistryClient::new(RegistryConfig::new(registry.url()))?;
    let fetched = direct.writer_schema(senders[0].schema_id()).await?;
    assert_eq!(fetched.known_version(), Some(SchemaVersion::LATEST));
    Ok(())
}

/// A local HTTP server with a registration's three answers: a subject without versions, the
/// compatibility set, and an id per subject (41, 42, ... in the order subjects are registered).
fn registering_server() -> TestResult<HttpRecorder> {
    let ids: Mutex<HashMap<String, u32>> = Mutex::new(HashMap::new());
    Ok(HttpRecorder::answering(move |method, target| {
        let path = target.split('?').next().unwrap_or_default();
        match (method, path.strip_prefix("/subjects/")) {
            ("GET", Some(rest)) if rest.ends_with("/versions") => (200, "[]".to_owned()),
            ("POST", Some(rest)) if rest.ends_with("/versions") => {
                let mut ids = ids
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let next = 41 + u32::try_from(ids.len()).unwrap_or_default();
                let id = *ids.entry(rest.to_owned()).or_insert(next);
                (200, format!(r#"{{"id":{id}}}"#))
            }
            _ if method == "PUT" && path.starts_with("/config/") => {
                (200, r#"{"compatibility":"NONE"}"#.to_owned())
            }
            _ => (
                404,
                r#"{"error_code":40401,"message":"not here"}"#.to_owned(),
            ),
        }
    })?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn senders_of_a_local_registry_ask_once_per_subject() -> TestResult {
    let server = registering_server()?;
    let client = RegistryClient::new(RegistryConfig::new(server.url()))?;
    let topics = AuditTopics {
        topic: None,
        topics: vec!["audit-a".to_owned(), "audit-b".to_owned()],
    };
    let first = AuditSender::per_topic_with_provider(&topics, &client).await?;
    assert_eq!(
        first.iter().map(AuditSender::schema_id).collect::<Vec<_>>(),
        vec![41, 42]
    );
    let after_first = server.requests();
    for topic in ["audit-a", "audit-b"] {
        let subject = format!("{topic}-{COMMAND_FULL_NAME}");
        assert_eq!(
            registrations(&after_first, &subject).len(),
            1,
            "{after_first:?}"
        );
    }
    assert_eq!(after_first.len(), 6, "{after_first:?}");
    for _ in 0..3 {
        let again = AuditSender::per_topic_with_provider(&topics, &client.clone()).await?;
        assert_eq!(
            again.iter().map(AuditSender::schema_id).collect::<Vec<_>>(),
            vec![41, 42]
        );
        AuditSender::with_provider("audit-a", &client).await?;
    }
    assert_eq!(
        server.requests(),
        after_first,
        "no request once every subject is cached"
    );
    Ok(())
}
