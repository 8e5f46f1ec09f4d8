//! Acceptance 2: builder -> encode (any writer version) -> frame -> decode -> the expected record.

use audit_builder::{
    AuditCommandBuilder, AuditEventType, AuditObjectDataRole, AuditedObject, ObjectData,
};
use audit_consumer::{AuditRecord, ObjectDataKind, SchemaVersion, Trigger, decode};
use chrono::{DateTime, Utc};
use proptest::prelude::*;

use crate::{ID_1_0_0, ID_1_0_1, ID_1_0_2, versions};

fn text() -> impl Strategy<Value = String> {
    "\\PC{1,10}".prop_filter("not blank", |s| !s.trim().is_empty())
}

fn any_text() -> impl Strategy<Value = String> {
    "\\PC{0,10}"
}

#[derive(Debug, Clone)]
enum Kind {
    Value(Option<String>),
    Json(Vec<u8>),
    S3(String),
}

#[derive(Debug, Clone)]
struct Entry {
    name: String,
    role: Option<AuditObjectDataRole>,
    kind: Kind,
}

#[derive(Debug, Clone)]
struct Object {
    object_type: String,
    id: String,
    version: Option<String>,
    entries: Vec<Entry>,
}

#[derive(Debug, Clone)]
enum TriggerSpec {
    User(String, String),
    System(String, String, String),
}

#[derive(Debug, Clone)]
struct Spec {
    service: String,
    system: String,
    timestamp: DateTime<Utc>,
    event_type: usize,
    context: Option<(String, Option<String>)>,
    event_data: Vec<(String, String)>,
    trigger: TriggerSpec,
    object: Option<Object>,
    idempotence_id: Option<String>,
    variant: Option<String>,
    writer: usize,
}

fn role() -> impl Strategy<Value = Option<AuditObjectDataRole>> {
    prop_oneof![
        Just(None),
        Just(Some(AuditObjectDataRole::New)),
        Just(Some(AuditObjectDataRole::Old))
    ]
}

fn entry() -> impl Strategy<Value = Entry> {
    let kind = prop_oneof![
        proptest::option::of(any_text()).prop_map(Kind::Value),
        proptest::collection::vec(any::<u8>(), 0..24).prop_map(Kind::Json),
        any_text().prop_map(Kind::S3),
    ];
    (text(), role(), kind).prop_map(|(name, role, kind)| Entry { name, role, kind })
}

fn object() -> impl Strategy<Value = Object> {
    (
        text(),
        text(),
        proptest::option::of(any_text()),
        proptest::collection::vec(entry(), 0..6),
    )
        .prop_map(|(object_type, id, version, entries)| Object {
            object_type,
            id,
            version,
            entries,
        })
}

fn trigger() -> impl Strategy<Value = TriggerSpec> {
    prop_oneof![
        (text(), text()).prop_map(|(a, b)| TriggerSpec::User(a, b)),
        (text(), text(), text()).prop_map(|(a, b, c)| TriggerSpec::System(a, b, c)),
    ]
}

prop_compose! {
    fn spec()(
        service in text(),
        system in text(),
        millis in -62_135_596_800_000_i64..253_402_300_799_999,
        extra_nanos in 0_u32..1_000_000,
        event_type in 0_usize..8,
        context in proptest::option::of((text(), proptest::option::of(text()))),
        event_data in proptest::collection::vec((text(), any_text()), 0..6),
        trigger in trigger(),
        object in proptest::option::of(object()),
        idempotence_id in proptest::option::of(text()),
        variant in proptest::option::of(any_text()),
        writer in 0_usize..3,
    ) -> Spec {
        let base = DateTime::from_timestamp_millis(millis).unwrap_or_default();
        let timestamp = base + chrono::Duration::nanoseconds(i64::from(extra_nanos));
        Spec { service, system, timestamp, event_type, context, event_data, trigger, object, idempotence_id, variant, writer }
    }
}

impl Spec {
    fn event_type(&self) -> AuditEventType {
        AuditEventType::from_symbol(AuditEventType::SYMBOLS[self.event_type]).unwrap()
    }

    fn build(&self) -> audit_builder::CreateAuditRecordCommand {
        let mut b =
            AuditCommandBuilder::new(self.service.clone(), self.system.clone(), self.timestamp)
                .event_type(self.event_type());
        if let Some((use_case, pid)) = &self.context {
            b = match pid {
                Some(pid) => b.context_with_process_id(use_case.clone(), pid.clone()),
                None => b.context(use_case.clone()),
            };
        }
        for (k, v) in &self.event_data {
            b = b.event_data(k.clone(), v.clone());
        }
        b = match &self.trigger {
            TriggerSpec::User(id, idp) => b.user(id.clone(), idp.clone()),
            TriggerSpec::System(d, s, c) => b.system_component(d.clone(), s.clone(), c.clone()),
        };
        if let Some(object) = &self.object {
            let mut o = AuditedObject::new(object.object_type.clone(), object.id.clone());
            if let Some(v) = &object.version {
                o = o.version(v.clone());
            }
            for e in &object.entries {
                let data = match &e.kind {
                    Kind::Value(v) => {
                        ObjectData::optional_value(e.name.clone(), v.as_deref().map(Into::into))
                    }
                    Kind::Json(bytes) => ObjectData::json_bytes(e.name.clone(), bytes.clone()),
                    Kind::S3(r) => ObjectData::s3(e.name.clone(), r.clone()),
                };
                o = o.data(match e.role {
                    Some(role) => data.role(role),
                    None => data,
                });
            }
            b = b.audited_object(o);
        }
        if let Some(id) = &self.idempotence_id {
            b = b.idempotence_id(id.clone());
        }
        if let Some(v) = &self.variant {
            b = b.variant(v.clone());
        }
        b.build().unwrap()
    }

