//! The fluent [`AuditCommandBuilder`].

use std::sync::Arc;

use audit_sanitize::{SanitizeReport, Sanitizer};
use audit_schema::{
    AuditContext, AuditEventDataElement, AuditEventDetails, AuditEventType, AuditSystemComponent,
    AuditTrigger, AuditUser, AvroMessageIdentity, AvroMessagePublisher, AvroMessageType,
    CompactString, CreateAuditRecordCommand, CreateAuditRecordCommandPayload,
    CreateAuditRecordCommandReferences,
};
use chrono::{DateTime, SubsecRound as _, Utc};

use crate::clock::{Clock, ClockRef};
use crate::error::{Error, Field, is_blank, require};
use crate::instant::write_java_instant;
use crate::object::AuditedObject;
use crate::trigger::{JeapMessage, TokenSubject};

/// `type.name` of every built command.
pub const TYPE_NAME: &str = "CreateAuditRecordCommand";
/// `commandVersion` of every built command (what current jEAP producers write).
pub const COMMAND_VERSION: &str = "1.3.0";

#[derive(Debug, Clone, PartialEq, Eq)]
struct Context {
    use_case: CompactString,
    process_id: Option<CompactString>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Trigger {
    User {
        id: CompactString,
        identity_provider: CompactString,
    },
    System {
        department: CompactString,
        system: CompactString,
        component: CompactString,
    },
}

/// Where the command's idempotence id comes from when it is not the default one.
#[derive(Debug, Clone, PartialEq, Eq)]
enum IdempotenceId {
    /// Set with [`AuditCommandBuilder::idempotence_id`]: never replaced by a derived id.
    Explicit(CompactString),
    /// Derived from a consumed message: `audit-{its idempotence id}`.
    FromMessage(CompactString),
}

/// The first call that jEAP's builder throws from (the Rust builder reports it from `build`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum CallFailure {
    /// `setContext(useCase, processId)` with a process id other than the builder's:
    /// (the builder's, the context's).
    ProcessIdConflict {
        builder: CompactString,
        context: CompactString,
    },
    /// `idempotenceId(blank)`: the id is not taken.
    BlankIdempotenceId,
}

