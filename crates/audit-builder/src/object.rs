//! The audited object and its object-data entries.
//!
//! Object data lives inside an [`AuditedObject`] value that is handed to the builder whole, so
//! entries can never be added without an object (the Java builder silently drops them).

use audit_schema::{
    AuditObject, AuditObjectData, AuditObjectDataJSON, AuditObjectDataRole, AuditObjectDataS3,
    AuditObjectDataValue, CompactString,
};

use crate::error::{Error, Field, require};

/// The object an audit event is about: type, id, optional version and ordered object data.
///
/// ```
/// use audit_builder::{AuditedObject, ObjectData, AuditObjectDataRole};
///
/// let person = AuditedObject::new("Person", "42")
///     .version("7")
///     .value("name", "Alice")
///     .data(ObjectData::value("email", "alice@example.org").role(AuditObjectDataRole::New))
///     .data(ObjectData::value("email", "a@example.org").role(AuditObjectDataRole::Old));
/// assert_eq!(person.object_data().len(), 3);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditedObject {
    object_type: CompactString,
    id: CompactString,
    version: Option<CompactString>,
    data: Vec<ObjectData>,
}

impl AuditedObject {
    /// An object of `object_type` with `id`, no version and no object data.
    ///
    /// Both must not be blank (checked by [`build`](crate::AuditCommandBuilder::build)).
    ///
    /// ```
    /// let object = audit_builder::AuditedObject::new("Invoice", "INV-1");
    /// assert_eq!(object.object_type(), "Invoice");
    /// assert_eq!(object.id(), "INV-1");
    /// ```
    #[must_use]
    pub fn new(object_type: impl Into<CompactString>, id: impl Into<CompactString>) -> Self {
        Self {
            object_type: object_type.into(),
            id: id.into(),
            version: None,
            data: Vec::new(),
        }
    }

    /// Sets the object's version.
    ///
    /// ```
    /// let object = audit_builder::AuditedObject::new("Invoice", "INV-1").version("3");
    /// assert_eq!(object.object_version(), Some("3"));
    /// ```
    #[must_use]
    pub fn version(mut self, version: impl Into<CompactString>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// Appends an object-data entry (use this one for entries with a role).
    ///
    /// ```
    /// use audit_builder::{AuditedObject, ObjectData, AuditObjectDataRole};
    /// let object = AuditedObject::new("Invoice", "INV-1")
    ///     .data(ObjectData::s3("scan", "s3://bucket/inv-1.pdf").role(AuditObjectDataRole::New));
    /// assert_eq!(object.object_data()[0].name(), "scan");
    /// ```
    #[must_use]
    pub fn data(mut self, entry: ObjectData) -> Self {
        self.data.push(entry);
        self
    }

    /// Appends a value entry without role (shortcut for [`ObjectData::value`]).
    ///
    /// ```
    /// let object = audit_builder::AuditedObject::new("Person", "42").value("name", "Alice");
    /// assert_eq!(object.object_data().len(), 1);
    /// ```
    #[must_use]
    pub fn value(self, name: impl Into<CompactString>, value: impl Into<CompactString>) -> Self {
        self.data(ObjectData::value(name, value))
    }

    /// Appends a value entry whose value is absent (`null` on the wire), without role.
    ///
    /// ```
    /// let object = audit_builder::AuditedObject::new("Person", "42").null_value("middleName");
    /// assert_eq!(object.object_data().len(), 1);
    /// ```
    #[must_use]
    pub fn null_value(self, name: impl Into<CompactString>) -> Self {
        self.data(ObjectData::null_value(name))
    }

    /// Appends a JSON entry rendered from a `serde_json` value (compact UTF-8), without role.
    ///
    /// ```
    /// let object = audit_builder::AuditedObject::new("Person", "42")
    ///     .json("address", &serde_json::json!({"city": "Bern"}));
    /// assert_eq!(object.object_data().len(), 1);
    /// ```
    #[must_use]
    pub fn json(self, name: impl Into<CompactString>, value: &serde_json::Value) -> Self {
        self.data(ObjectData::json(name, value))
    }

    /// Appends a JSON entry from UTF-8 JSON bytes (taken as they are), without role.
    ///
    /// ```
    /// let object = audit_builder::AuditedObject::new("Person", "42")
    ///     .json_bytes("address", br#"{"city":"Bern"}"#.to_vec());
    /// assert_eq!(object.object_data().len(), 1);
    /// ```
    #[must_use]
    pub fn json_bytes(self, name: impl Into<CompactString>, json_utf8: impl Into<Vec<u8>>) -> Self {
        self.data(ObjectData::json_bytes(name, json_utf8))
    }

    /// Appends an S3 object-reference entry, without role.
    ///
    /// ```
    /// let object = audit_builder::AuditedObject::new("Person", "42")
    ///     .s3("photo", "s3://bucket/people/42.jpg");
    /// assert_eq!(object.object_data().len(), 1);
    /// ```
    #[must_use]
    pub fn s3(
        self,
        name: impl Into<CompactString>,
        object_reference: impl Into<CompactString>,
    ) -> Self {
        self.data(ObjectData::s3(name, object_reference))
    }

    /// The object's type.
    #[must_use]
    pub fn object_type(&self) -> &str {
        &self.object_type
    }

    /// The object's id.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The object's version, if set.
    #[must_use]
    pub fn object_version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// The object-data entries in the order added.
    #[must_use]
    pub fn object_data(&self) -> &[ObjectData] {
        &self.data
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        require(&self.object_type, Field::ObjectType)?;
        require(&self.id, Field::ObjectId)?;
        for (index, entry) in self.data.iter().enumerate() {
            require(&entry.name, Field::ObjectDataName { index })?;
        }
        Ok(())
    }

    pub(crate) fn to_wire(&self) -> AuditObject {
        AuditObject {
            r#type: self.object_type.clone(),
            id: self.id.clone(),
            version: self.version.clone(),
            object_data: if self.data.is_empty() {
                None
            } else {
                Some(self.data.iter().map(ObjectData::to_wire).collect())
            },
        }
    }
}

/// What an object-data entry carries.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Value(Option<CompactString>),
    Json(Vec<u8>),
    S3(CompactString),
}

