//! Tip ids: UUIDv7, generated on the client so a tip has its id before any server sees it.
//!
//! UUIDv7 puts the creation time in the first 48 bits, so ids sort by creation time both
//! as bytes and as their lowercase hex strings; the rest is random, so two devices never
//! need to coordinate.

use std::fmt;
use std::str::FromStr;

/// A tip's identity: a UUIDv7 in its canonical lowercase hyphenated form.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TipId([u8; 16]);

/// Why a string is not a tip id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a UUID: expected 36 characters like 0190c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f")]
pub struct ParseIdError;

impl TipId {
    /// Builds a version 7 id from a Unix time in milliseconds and 10 random bytes.
    pub fn new_v7(unix_ms: u64, random: [u8; 10]) -> Self {
        let mut bytes = [0u8; 16];
        bytes[..6].copy_from_slice(&unix_ms.to_be_bytes()[2..]);
        bytes[6..].copy_from_slice(&random);
        bytes[6] = 0x70 | (bytes[6] & 0x0f); // version 7
        bytes[8] = 0x80 | (bytes[8] & 0x3f); // RFC 9562 variant
        TipId(bytes)
    }

    /// The creation time encoded in the id, in Unix milliseconds.
    pub fn unix_ms(&self) -> u64 {
        let mut ms = [0u8; 8];
        ms[2..].copy_from_slice(&self.0[..6]);
        u64::from_be_bytes(ms)
    }

    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl fmt::Display for TipId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, byte) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for TipId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TipId({self})")
    }
}

impl FromStr for TipId {
    type Err = ParseIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let raw = s.as_bytes();
        if raw.len() != 36 || [8, 13, 18, 23].iter().any(|&i| raw[i] != b'-') {
            return Err(ParseIdError);
        }
        let hex: Vec<u8> = raw.iter().copied().filter(|&b| b != b'-').collect();
        if hex.len() != 32 {
            return Err(ParseIdError);
        }
        let mut bytes = [0u8; 16];
        for (i, pair) in hex.chunks_exact(2).enumerate() {
            let hi = hex_value(pair[0]).ok_or(ParseIdError)?;
            let lo = hex_value(pair[1]).ok_or(ParseIdError)?;
            bytes[i] = hi << 4 | lo;
        }
        Ok(TipId(bytes))
    }
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

serde_as_string!(TipId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_as_version_7_and_round_trips() {
        let id = TipId::new_v7(0x0190_c3a2_7b1e, [0xff; 10]);
        let text = id.to_string();
        assert_eq!(text, "0190c3a2-7b1e-7fff-bfff-ffffffffffff");
        assert_eq!(text.parse::<TipId>(), Ok(id));
        assert_eq!(id.unix_ms(), 0x0190_c3a2_7b1e);
    }

    #[test]
    fn ids_sort_by_creation_time_as_strings() {
        let earlier = TipId::new_v7(1_700_000_000_000, [0xff; 10]).to_string();
        let later = TipId::new_v7(1_700_000_000_001, [0x00; 10]).to_string();
        assert!(earlier < later);
    }

    #[test]
    fn rejects_malformed_ids() {
        for bad in ["", "not-a-uuid", "0190c3a2-7b1e-7fff-bfff-fffffffffffg", "0190c3a27b1e7fffbfffffffffffffffffff"] {
            assert_eq!(bad.parse::<TipId>(), Err(ParseIdError), "{bad}");
        }
    }
}