/// Builds `CreateAuditRecordCommand`s following jEAP's rules.
///
/// Setters take and return the builder (chain them); every check happens in
/// [`build`](Self::build), which borrows the builder so it can be reused: later changes never
/// affect a command already built.
///
/// # What each call changes (jEAP's `CreateAuditRecordCommandBuilder`, call for call)
///
/// | call | jEAP | state it changes |
/// |---|---|---|
/// | [`new`](Self::new) | `createCommandBuilder(service, system, timestamp)` | service, system, timestamp; process id none, event type `UNKNOWN` |
/// | [`process_id`](Self::process_id) | `createCommandBuilder(.., processId)` | the builder's process id (a conflict if a context already names another one) |
/// | [`context`](Self::context) | `setContext(useCase)` | the context becomes `{useCase, null}`; the builder's process id is **not** touched |
/// | [`context_with_process_id`](Self::context_with_process_id) | `setContext(useCase, processId)` | the context becomes `{useCase, processId}`; if the builder has no process id, it takes this one; if it has another one, a conflict (jEAP throws at the call, `build` returns [`Error::ProcessIdMismatch`]) |
/// | [`event_type`](Self::event_type) | `setEventType` | the event type (last wins) |
/// | [`event_data`](Self::event_data) | `addEventData` | appends an entry |
/// | [`user`](Self::user), [`user_from_token`](Self::user_from_token) | `setTriggerUser` | the trigger (replaces a system trigger); the idempotence id is not touched |
/// | [`system_component`](Self::system_component) | `setTriggerSystem` | the trigger (replaces a user trigger); the idempotence id is not touched |
/// | [`system_component_from_message`](Self::system_component_from_message) | the factory's `createWithSystemTriggerFromMessage` | the system trigger from the message's publisher, and the idempotence id `audit-{consumed id}` unless one was set explicitly |
/// | [`idempotence_id`](Self::idempotence_id) | `idempotenceId` | the explicit idempotence id (never regenerated, never replaced by a derived one, replaced by a later explicit one); a blank id is not taken and fails the builder (jEAP throws at the call, `build` returns [`Error::Blank`]) |
/// | [`audited_object`](Self::audited_object) | `setAuditObject` + `addAuditObjectData*` | the audited object with its data |
/// | [`variant`](Self::variant) | `variant` | `type.variant` |
/// | [`sanitizer`](Self::sanitizer) | (none) | the sanitizer applied to every command built |
/// | [`build`](Self::build) | `build` | nothing: first the first failed call's error, if any; else the command gets the builder's process id, the context as set, the explicit or derived idempotence id or else the default one computed from the state at this call |
///
/// A failed call (a process-id conflict, a blank idempotence id) is remembered, the first one
/// only, and never healed by later calls: in jEAP the exception ends the chain.
///
/// The four call orders where this builder once differed from jEAP, as jEAP behaves:
///
/// ```
/// use audit_builder::{AuditCommandBuilder, Error};
/// use chrono::Utc;
/// let builder = || AuditCommandBuilder::new("svc", "SYS", Utc::now()).user("u1", "idp");
///
/// // builder with process id p-1, then setContext("uc"): process id kept, context {uc, null}
/// let command = builder().process_id("p-1").context("uc").build()?;
/// assert_eq!(command.process_id.as_deref(), Some("p-1"));
/// let context = command.payload.event.context.as_ref().unwrap();
/// assert_eq!((context.use_case.as_str(), context.process_id.as_deref()), ("uc", None));
///
/// // setContext("uc1", "p-1"), then setContext("uc2", "p-2"): the second call conflicts
/// let result = builder().context_with_process_id("uc1", "p-1").context_with_process_id("uc2", "p-2").build();
/// assert!(matches!(result, Err(Error::ProcessIdMismatch { .. })));
///
/// // setContext("uc1", "p-1"), then setContext("uc2"): process id p-1 stays, context {uc2, null}
/// let command = builder().context_with_process_id("uc1", "p-1").context("uc2").build()?;
/// assert_eq!(command.process_id.as_deref(), Some("p-1"));
///
/// // message-triggered, then a user trigger: the derived id audit-{consumed id} stays
/// let consumed = builder().idempotence_id("msg-17").build()?;
/// let command = AuditCommandBuilder::new("svc", "SYS", Utc::now())
///     .system_component_from_message("IT", &consumed)
///     .user("u1", "idp")
///     .build()?;
/// assert_eq!(command.identity.idempotence_id, "audit-msg-17");
/// # Ok::<(), audit_builder::Error>(())
/// ```
///
/// ```
/// use audit_builder::{AuditCommandBuilder, AuditEventType, AuditedObject};
/// use chrono::{TimeZone, Utc};
///
/// let at = Utc.with_ymd_and_hms(2026, 5, 28, 8, 0, 0).unwrap();
/// let command = AuditCommandBuilder::new("invoice-service", "BILLING", at)
///     .event_type(AuditEventType::Modified)
///     .context("pay-invoice")
///     .event_data("channel", "web")
///     .user("u1", "https://idp.example")
///     .audited_object(AuditedObject::new("Invoice", "INV-1").value("status", "PAID"))
///     .build()?;
/// assert_eq!(command.identity.idempotence_id, "BILLING-invoice-service-MODIFIED-u1-2026-05-28T08:00:00Z");
/// # Ok::<(), audit_builder::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct AuditCommandBuilder {
    service: CompactString,
    system: CompactString,
    timestamp: DateTime<Utc>,
    process_id: Option<CompactString>,
    event_type: AuditEventType,
    context: Option<Context>,
    event_data: Vec<(CompactString, CompactString)>,
    trigger: Option<Trigger>,
    audited_object: Option<AuditedObject>,
    idempotence_id: Option<IdempotenceId>,
    variant: Option<CompactString>,
    /// The first call jEAP throws from (a process-id conflict or a blank idempotence id);
    /// `build` reports it before anything else. Later calls never heal it.
    failure: Option<CallFailure>,
    clock: ClockRef,
    /// Applied to every command built (see [`AuditCommandBuilder::sanitizer`]).
    sanitizer: Option<Arc<Sanitizer>>,
}

