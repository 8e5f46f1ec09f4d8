//! [`AuditCommandFactory`]: holds the service's identity so call sites only pass the timestamp.

use std::sync::Arc;

use audit_sanitize::Sanitizer;
use audit_schema::CompactString;
use chrono::{DateTime, Utc};

use crate::builder::AuditCommandBuilder;
use crate::clock::{Clock, ClockRef};
use crate::error::{Error, Field, require};
use crate::trigger::JeapMessage;

/// Environment variable holding the system name read by [`AuditCommandFactory::from_env`].
pub const SYSTEM_NAME_ENV: &str = "AUDIT_SYSTEM_NAME";
/// Environment variable holding the service name read by [`AuditCommandFactory::from_env`].
pub const SERVICE_NAME_ENV: &str = "AUDIT_SERVICE_NAME";

/// The publisher identity of the auditing service, e.g. a section of the service's configuration
/// (`{"serviceName": "...", "systemName": "..."}`).
///
/// ```
/// let config: audit_builder::PublisherConfig =
///     serde_json::from_str(r#"{"serviceName":"invoice-service","systemName":"BILLING"}"#).unwrap();
/// let factory = audit_builder::AuditCommandFactory::from_config(&config)?;
/// assert_eq!(factory.system_name(), "BILLING");
/// # Ok::<(), audit_builder::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublisherConfig {
    /// The service name (`publisher.service`).
    pub service_name: String,
    /// The system name (`publisher.system`).
    pub system_name: String,
}

/// Creates builders for one service: holds its service and system names (and an optional clock).
///
/// ```
/// use audit_builder::{AuditCommandFactory, AuditEventType};
/// use chrono::Utc;
///
/// let audit = AuditCommandFactory::new("invoice-service", "BILLING")?;
/// let command = audit.builder(Utc::now()).event_type(AuditEventType::Read).user("u1", "idp").build()?;
/// assert_eq!(command.publisher.service, "invoice-service");
/// # Ok::<(), audit_builder::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct AuditCommandFactory {
    service: String,
    system: String,
    clock: ClockRef,
    sanitizer: Option<Arc<Sanitizer>>,
}

impl AuditCommandFactory {
    /// A factory for the service `service` of the system `system` (same order as
    /// [`AuditCommandBuilder::new`]).
    ///
    /// # Errors
    /// [`Error::Blank`] if either name is blank.
    ///
    /// ```
    /// use audit_builder::{AuditCommandFactory, Error, Field};
    /// assert!(matches!(AuditCommandFactory::new(" ", "SYS"),
    ///     Err(Error::Blank { field: Field::ServiceName })));
    /// ```
    pub fn new(service: impl Into<String>, system: impl Into<String>) -> Result<Self, Error> {
        let (service, system) = (service.into(), system.into());
        require(&service, Field::ServiceName)?;
        require(&system, Field::SystemName)?;
        Ok(Self {
            service,
            system,
            clock: ClockRef::System,
            sanitizer: None,
        })
    }

    /// A factory from a configuration section.
    ///
    /// # Errors
    /// [`Error::Blank`] if either name is blank.
    ///
    /// ```
    /// use audit_builder::{AuditCommandFactory, PublisherConfig};
    /// let config = PublisherConfig { service_name: "svc".into(), system_name: "SYS".into() };
    /// assert_eq!(AuditCommandFactory::from_config(&config)?.service_name(), "svc");
    /// # Ok::<(), audit_builder::Error>(())
    /// ```
    pub fn from_config(config: &PublisherConfig) -> Result<Self, Error> {
        Self::new(config.service_name.clone(), config.system_name.clone())
    }

