//! Certificate rotation: the signer in force at send time signs.

use audit_signing::{Accepted, ReceivedHeaders, SignerHandle, Verifier};

use crate::support::{Pki, message, strict_config, value};

#[test]
fn after_rotation_records_are_signed_with_the_new_key_and_old_handles_keep_theirs() {
    let pki = Pki::new();
    let ca = pki.ca("Test Root CA");
    let old = pki.leaf("svc", &ca, "0x0a", 30, 2048);
    let new = pki.leaf("svc", &ca, "0x0b", 30, 2048);
    let handle = SignerHandle::new(old.signer("svc"));
    let before = handle.current();
    assert_eq!(before.certificate_serial(), [0x0a]);

    // a row enqueued before the rotation, sent after it
    let row = value();
    let previous = handle.rotate(new.signer("svc"));
    assert_eq!(previous.certificate_serial(), [0x0a]);
    let at_send = handle.current().sign_record(None, &row).unwrap();
    assert_eq!(at_send.certificate_serial, [0x0b]);
    assert_eq!(
        at_send.value_signature,
        new.signer("svc").sign_value(&row).unwrap()
    );
    assert_ne!(
        at_send.value_signature,
        old.signer("svc").sign_value(&row).unwrap()
    );

    // a subscriber that knows both chains accepts both
    let verifier = Verifier::new(strict_config(&[
        ("svc", vec![&old, &ca]),
        ("svc2", vec![&new, &ca]),
    ]))
    .unwrap();
    let h = ReceivedHeaders {
        value_signature: Some(&at_send.value_signature),
        certificate_serial: Some(&at_send.certificate_serial),
        key_signature: None,
    };
    assert!(matches!(
        verifier.verify_value(Some(message("svc")), &h, &row),
        Ok(Accepted::Verified { .. })
    ));
    // the handle taken before the rotation still signs with the old key
    assert_eq!(
        before.sign_value(&row).unwrap(),
        old.signer("svc").sign_value(&row).unwrap()
    );
}