impl AuditCommandBuilder {
    /// A builder for an action of the service `service` in the system `system` that happened at
    /// `timestamp` (kept with full precision for the default idempotence id; the wire carries
    /// milliseconds). Event type `UNKNOWN`, no trigger yet.
    ///
    /// ```
    /// use audit_builder::AuditCommandBuilder;
    /// use chrono::Utc;
    /// let builder = AuditCommandBuilder::new("invoice-service", "BILLING", Utc::now());
    /// assert!(builder.user("u1", "idp").build().is_ok());
    /// ```
    #[must_use]
    pub fn new(
        service: impl Into<CompactString>,
        system: impl Into<CompactString>,
        timestamp: DateTime<Utc>,
    ) -> Self {
        Self {
            service: service.into(),
            system: system.into(),
            timestamp,
            process_id: None,
            event_type: AuditEventType::Unknown,
            context: None,
            event_data: Vec::new(),
            trigger: None,
            audited_object: None,
            idempotence_id: None,
            variant: None,
            failure: None,
            clock: ClockRef::System,
            sanitizer: None,
        }
    }

    /// Sets the command's process id (jEAP passes it to `createCommandBuilder`). A context set
    /// with [`context_with_process_id`](Self::context_with_process_id) must name the same one:
    /// if one already names another process id, [`build`](Self::build) fails with
    /// [`Error::ProcessIdMismatch`]. A context set with [`context`](Self::context) names none and
    /// never conflicts.
    ///
    /// ```
    /// use audit_builder::AuditCommandBuilder;
    /// use chrono::Utc;
    /// let command = AuditCommandBuilder::new("svc", "SYS", Utc::now())
    ///     .process_id("p-1")
    ///     .user("u1", "idp")
    ///     .build()?;
    /// assert_eq!(command.process_id.as_deref(), Some("p-1"));
    /// # Ok::<(), audit_builder::Error>(())
    /// ```
    #[must_use]
    pub fn process_id(mut self, process_id: impl Into<CompactString>) -> Self {
        let process_id = process_id.into();
        if let Some(named) = self.context.as_ref().and_then(|c| c.process_id.clone())
            && named != process_id
        {
            self.note_conflict(&process_id, &named);
        }
        self.process_id = Some(process_id);
        self
    }

    /// Remembers the first process-id conflict (later ones cannot happen in jEAP: it throws).
    fn note_conflict(&mut self, builder: &CompactString, context: &CompactString) {
        self.note_failure(CallFailure::ProcessIdConflict {
            builder: builder.clone(),
            context: context.clone(),
        });
    }

    /// Remembers the first call jEAP throws from; later calls cannot happen there.
    fn note_failure(&mut self, failure: CallFailure) {
        if self.failure.is_none() {
            self.failure = Some(failure);
        }
    }

    /// Sets the event type (default `UNKNOWN`).
    ///
    /// ```
    /// use audit_builder::{AuditCommandBuilder, AuditEventType};
    /// use chrono::Utc;
    /// let command = AuditCommandBuilder::new("svc", "SYS", Utc::now())
    ///     .event_type(AuditEventType::Read)
    ///     .user("u1", "idp")
    ///     .build()?;
    /// assert_eq!(command.payload.event.r#type, AuditEventType::Read);
    /// # Ok::<(), audit_builder::Error>(())
    /// ```
    #[must_use]
    pub fn event_type(mut self, event_type: AuditEventType) -> Self {
        self.event_type = event_type;
        self
    }

