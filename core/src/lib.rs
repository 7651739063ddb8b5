//! Inflow's pure core: every rule that the extension and the server must agree on.
//!
//! Nothing here does I/O, reads a clock or draws random numbers: callers pass time and
//! randomness in, so the same code runs natively (server, tests) and as wasm (extension).

/// Implements serde for a type through its `Display` and `FromStr`, so it travels as the
/// same string everywhere (JSON, IndexedDB, SQL).
macro_rules! serde_as_string {
    ($type:ty) => {
        impl serde::Serialize for $type {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $type {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

pub mod anchor;
pub mod cmi5;
pub mod curation;
pub mod element;
pub mod export;
pub mod fields;
pub mod fuzzy;
pub mod id;
pub mod import;
pub mod index;
pub mod model;
pub mod redact;
pub mod screen;
pub mod search;
pub mod sharing;
pub mod sync;
pub mod text;
pub mod time;
pub mod url;
pub mod walkthrough;

pub use anchor::{anchor, anchor_all, describe, Anchor};
pub use id::TipId;
pub use model::{NewTip, Selector, Target, Tip, TipEdit, TipError, Visibility};
pub use text::PageText;
pub use time::Timestamp;