/// One object-data entry: a name, an optional role (`NEW` / `OLD`) and a value, a JSON document
/// or an S3 object reference.
///
/// ```
/// use audit_builder::{ObjectData, AuditObjectDataRole};
/// let entry = ObjectData::value("status", "PAID").role(AuditObjectDataRole::New);
/// assert_eq!(entry.name(), "status");
/// assert_eq!(entry.data_role(), Some(AuditObjectDataRole::New));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectData {
    role: Option<AuditObjectDataRole>,
    name: CompactString,
    kind: Kind,
}

impl ObjectData {
    fn new(name: impl Into<CompactString>, kind: Kind) -> Self {
        Self {
            role: None,
            name: name.into(),
            kind,
        }
    }

    /// A value entry.
    ///
    /// ```
    /// let entry = audit_builder::ObjectData::value("status", "PAID");
    /// assert_eq!(entry.name(), "status");
    /// ```
    #[must_use]
    pub fn value(name: impl Into<CompactString>, value: impl Into<CompactString>) -> Self {
        Self::new(name, Kind::Value(Some(value.into())))
    }

    /// A value entry whose value may be absent (`None` is `null` on the wire).
    ///
    /// ```
    /// let entry = audit_builder::ObjectData::optional_value("nickname", None);
    /// assert_eq!(entry.name(), "nickname");
    /// ```
    #[must_use]
    pub fn optional_value(name: impl Into<CompactString>, value: Option<CompactString>) -> Self {
        Self::new(name, Kind::Value(value))
    }

    /// A value entry without value (`null` on the wire).
    ///
    /// ```
    /// let entry = audit_builder::ObjectData::null_value("nickname");
    /// assert_eq!(entry, audit_builder::ObjectData::optional_value("nickname", None));
    /// ```
    #[must_use]
    pub fn null_value(name: impl Into<CompactString>) -> Self {
        Self::new(name, Kind::Value(None))
    }

    /// A JSON entry rendered from a `serde_json` value (compact UTF-8 JSON).
    ///
    /// ```
    /// let entry = audit_builder::ObjectData::json("address", &serde_json::json!({"city": "Bern"}));
    /// assert_eq!(entry, audit_builder::ObjectData::json_bytes("address", br#"{"city":"Bern"}"#.to_vec()));
    /// ```
    #[must_use]
    pub fn json(name: impl Into<CompactString>, value: &serde_json::Value) -> Self {
        Self::new(name, Kind::Json(value.to_string().into_bytes()))
    }

    /// A JSON entry from UTF-8 JSON bytes, carried unchanged.
    ///
    /// ```
    /// let entry = audit_builder::ObjectData::json_bytes("address", br#"{"city":"Bern"}"#.to_vec());
    /// assert_eq!(entry.name(), "address");
    /// ```
    #[must_use]
    pub fn json_bytes(name: impl Into<CompactString>, json_utf8: impl Into<Vec<u8>>) -> Self {
        Self::new(name, Kind::Json(json_utf8.into()))
    }

    /// An S3 object-reference entry.
    ///
    /// ```
    /// let entry = audit_builder::ObjectData::s3("scan", "s3://bucket/key");
    /// assert_eq!(entry.name(), "scan");
    /// ```
    #[must_use]
    pub fn s3(name: impl Into<CompactString>, object_reference: impl Into<CompactString>) -> Self {
        Self::new(name, Kind::S3(object_reference.into()))
    }

    /// Sets the entry's role (`NEW` or `OLD`).
    ///
    /// ```
    /// use audit_builder::{ObjectData, AuditObjectDataRole};
    /// let entry = ObjectData::value("status", "OPEN").role(AuditObjectDataRole::Old);
    /// assert_eq!(entry.data_role(), Some(AuditObjectDataRole::Old));
    /// ```
    #[must_use]
    pub fn role(mut self, role: AuditObjectDataRole) -> Self {
        self.role = Some(role);
        self
    }

    /// The entry's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The entry's role, if set.
    #[must_use]
    pub fn data_role(&self) -> Option<AuditObjectDataRole> {
        self.role
    }

    fn to_wire(&self) -> AuditObjectData {
        let role = self.role;
        let name = self.name.clone();
        match &self.kind {
            Kind::Value(value) => AuditObjectData::AuditObjectDataValue(AuditObjectDataValue {
                role,
                name,
                value: value.clone(),
            }),
            Kind::Json(bytes) => AuditObjectData::AuditObjectDataJSON(AuditObjectDataJSON {
                role,
                name,
                json_as_utf8: bytes.clone(),
            }),
            Kind::S3(reference) => AuditObjectData::AuditObjectDataS3(AuditObjectDataS3 {
                role,
                name,
                object_reference: reference.clone(),
            }),
        }
    }
}