    /// Sets the event context to a use case without a process id (jEAP's one-argument
    /// `setContext`). The builder's process id, if any, is not touched: the command still carries
    /// it, the context names none.
    ///
    /// ```
    /// use audit_builder::AuditCommandBuilder;
    /// use chrono::Utc;
    /// let command = AuditCommandBuilder::new("svc", "SYS", Utc::now())
    ///     .process_id("p-1")
    ///     .context("pay-invoice")
    ///     .user("u1", "idp")
    ///     .build()?;
    /// assert_eq!(command.process_id.as_deref(), Some("p-1"));
    /// let context = command.payload.event.context.unwrap();
    /// assert_eq!((context.use_case.as_str(), context.process_id), ("pay-invoice", None));
    /// # Ok::<(), audit_builder::Error>(())
    /// ```
    #[must_use]
    pub fn context(mut self, use_case: impl Into<CompactString>) -> Self {
        self.context = Some(Context {
            use_case: use_case.into(),
            process_id: None,
        });
        self
    }

    /// Sets the event context to a use case and a process id (jEAP's two-argument `setContext`).
    /// If the builder carries no process id, this one becomes the builder's (and so the
    /// command's) process id, and stays when a later [`context`](Self::context) replaces the
    /// context. If the builder carries a different one (given to
    /// [`process_id`](Self::process_id) or by an earlier call of this method),
    /// [`build`](Self::build) fails with [`Error::ProcessIdMismatch`] (jEAP throws at this call).
    ///
    /// ```
    /// use audit_builder::AuditCommandBuilder;
    /// use chrono::Utc;
    /// let command = AuditCommandBuilder::new("svc", "SYS", Utc::now())
    ///     .context_with_process_id("pay-invoice", "p-1")
    ///     .user("u1", "idp")
    ///     .build()?;
    /// assert_eq!(command.process_id.as_deref(), Some("p-1"));
    /// # Ok::<(), audit_builder::Error>(())
    /// ```
    #[must_use]
    pub fn context_with_process_id(
        mut self,
        use_case: impl Into<CompactString>,
        process_id: impl Into<CompactString>,
    ) -> Self {
        let process_id = process_id.into();
        match self.process_id.clone() {
            Some(builder) if builder != process_id => self.note_conflict(&builder, &process_id),
            _ => self.process_id = Some(process_id.clone()),
        }
        self.context = Some(Context {
            use_case: use_case.into(),
            process_id: Some(process_id),
        });
        self
    }

    /// Appends an event-data entry; entries keep their order, keys may repeat.
    ///
    /// ```
    /// use audit_builder::AuditCommandBuilder;
    /// use chrono::Utc;
    /// let command = AuditCommandBuilder::new("svc", "SYS", Utc::now())
    ///     .event_data("a", "1")
    ///     .event_data("b", "2")
    ///     .user("u1", "idp")
    ///     .build()?;
    /// assert_eq!(command.payload.event.event_data.map(|d| d.len()), Some(2));
    /// # Ok::<(), audit_builder::Error>(())
    /// ```
    #[must_use]
    pub fn event_data(
        mut self,
        key: impl Into<CompactString>,
        value: impl Into<CompactString>,
    ) -> Self {
        self.event_data.push((key.into(), value.into()));
        self
    }

    /// Sets a user trigger (replacing any trigger set before). The idempotence id is not touched:
    /// an explicit or message-derived one stays.
    ///
    /// ```
    /// use audit_builder::{AuditCommandBuilder, AuditTrigger};
    /// use chrono::Utc;
    /// let command = AuditCommandBuilder::new("svc", "SYS", Utc::now())
    ///     .user("u1", "https://idp.example")
    ///     .build()?;
    /// assert!(matches!(command.payload.trigger, AuditTrigger::AuditUser(u) if u.id == "u1"));
    /// # Ok::<(), audit_builder::Error>(())
    /// ```
    #[must_use]
    pub fn user(
        mut self,
        id: impl Into<CompactString>,
        identity_provider: impl Into<CompactString>,
    ) -> Self {
        self.trigger = Some(Trigger::User {
            id: id.into(),
            identity_provider: identity_provider.into(),
        });
        self
    }