    /// Checks every getter of `record` against the spec.
    fn check(&self, record: &AuditRecord) -> Result<(), TestCaseError> {
        prop_assert_eq!(record.service_name(), self.service.as_str());
        prop_assert_eq!(record.system_name(), self.system.as_str());
        prop_assert_eq!(
            record.timestamp().timestamp_millis(),
            self.timestamp.timestamp_millis()
        );
        prop_assert_eq!(record.timestamp().timestamp_subsec_nanos() % 1_000_000, 0);
        let event = record.event();
        prop_assert_eq!(
            event.event_type().as_str(),
            AuditEventType::SYMBOLS[self.event_type]
        );
        prop_assert_eq!(
            event
                .context()
                .map(|c| (c.use_case().to_owned(), c.process_id().map(str::to_owned))),
            self.context.clone()
        );
        prop_assert_eq!(
            record.metadata().process_id(),
            self.context.as_ref().and_then(|c| c.1.as_deref())
        );
        let data: Vec<(String, String)> = event
            .event_data()
            .iter()
            .map(|d| (d.key().to_owned(), d.value().to_owned()))
            .collect();
        prop_assert_eq!(data, self.event_data.clone());
        match (record.trigger(), &self.trigger) {
            (Trigger::User(u), TriggerSpec::User(id, idp)) => {
                prop_assert_eq!((u.id(), u.identity_provider()), (id.as_str(), idp.as_str()));
            }
            (Trigger::SystemComponent(c), TriggerSpec::System(d, s, comp)) => {
                prop_assert_eq!(
                    (c.department(), c.system(), c.component()),
                    (d.as_str(), s.as_str(), comp.as_str())
                );
            }
            (actual, expected) => {
                return Err(TestCaseError::fail(format!("{actual:?} vs {expected:?}")));
            }
        }
        match (record.audited_object(), &self.object) {
            (None, None) => {}
            (Some(actual), Some(expected)) => {
                prop_assert_eq!(actual.object_type(), expected.object_type.as_str());
                prop_assert_eq!(actual.id(), expected.id.as_str());
                prop_assert_eq!(actual.version(), expected.version.as_deref());
                prop_assert_eq!(actual.object_data().len(), expected.entries.len());
                for (a, e) in actual.object_data().iter().zip(&expected.entries) {
                    prop_assert_eq!(a.name(), e.name.as_str());
                    prop_assert_eq!(a.role(), e.role);
                    let expected_kind = match &e.kind {
                        Kind::Value(v) => ObjectDataKind::Value(v.as_deref().map(Into::into)),
                        Kind::Json(b) => ObjectDataKind::Json(b.clone()),
                        Kind::S3(r) => ObjectDataKind::S3Reference(r.as_str().into()),
                    };
                    prop_assert_eq!(a.kind(), &expected_kind);
                }
            }
            (actual, expected) => {
                return Err(TestCaseError::fail(format!("{actual:?} vs {expected:?}")));
            }
        }
        if let Some(id) = &self.idempotence_id {
            prop_assert_eq!(record.metadata().idempotence_id(), id.as_str());
        }
        prop_assert_eq!(record.metadata().type_variant(), self.variant.as_deref());
        prop_assert_eq!(record.metadata().type_name(), "CreateAuditRecordCommand");
        prop_assert_eq!(record.metadata().command_version(), "1.3.0");
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn builder_encode_decode_gives_the_expected_record(spec in spec()) {
        let command = spec.build();
        let (version, id) = [
            (SchemaVersion::V1_0_0, ID_1_0_0),
            (SchemaVersion::V1_0_1, ID_1_0_1),
            (SchemaVersion::V1_0_2, ID_1_0_2),
        ][spec.writer];
        // older writers cannot carry an absent object-data value: those commands go out as 1.0.2
        let (datum, id) = match command.to_avro_datum_as(version) {
            Ok(datum) => (datum, id),
            Err(_) => (command.to_avro_datum(), ID_1_0_2),
        };
        let record_value = audit_schema::confluent::frame(id, &datum);
        let record = decode(&record_value, &versions()).map_err(|e| TestCaseError::fail(e.to_string()))?;

        spec.check(&record)?;
        prop_assert_eq!(&record, &AuditRecord::from(command.clone()));
        prop_assert_eq!(record.metadata().message_id(), command.identity.id.as_str());
        prop_assert_eq!(record.metadata().created(), command.identity.created);
        prop_assert_eq!(record.event().event_type().as_str(), command.payload.event.r#type.as_str());
    }
}
