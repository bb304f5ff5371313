use jiff::tz::TimeZone;

use super::TaskError;

/// The caller's IANA time zone, used to resolve "today", "this week" and
/// civil date-times. UTC when none is given.
#[derive(Debug, Clone)]
pub struct UserZone {
    name: String,
    tz: TimeZone,
}

impl UserZone {
    pub fn utc() -> Self {
        Self { name: "UTC".into(), tz: TimeZone::UTC }
    }

    pub fn parse(name: &str) -> Result<Self, TaskError> {
        let name = name.trim();
        if name.is_empty() || name.len() > 64 {
            return Err(TaskError::InvalidField {
                field: "timezone",
                message: "timezone must be an IANA zone name such as Europe/Berlin".into(),
            });
        }
        let tz = TimeZone::get(name).map_err(|_| TaskError::InvalidField {
            field: "timezone",
            message: format!("unknown time zone {name:?}; use an IANA name such as Europe/Berlin"),
        })?;
        Ok(Self { name: name.to_owned(), tz })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn tz(&self) -> &TimeZone {
        &self.tz
    }
}
