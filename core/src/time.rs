//! Timestamps: Unix milliseconds inside, RFC 3339 UTC strings in JSON (as the W3C model
//! writes `created` and `modified`). Callers read the clock; core only converts.

use std::fmt;

/// A point in time, in milliseconds since the Unix epoch, UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

/// Why a string is not an RFC 3339 UTC timestamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a UTC timestamp: expected the form 2026-11-23T09:51:00.000Z")]
pub struct ParseTimeError;

impl Timestamp {
    /// The earliest time a tip may carry: the Unix epoch.
    pub const MIN: Timestamp = Timestamp(0);
    /// The latest: 9999-12-31T23:59:59.999Z. Past it, RFC 3339's four-digit year cannot
    /// write the time, and a stored tip carrying it could not be read back.
    pub const MAX: Timestamp = Timestamp(253_402_300_799_999);

    pub fn unix_ms(self) -> i64 {
        self.0
    }

    /// The UTC day, `2026-11-23`: how exports, approvals and date fields write a date.
    pub fn day(self) -> String {
        self.to_string().chars().take(10).collect()
    }

    /// Whether the time can be written and read back as RFC 3339 (years 1970 to 9999).
    pub fn in_range(self) -> bool {
        (Self::MIN..=Self::MAX).contains(&self)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.0.div_euclid(86_400_000);
        let ms_of_day = self.0.rem_euclid(86_400_000);
        let (year, month, day) = civil_from_days(days);
        let (hour, minute) = (ms_of_day / 3_600_000, ms_of_day / 60_000 % 60);
        let (second, milli) = (ms_of_day / 1000 % 60, ms_of_day % 1000);
        write!(f, "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{milli:03}Z")
    }
}

impl std::str::FromStr for Timestamp {
    type Err = ParseTimeError;

    /// Accepts `YYYY-MM-DDTHH:MM:SS[.fff]Z` (UTC only; offsets are not accepted so that
    /// every stored timestamp has one spelling).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let b = s.as_bytes();
        if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
            return Err(ParseTimeError);
        }
        let num = |range: std::ops::Range<usize>| -> Result<i64, ParseTimeError> {
            let digits = s.get(range).ok_or(ParseTimeError)?;
            if !digits.bytes().all(|c| c.is_ascii_digit()) {
                return Err(ParseTimeError);
            }
            digits.parse().map_err(|_| ParseTimeError)
        };
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
        let rest = &s[19..];
        let millis = match rest {
            "Z" => 0,
            _ if rest.starts_with('.') && rest.ends_with('Z') && rest.len() >= 3 => {
                let fraction = &rest[1..rest.len() - 1];
                if !fraction.bytes().all(|c| c.is_ascii_digit()) {
                    return Err(ParseTimeError);
                }
                // Keep milliseconds; finer digits are dropped, not rounded.
                let padded = format!("{fraction:0<3}");
                padded[..3].parse::<i64>().map_err(|_| ParseTimeError)?
            }
            _ => return Err(ParseTimeError),
        };
        if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
            return Err(ParseTimeError);
        }
        let days = days_from_civil(year, month, day);
        if civil_from_days(days) != (year, month, day) {
            return Err(ParseTimeError); // 31 February and friends
        }
        Ok(Timestamp(days * 86_400_000 + hour * 3_600_000 + minute * 60_000 + second.min(59) * 1000 + millis))
    }
}

/// Days since 1970-01-01 from a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (if month <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, month, day)
}

serde_as_string!(Timestamp);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(Timestamp(0).to_string(), "1970-01-01T00:00:00.000Z");
        assert_eq!(Timestamp(1_795_427_460_123).to_string(), "2026-11-23T09:51:00.123Z");
        assert_eq!(Timestamp(951_782_400_000).to_string(), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn parses_with_and_without_fraction() {
        assert_eq!("2026-11-23T09:51:00Z".parse(), Ok(Timestamp(1_795_427_460_000)));
        assert_eq!("2026-11-23T09:51:00.1Z".parse(), Ok(Timestamp(1_795_427_460_100)));
        assert_eq!("2026-11-23T09:51:00.123456Z".parse(), Ok(Timestamp(1_795_427_460_123)));
    }

    #[test]
    fn rejects_offsets_and_impossible_dates() {
        for bad in [
            "2026-11-23T09:51:00+01:00",
            "2026-02-30T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "yesterday",
            "2026-11-23 09:51:00Z",
        ] {
            assert_eq!(bad.parse::<Timestamp>(), Err(ParseTimeError), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn display_then_parse_is_identity(ms in -62_135_596_800_000i64..253_402_300_799_999) {
            let t = Timestamp(ms);
            prop_assert_eq!(t.to_string().parse::<Timestamp>(), Ok(t));
        }
    }
}
