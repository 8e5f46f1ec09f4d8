//! Generated Rust types and a byte-exact, fast Avro codec for jEAP's `CreateAuditRecordCommand`
//! (being written: the types are generated, the codec API follows).

#[allow(dead_code, unreachable_pub)]
mod rt {
    include!(concat!(env!("OUT_DIR"), "/runtime.rs"));
}

#[allow(dead_code, clippy::all)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/generated.rs"));
}

pub use generated::*;

pub mod canonical;

/// JSON rendering helpers.
pub mod json {
    /// serde `with`-module for `bytes` fields (lossless json / text / base64 rendering).
    pub mod bytes {
        use serde::{Deserialize, Deserializer, Serialize, Serializer};

        /// Serializes bytes.
        pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
            bytes.serialize(s)
        }

        /// Deserializes bytes.
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
            Vec::<u8>::deserialize(d)
        }
    }
}
