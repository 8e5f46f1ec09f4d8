//! The crate's single error type and the [`Field`] it names.

use std::fmt;

/// A required input of the command, named by a rule violation.
///
/// [`Field::path`] gives the location on the wire (Avro field names), [`Display`](fmt::Display)
/// a human description followed by that path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Field {
    /// The auditing service's name (`publisher.service`).
    ServiceName,
    /// The auditing service's system name (`publisher.system`).
    SystemName,
    /// The user id of a user trigger.
    UserId,
    /// The identity provider of a user trigger.
    IdentityProvider,
    /// The department of a system-component trigger.
    Department,
    /// The system of a system-component trigger.
    ComponentSystem,
    /// The component of a system-component trigger.
    Component,
    /// The idempotence id of the consumed message a system trigger is derived from.
    ConsumedIdempotenceId,
    /// The use case of the event context.
    UseCase,
    /// The key of the event-data entry at `index` (0-based, in the order added).
    EventDataKey {
        /// Position of the entry.
        index: usize,
    },
    /// The type of the audited object.
    ObjectType,
    /// The id of the audited object.
    ObjectId,
    /// The name of the object-data entry at `index` (0-based, in the order added).
    ObjectDataName {
        /// Position of the entry.
        index: usize,
    },
    /// An explicit idempotence-id override.
    IdempotenceId,
}

impl Field {
    /// The location of the field in the command, in Avro field names
    /// (e.g. `payload.event.context.useCase`).
    #[must_use]
    pub fn path(self) -> String {
        match self {
            Self::ServiceName => "publisher.service".to_owned(),
            Self::SystemName => "publisher.system".to_owned(),
            Self::UserId => "payload.trigger.AuditUser.id".to_owned(),
            Self::IdentityProvider => "payload.trigger.AuditUser.identityProvider".to_owned(),
            Self::Department => "payload.trigger.AuditSystemComponent.department".to_owned(),
            Self::ComponentSystem => "payload.trigger.AuditSystemComponent.system".to_owned(),
            Self::Component => "payload.trigger.AuditSystemComponent.component".to_owned(),
            Self::ConsumedIdempotenceId => "identity.idempotenceId".to_owned(),
            Self::UseCase => "payload.event.context.useCase".to_owned(),
            Self::EventDataKey { index } => format!("payload.event.eventData[{index}].key"),
            Self::ObjectType => "payload.auditedData.type".to_owned(),
            Self::ObjectId => "payload.auditedData.id".to_owned(),
            Self::ObjectDataName { index } => {
                format!("payload.auditedData.objectData[{index}].name")
            }
            Self::IdempotenceId => "identity.idempotenceId".to_owned(),
        }
    }

    /// A short human description (e.g. `use case`).
    #[must_use]
    pub fn description(self) -> &'static str {
        match self {
            Self::ServiceName => "service name",
            Self::SystemName => "system name",
            Self::UserId => "user id",
            Self::IdentityProvider => "identity provider",
            Self::Department => "department",
            Self::ComponentSystem => "system of the system component",
            Self::Component => "component",
            Self::ConsumedIdempotenceId => "idempotence id of the consumed message",
            Self::UseCase => "use case",
            Self::EventDataKey { .. } => "event-data key",
            Self::ObjectType => "audited object type",
            Self::ObjectId => "audited object id",
            Self::ObjectDataName { .. } => "object-data name",
            Self::IdempotenceId => "idempotence-id override",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (`{}`)", self.description(), self.path())
    }
}

/// Everything that can go wrong while configuring or building a command.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A required string is empty or consists of whitespace only.
    #[error("{field} must not be blank")]
    Blank {
        /// The offending input.
        field: Field,
    },
    /// `build` was called without a user or system-component trigger.
    #[error(
        "no trigger set (`payload.trigger`): call `user`, `user_from_token`, `system_component` \
         or `system_component_from_message` before `build`"
    )]
    MissingTrigger,
    /// The builder carries a process id and a context was given a different one (jEAP: "processId
    /// on command and processId on AuditContext must match"). A context without a process id
    /// never conflicts.
    #[error(
        "process id mismatch (`processId` / `payload.event.context.processId`): the builder carries \
         {builder:?} but the context names {context:?}"
    )]
    ProcessIdMismatch {
        /// The builder's process id (given to `process_id`, or by the first context naming one).
        builder: String,
        /// The different process id given with a context.
        context: String,
    },
    /// An environment variable needed by [`AuditCommandFactory::from_env`](crate::AuditCommandFactory::from_env)
    /// is missing or not valid Unicode.
    #[error("environment variable {name} is not usable")]
    Environment {
        /// The variable's name.
        name: &'static str,
        /// Why it could not be read.
        #[source]
        source: std::env::VarError,
    },
}

/// Whether `value` is empty or whitespace only. Whitespace is the union of Unicode `White_Space`
/// (what [`str::trim`] removes) and Java's `Character.isWhitespace` (what jEAP's `isBlank` uses,
/// which also counts U+001C..U+001F): everything jEAP calls blank is blank here too, and a few
/// more (no-break spaces, U+0085).
pub(crate) fn is_blank(value: &str) -> bool {
    value
        .chars()
        .all(|c| c.is_whitespace() || matches!(c, '\u{1c}'..='\u{1f}'))
}

/// Returns `Err(Error::Blank)` when `value` is empty or whitespace only (see [`is_blank`]).
pub(crate) fn require(value: &str, field: Field) -> Result<(), Error> {
    if is_blank(value) {
        Err(Error::Blank { field })
    } else {
        Ok(())
    }
}