    /// Sets a user trigger from a token: user id = subject, identity provider = issuer.
    ///
    /// ```
    /// use audit_builder::{AuditCommandBuilder, AuditTrigger, JwtClaims};
    /// use chrono::Utc;
    /// let claims = JwtClaims { sub: "u1".into(), iss: "https://idp.example".into() };
    /// let command = AuditCommandBuilder::new("svc", "SYS", Utc::now())
    ///     .user_from_token(&claims)
    ///     .build()?;
    /// assert!(matches!(command.payload.trigger,
    ///     AuditTrigger::AuditUser(u) if u.id == "u1" && u.identity_provider == "https://idp.example"));
    /// # Ok::<(), audit_builder::Error>(())
    /// ```
    #[must_use]
    pub fn user_from_token(self, token: &impl TokenSubject) -> Self {
        self.user(token.subject(), token.issuer())
    }

    /// Sets a system-component trigger (replacing any trigger set before).
    ///
    /// ```
    /// use audit_builder::{AuditCommandBuilder, AuditTrigger};
    /// use chrono::Utc;
    /// let command = AuditCommandBuilder::new("svc", "SYS", Utc::now())
    ///     .system_component("IT", "BILLING", "nightly-job")
    ///     .build()?;
    /// assert!(matches!(command.payload.trigger,
    ///     AuditTrigger::AuditSystemComponent(c) if c.component == "nightly-job"));
    /// # Ok::<(), audit_builder::Error>(())
    /// ```
    #[must_use]
    pub fn system_component(
        mut self,
        department: impl Into<CompactString>,
        system: impl Into<CompactString>,
        component: impl Into<CompactString>,
    ) -> Self {
        self.trigger = Some(Trigger::System {
            department: department.into(),
            system: system.into(),
            component: component.into(),
        });
        self
    }

    /// Sets a system-component trigger derived from a consumed message: the given department plus
    /// the message's publisher system and service (as component), and the idempotence id
    /// `audit-{idempotence id of the consumed message}`, like jEAP's
    /// `createWithSystemTriggerFromMessage`. An id set with [`idempotence_id`](Self::idempotence_id)
    /// (before or after) wins over the derived one. Setting another trigger afterwards keeps the
    /// derived id, as in jEAP, where the factory sets it explicitly.
    ///
    /// ```
    /// use audit_builder::AuditCommandBuilder;
    /// use chrono::Utc;
    /// let consumed = AuditCommandBuilder::new("upstream-service", "UPSTREAM", Utc::now())
    ///     .user("u1", "idp")
    ///     .idempotence_id("msg-17")
    ///     .build()?;
    /// let command = AuditCommandBuilder::new("svc", "SYS", Utc::now())
    ///     .system_component_from_message("IT", &consumed)
    ///     .build()?;
    /// assert_eq!(command.identity.idempotence_id, "audit-msg-17");
    /// # Ok::<(), audit_builder::Error>(())
    /// ```
    #[must_use]
    pub fn system_component_from_message(
        mut self,
        department: impl Into<CompactString>,
        message: &impl JeapMessage,
    ) -> Self {
        self.trigger = Some(Trigger::System {
            department: department.into(),
            system: message.publisher_system().into(),
            component: message.publisher_service().into(),
        });
        if !matches!(self.idempotence_id, Some(IdempotenceId::Explicit(_))) {
            self.idempotence_id = Some(IdempotenceId::FromMessage(message.idempotence_id().into()));
        }
        self
    }

    /// Sets the audited object, with its object data (replacing any object set before).
    ///
    /// ```
    /// use audit_builder::{AuditCommandBuilder, AuditedObject};
    /// use chrono::Utc;
    /// let command = AuditCommandBuilder::new("svc", "SYS", Utc::now())
    ///     .user("u1", "idp")
    ///     .audited_object(AuditedObject::new("Person", "42").version("3").value("name", "Alice"))
    ///     .build()?;
    /// assert_eq!(command.payload.audited_data.map(|o| o.id).as_deref(), Some("42"));
    /// # Ok::<(), audit_builder::Error>(())
    /// ```
    #[must_use]
    pub fn audited_object(mut self, object: AuditedObject) -> Self {
        self.audited_object = Some(object);
        self
    }

