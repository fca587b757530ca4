//! The date range of a report, from the query string: a preset (`today`, `7d`, `30d`) or
//! `custom` with `from` and `to` (YYYY-MM-DD, both days included, UTC).

use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::validation::FieldErrors;
use crate::validation::date_in_range;

/// A custom range may span at most this many days (a year, leap day included).
pub const MAX_DAYS: u64 = 366;

/// The query string of `/reports` and `/reports/export.csv`, as typed.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ReportQuery {
    #[serde(default)]
    pub range: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    /// `mailings` (default) or `messages`: which table is shown (and exported).
    #[serde(default)]
    pub view: String,
    #[serde(default)]
    pub sort: String,
    #[serde(default)]
    pub dir: String,
}

impl ReportQuery {
    /// The table shown: per message or per mailing.
    pub fn by_message(&self) -> bool {
        self.view == "messages"
    }

    pub fn descending(&self) -> bool {
        self.dir == "desc"
    }
}

/// Whole UTC days from `from` to `to`, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DateRange {
    pub preset: &'static str,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl DateRange {
    /// The first instant of the range.
    pub fn start(&self) -> DateTime<Utc> {
        self.from.and_time(chrono::NaiveTime::MIN).and_utc()
    }

    /// The first instant after the range.
    pub fn end(&self) -> DateTime<Utc> {
        self.to
            .checked_add_days(Days::new(1))
            .unwrap_or(self.to)
            .and_time(chrono::NaiveTime::MIN)
            .and_utc()
    }

    /// Every day of the range, in order.
    pub fn days(&self) -> impl Iterator<Item = NaiveDate> + use<> {
        let to = self.to;
        self.from.iter_days().take_while(move |d| *d <= to)
    }

    /// The last `n` days up to `today`, today included.
    fn last(preset: &'static str, today: NaiveDate, n: u64) -> Self {
        Self {
            preset,
            from: today.checked_sub_days(Days::new(n - 1)).unwrap_or(today),
            to: today,
        }
    }
}

fn parse_day(value: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").ok()
}

/// The range asked for, or the errors to show beside the fields. No preset means 30 days.
pub fn parse(query: &ReportQuery, today: NaiveDate) -> Result<DateRange, FieldErrors> {
    match query.range.as_str() {
        "today" => Ok(DateRange::last("today", today, 1)),
        "7d" => Ok(DateRange::last("7d", today, 7)),
        "" | "30d" => Ok(DateRange::last("30d", today, 30)),
        "custom" => {
            let mut errors = FieldErrors::default();
            let from = date_in_range(parse_day(&query.from), "Enter the first day as YYYY-MM-DD.")
                .map_err(|m| errors.add("from", m))
                .ok();
            let to = date_in_range(parse_day(&query.to), "Enter the last day as YYYY-MM-DD.")
                .map_err(|m| errors.add("to", m))
                .ok();
            if let (Some(from), Some(to)) = (from, to) {
                if from > to {
                    errors.add("to", "The last day cannot be before the first day.");
                } else if (to - from).num_days() as u64 >= MAX_DAYS {
                    errors.add("to", format!("A range can span at most {MAX_DAYS} days."));
                }
            }
            errors.into_result()?;
            match (from, to) {
                (Some(from), Some(to)) => Ok(DateRange {
                    preset: "custom",
                    from,
                    to,
                }),
                _ => Err(FieldErrors::single("", "The range is incomplete.")),
            }
        }
        _ => Err(FieldErrors::single(
            "range",
            "Choose today, 7 days, 30 days or a custom range.",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(range: &str, from: &str, to: &str) -> ReportQuery {
        ReportQuery {
            range: range.into(),
            from: from.into(),
            to: to.into(),
            ..ReportQuery::default()
        }
    }

    fn day(s: &str) -> NaiveDate {
        parse_day(s).unwrap_or_default()
    }

    #[test]
    fn presets_end_today() {
        let today = day("2026-03-01");
        let r = parse(&q("7d", "", ""), today).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!((r.from, r.to), (day("2026-02-23"), today));
        assert_eq!(r.days().count(), 7);
        let r = parse(&q("", "", ""), today).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!((r.preset, r.days().count()), ("30d", 30));
        let r = parse(&q("today", "", ""), today).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(r.end() - r.start(), chrono::Duration::days(1));
    }

    #[test]
    fn custom_ranges_are_checked() {
        let today = day("2026-03-01");
        let ok = parse(&q("custom", "2026-01-31", "2026-02-02"), today);
        assert_eq!(ok.map(|r| r.days().count()).ok(), Some(3));
        let bad = parse(&q("custom", "2026-02-30", "yesterday"), today).unwrap_err();
        assert!(bad.0.contains_key("from") && bad.0.contains_key("to"));
        let reversed = parse(&q("custom", "2026-02-02", "2026-01-31"), today).unwrap_err();
        assert!(reversed.0.contains_key("to"));
        let long = parse(&q("custom", "2020-01-01", "2026-01-01"), today).unwrap_err();
        assert!(long.0.contains_key("to"));
        assert!(parse(&q("forever", "", ""), today).is_err());
    }
}
