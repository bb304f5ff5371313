//! Wire timestamps: RFC 3339 in UTC with microsecond precision and a `Z` suffix.
//!
//! Microseconds match the reference server's precision and make a timestamp survive a
//! round trip through JSON unchanged, which keeps store ordering stable.

use jiff::Timestamp;
use jiff::fmt::temporal::DateTimePrinter;
use serde::{Deserialize, Deserializer, Serializer};

/// The current time truncated to whole microseconds, the precision used on the wire.
pub fn now() -> Timestamp {
    let now = Timestamp::now();
    Timestamp::from_microsecond(now.as_microsecond()).unwrap_or(now)
}

/// Formats a timestamp the way it appears on the wire, e.g. `2026-11-21T10:29:37.558740Z`.
pub fn format(timestamp: &Timestamp) -> String {
    DateTimePrinter::new()
        .precision(Some(6))
        .timestamp_to_string(timestamp)
}

/// Parses an RFC 3339 timestamp. A value without an offset (what the Python reference
/// emits) is read as UTC.
pub fn parse(text: &str) -> Result<Timestamp, jiff::Error> {
    match text.parse::<Timestamp>() {
        Ok(timestamp) => Ok(timestamp),
        Err(with_offset_error) => text
            .parse::<jiff::civil::DateTime>()
            .and_then(|civil| civil.to_zoned(jiff::tz::TimeZone::UTC))
            .map(|zoned| zoned.timestamp())
            .map_err(|_| with_offset_error),
    }
}

/// `#[serde(with = "crate::timestamp")]` adapter. Only strings are accepted, never integers.
pub(crate) fn serialize<S: Serializer>(
    timestamp: &Timestamp,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format(timestamp))
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Timestamp, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse(&text).map_err(serde::de::Error::custom)
}