    /// A factory from the environment variables `AUDIT_SERVICE_NAME` and `AUDIT_SYSTEM_NAME`.
    ///
    /// # Errors
    /// [`Error::Environment`] if a variable is missing or not Unicode, [`Error::Blank`] if blank.
    ///
    /// ```
    /// use audit_builder::AuditCommandFactory;
    /// match AuditCommandFactory::from_env() {
    ///     Ok(factory) => println!("auditing as {}", factory.service_name()),
    ///     Err(error) => println!("audit not configured: {error}"),
    /// }
    /// ```
    pub fn from_env() -> Result<Self, Error> {
        let read = |name: &'static str| {
            std::env::var(name).map_err(|source| Error::Environment { name, source })
        };
        Self::new(read(SERVICE_NAME_ENV)?, read(SYSTEM_NAME_ENV)?)
    }

    /// Uses `clock` for `identity.created` of every builder made from now on.
    ///
    /// ```
    /// use audit_builder::AuditCommandFactory;
    /// use chrono::{DateTime, Utc};
    /// let audit = AuditCommandFactory::new("svc", "SYS")?.with_clock(|| DateTime::<Utc>::UNIX_EPOCH);
    /// let command = audit.builder(Utc::now()).user("u1", "idp").build()?;
    /// assert_eq!(command.identity.created, DateTime::<Utc>::UNIX_EPOCH);
    /// # Ok::<(), audit_builder::Error>(())
    /// ```
    #[must_use]
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = ClockRef::Custom(Arc::new(clock));
        self
    }

    /// Applies `sanitizer` to every command of the builders made from now on (see
    /// [`AuditCommandBuilder::sanitizer`]).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use audit_builder::AuditCommandFactory;
    /// use audit_sanitize::{MASK, Sanitizer};
    /// use chrono::Utc;
    /// let audit = AuditCommandFactory::new("svc", "SYS")?.with_sanitizer(Arc::new(Sanitizer::with_defaults()));
    /// let command = audit.builder(Utc::now()).event_data("apiKey", "k-1").user("u1", "idp").build()?;
    /// assert_eq!(command.payload.event.event_data.unwrap()[0].value, MASK);
    /// # Ok::<(), audit_builder::Error>(())
    /// ```
    #[must_use]
    pub fn with_sanitizer(mut self, sanitizer: Arc<Sanitizer>) -> Self {
        self.sanitizer = Some(sanitizer);
        self
    }

    /// A builder for an action that happened at `timestamp`.
    ///
    /// ```
    /// use audit_builder::AuditCommandFactory;
    /// use chrono::Utc;
    /// let audit = AuditCommandFactory::new("svc", "SYS")?;
    /// assert!(audit.builder(Utc::now()).user("u1", "idp").build().is_ok());
    /// # Ok::<(), audit_builder::Error>(())
    /// ```
    #[must_use]
    pub fn builder(&self, timestamp: DateTime<Utc>) -> AuditCommandBuilder {
        AuditCommandBuilder::new(self.service.clone(), self.system.clone(), timestamp)
            .with_clock_ref(self.clock.clone())
            .with_sanitizer_ref(self.sanitizer.clone())
    }

    /// A builder for an action that happened at `timestamp` within the process `process_id`.
    ///
    /// ```
    /// use audit_builder::AuditCommandFactory;
    /// use chrono::Utc;
    /// let audit = AuditCommandFactory::new("svc", "SYS")?;
    /// let command = audit.builder_in_process(Utc::now(), "p-1").user("u1", "idp").build()?;
    /// assert_eq!(command.process_id.as_deref(), Some("p-1"));
    /// # Ok::<(), audit_builder::Error>(())
    /// ```
    #[must_use]
    pub fn builder_in_process(
        &self,
        timestamp: DateTime<Utc>,
        process_id: impl Into<CompactString>,
    ) -> AuditCommandBuilder {
        self.builder(timestamp).process_id(process_id)
    }

    /// A builder for an action triggered by a consumed jEAP message (jEAP's
    /// `createWithSystemTriggerFromMessage`): system-component trigger from the message's
    /// publisher with the department `department`, idempotence id `audit-{consumed id}`. The id
    /// stays when the trigger is replaced later; only [`AuditCommandBuilder::idempotence_id`]
    /// replaces it.
    ///
    /// ```
    /// use audit_builder::AuditCommandFactory;
    /// use chrono::Utc;
    /// let audit = AuditCommandFactory::new("svc", "SYS")?;
    /// let consumed = audit.builder(Utc::now()).user("u1", "idp").idempotence_id("msg-17").build()?;
    /// let command = audit.builder_from_message(Utc::now(), "IT", &consumed).user("u2", "idp").build()?;
    /// assert_eq!(command.identity.idempotence_id, "audit-msg-17");
    /// # Ok::<(), audit_builder::Error>(())
    /// ```
    #[must_use]
    pub fn builder_from_message(
        &self,
        timestamp: DateTime<Utc>,
        department: impl Into<CompactString>,
        message: &impl JeapMessage,
    ) -> AuditCommandBuilder {
        self.builder(timestamp)
            .system_component_from_message(department, message)
    }

    /// The service name.
    #[must_use]
    pub fn service_name(&self) -> &str {
        &self.service
    }

    /// The system name.
    #[must_use]
    pub fn system_name(&self) -> &str {
        &self.system
    }
}
