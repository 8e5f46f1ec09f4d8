use audit_testkit::Tansu;

use crate::listening;

#[test]
fn starts_answers_and_stops_on_drop() {
    let tansu = Tansu::start().expect("tansu starts");
    let port = tansu.port();
    assert_eq!(tansu.bootstrap(), format!("127.0.0.1:{port}"));
    assert!(listening(port));
    drop(tansu);
    assert!(!listening(port), "broker still listening after drop");
}

#[test]
fn creates_topics_and_rejects_duplicates() {
    let tansu = Tansu::shared().expect("shared tansu");
    tansu
        .create_topic("testkit-create-topic", 3)
        .expect("topic created");
    let err = tansu
        .create_topic("testkit-create-topic", 3)
        .expect_err("creating it twice fails");
    assert!(err.to_string().contains("testkit-create-topic"), "{err}");
}

#[test]
fn shared_is_one_instance() {
    let a = Tansu::shared().expect("shared tansu");
    let b = Tansu::shared().expect("shared tansu");
    assert!(std::ptr::eq(a, b));
    assert!(listening(a.port()));
}
