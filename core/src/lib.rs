//! Inflow's pure core: every rule that the extension and the server must agree on.
//!
//! Nothing here does I/O, reads a clock or draws random numbers: callers pass time and
//! randomness in, so the same code runs natively (server, tests) and as wasm (extension).

pub mod anchor;
pub mod id;
pub mod model;
pub mod text;
pub mod time;
pub mod url;

pub use anchor::{anchor, describe, Anchor};
pub use id::TipId;
pub use model::{NewTip, Selector, Target, Tip, TipError, Visibility};
pub use text::PageText;
pub use time::Timestamp;