    /// Overrides the idempotence id (must not be blank). It is never regenerated: later trigger
    /// changes and [`system_component_from_message`](Self::system_component_from_message) keep it.
    ///
    /// A blank id is not taken and fails the builder, as jEAP's `idempotenceId` throws at that
    /// call: [`build`](Self::build) returns [`Error::Blank`] for
    /// [`Field::IdempotenceId`](crate::Field::IdempotenceId) before any other error, even if a
    /// valid id is set afterwards.
    ///
    /// ```
    /// use audit_builder::AuditCommandBuilder;
    /// use chrono::Utc;
    /// let command = AuditCommandBuilder::new("svc", "SYS", Utc::now())
    ///     .user("u1", "idp")
    ///     .idempotence_id("my-key-1")
    ///     .build()?;
    /// assert_eq!(command.identity.idempotence_id, "my-key-1");
    /// # Ok::<(), audit_builder::Error>(())
    /// ```
    #[must_use]
    pub fn idempotence_id(mut self, idempotence_id: impl Into<CompactString>) -> Self {
        let idempotence_id = idempotence_id.into();
        if is_blank(&idempotence_id) {
            self.note_failure(CallFailure::BlankIdempotenceId);
        } else {
            self.idempotence_id = Some(IdempotenceId::Explicit(idempotence_id));
        }
        self
    }

    /// Sets `type.variant` (normally absent).
    ///
    /// ```
    /// use audit_builder::AuditCommandBuilder;
    /// use chrono::Utc;
    /// let command = AuditCommandBuilder::new("svc", "SYS", Utc::now())
    ///     .user("u1", "idp")
    ///     .variant("replay")
    ///     .build()?;
    /// assert_eq!(command.r#type.variant.as_deref(), Some("replay"));
    /// # Ok::<(), audit_builder::Error>(())
    /// ```
    #[must_use]
    pub fn variant(mut self, variant: impl Into<CompactString>) -> Self {
        self.variant = Some(variant.into());
        self
    }

    /// Replaces the clock that stamps `identity.created` (default: the system clock).
    ///
    /// ```
    /// use audit_builder::AuditCommandBuilder;
    /// use chrono::{DateTime, Utc};
    /// let command = AuditCommandBuilder::new("svc", "SYS", Utc::now())
    ///     .clock(|| DateTime::<Utc>::UNIX_EPOCH)
    ///     .user("u1", "idp")
    ///     .build()?;
    /// assert_eq!(command.identity.created, DateTime::<Utc>::UNIX_EPOCH);
    /// # Ok::<(), audit_builder::Error>(())
    /// ```
    #[must_use]
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = ClockRef::Custom(Arc::new(clock));
        self
    }

    /// Applies `sanitizer` to every command this builder builds (see the `audit_sanitize`
    /// crate): sensitive event data and object data are masked, dropped or pseudonymized before
    /// [`build`](Self::build) returns; [`build_with_report`](Self::build_with_report) also says
    /// what changed. The envelope and an explicit or message-derived idempotence id are never
    /// touched. When the sanitizer pseudonymizes the user id, the default idempotence id is
    /// derived from the pseudonym (the user id as it goes on the wire), so the clear user id never
    /// travels and the id stays stable.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use audit_builder::AuditCommandBuilder;
    /// use audit_sanitize::{MASK, Sanitizer};
    /// use chrono::Utc;
    /// let command = AuditCommandBuilder::new("svc", "SYS", Utc::now())
    ///     .sanitizer(Arc::new(Sanitizer::with_defaults()))
    ///     .event_data("password", "hunter2")
    ///     .user("u1", "idp")
    ///     .build()?;
    /// assert_eq!(command.payload.event.event_data.unwrap()[0].value, MASK);
    /// # Ok::<(), audit_builder::Error>(())
    /// ```
    #[must_use]
    pub fn sanitizer(mut self, sanitizer: Arc<Sanitizer>) -> Self {
        self.sanitizer = Some(sanitizer);
        self
    }

    pub(crate) fn with_sanitizer_ref(mut self, sanitizer: Option<Arc<Sanitizer>>) -> Self {
        self.sanitizer = sanitizer;
        self
    }

    pub(crate) fn with_clock_ref(mut self, clock: ClockRef) -> Self {
        self.clock = clock;
        self
    }

    /// Checks every rule and builds the command: fresh UUID v4 message id, `created` from the
    /// clock, type `CreateAuditRecordCommand` in the generated schema version, publisher, empty
    /// references, `commandVersion` `1.3.0`, process id and idempotence id. Timestamps are
    /// truncated to milliseconds (what the wire carries).
    ///
    /// # Errors
    /// First the first call jEAP throws from, in call order: [`Error::ProcessIdMismatch`] for a
    /// process-id conflict, [`Error::Blank`] for a blank [`idempotence_id`](Self::idempotence_id).
    /// Then [`Error::Blank`] naming the first blank required string, [`Error::MissingTrigger`].
    ///
    /// ```
    /// use audit_builder::{AuditCommandBuilder, Error};
    /// use chrono::Utc;
    /// let builder = AuditCommandBuilder::new("svc", "SYS", Utc::now());
    /// assert!(matches!(builder.build(), Err(Error::MissingTrigger)));
    /// let first = builder.clone().user("u1", "idp").build()?;
    /// let second = builder.user("u1", "idp").build()?;
    /// assert_ne!(first.identity.id, second.identity.id);
    /// # Ok::<(), audit_builder::Error>(())
    /// ```
    pub fn build(&self) -> Result<CreateAuditRecordCommand, Error> {
        self.build_with_report().map(|(command, _)| command)
    }

    /// [`build`](Self::build), and what the [`sanitizer`](Self::sanitizer) changed (counts per
    /// rule, never values; empty without a sanitizer).
    ///
    /// # Errors
    /// As [`build`](Self::build).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use audit_builder::AuditCommandBuilder;
    /// use audit_sanitize::Sanitizer;
    /// use chrono::Utc;
    /// let (_, report) = AuditCommandBuilder::new("svc", "SYS", Utc::now())
    ///     .sanitizer(Arc::new(Sanitizer::with_defaults()))
    ///     .event_data("contact", "alice@example.org")
    ///     .user("u1", "idp")
    ///     .build_with_report()?;
    /// assert_eq!(report.count("default-email"), 1);
    /// # Ok::<(), audit_builder::Error>(())
    /// ```
    pub fn build_with_report(&self) -> Result<(CreateAuditRecordCommand, SanitizeReport), Error> {
        let mut command = self.build_unsanitized()?;
        let report = match &self.sanitizer {
            Some(sanitizer) => sanitizer.sanitize(&mut command),
            None => SanitizeReport::default(),
        };
        Ok((command, report))
    }

    fn build_unsanitized(&self) -> Result<CreateAuditRecordCommand, Error> {
        match &self.failure {
            None => {}
            Some(CallFailure::ProcessIdConflict { builder, context }) => {
                return Err(Error::ProcessIdMismatch {
                    builder: builder.to_string(),
                    context: context.to_string(),
                });
            }
            Some(CallFailure::BlankIdempotenceId) => {
                return Err(Error::Blank {
                    field: Field::IdempotenceId,
                });
            }
        }
        require(&self.service, Field::ServiceName)?;
        require(&self.system, Field::SystemName)?;
        let trigger = self.trigger.as_ref().ok_or(Error::MissingTrigger)?;
        let (wire_trigger, trigger_key) = match trigger {
            Trigger::User {
                id,
                identity_provider,
            } => {
                require(id, Field::UserId)?;
                require(identity_provider, Field::IdentityProvider)?;
                let user = AuditUser {
                    id: id.clone(),
                    identity_provider: identity_provider.clone(),
                };
                (AuditTrigger::AuditUser(user), id.as_str())
            }
            Trigger::System {
                department,
                system,
                component,
            } => {
                require(department, Field::Department)?;
                require(system, Field::ComponentSystem)?;
                require(component, Field::Component)?;
                let component_value = AuditSystemComponent {
                    department: department.clone(),
                    system: system.clone(),
                    component: component.clone(),
                };
                (
                    AuditTrigger::AuditSystemComponent(component_value),
                    component.as_str(),
                )
            }
        };
        let context = match &self.context {
            None => None,
            Some(context) => {
                require(&context.use_case, Field::UseCase)?;
                Some(AuditContext {
                    use_case: context.use_case.clone(),
                    process_id: context.process_id.clone(),
                })
            }
        };
        for (index, (key, _)) in self.event_data.iter().enumerate() {
            require(key, Field::EventDataKey { index })?;
        }
        if let Some(object) = &self.audited_object {
            object.validate()?;
        }
        let idempotence_id = match &self.idempotence_id {
            Some(IdempotenceId::Explicit(explicit)) => explicit.clone(),
            Some(IdempotenceId::FromMessage(consumed)) => {
                require(consumed, Field::ConsumedIdempotenceId)?;
                audit_schema::format_compact!("audit-{consumed}")
            }
            None => {
                // with a sanitizer that pseudonymizes the user id: the id as it goes on the wire
                let pseudonym = match trigger {
                    Trigger::User { id, .. } => self
                        .sanitizer
                        .as_ref()
                        .and_then(|sanitizer| sanitizer.user_id_pseudonym(id)),
                    Trigger::System { .. } => None,
                };
                self.default_idempotence_id(pseudonym.as_deref().unwrap_or(trigger_key))
                    .into()
            }
        };
        let event_data = if self.event_data.is_empty() {
            None
        } else {
            Some(
                self.event_data
                    .iter()
                    .map(|(key, value)| AuditEventDataElement {
                        key: key.clone(),
                        value: value.clone(),
                    })
                    .collect(),
            )
        };
        Ok(CreateAuditRecordCommand {
            identity: AvroMessageIdentity {
                id: CompactString::from(
                    &*uuid::Uuid::new_v4()
                        .hyphenated()
                        .encode_lower(&mut uuid::Uuid::encode_buffer()),
                ),
                idempotence_id,
                created: self.clock.now().trunc_subsecs(3),
            },
            r#type: AvroMessageType {
                name: TYPE_NAME.into(),
                version: audit_schema::SCHEMA_VERSION.into(),
                variant: self.variant.clone(),
            },
            publisher: AvroMessagePublisher {
                system: self.system.clone(),
                service: self.service.clone(),
            },
            references: CreateAuditRecordCommandReferences {},
            payload: CreateAuditRecordCommandPayload {
                timestamp: self.timestamp.trunc_subsecs(3),
                event: AuditEventDetails {
                    r#type: self.event_type,
                    context,
                    event_data,
                },
                trigger: wire_trigger,
                audited_data: self.audited_object.as_ref().map(AuditedObject::to_wire),
            },
            process_id: self.process_id.clone(),
            command_version: COMMAND_VERSION.into(),
        })
    }

    /// `{system}-{service}-{EVENT_TYPE}-{trigger}-{timestamp as Java's Instant.toString()}`.
    fn default_idempotence_id(&self, trigger_key: &str) -> String {
        let event = self.event_type.as_str();
        let mut id = String::with_capacity(
            self.system.len() + self.service.len() + event.len() + trigger_key.len() + 36,
        );
        id.push_str(&self.system);
        id.push('-');
        id.push_str(&self.service);
        id.push('-');
        id.push_str(event);
        id.push('-');
        id.push_str(trigger_key);
        id.push('-');
        write_java_instant(&self.timestamp, &mut id);
        id
    }
}
