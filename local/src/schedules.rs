//! Runs the functions that have `Schedule` events, at the times EventBridge
//! would, with the payload EventBridge sends.

use std::collections::BTreeSet;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};
use tokio::sync::watch;

use crate::provision::BoxError;

const REGION: &str = "us-east-1";
const ACCOUNT: &str = "000000000000";
/// Beyond this an expression is treated as never firing again, so that one
/// matching nothing (say 30 February) cannot keep the search going.
const HORIZON_DAYS: i64 = 5 * 366;

/// A parsed `rate(...)` or `cron(...)` schedule expression. Times are UTC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    Rate(Duration),
    Cron(Cron),
}

/// The six fields of an AWS cron expression, as the sets of values each allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    minutes: BTreeSet<u32>,
    hours: BTreeSet<u32>,
    days: Days,
    months: BTreeSet<u32>,
    years: BTreeSet<u32>,
}

/// AWS lets exactly one of day-of-month and day-of-week constrain the day.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Days {
    OfMonth(BTreeSet<u32>),
    /// 1 = Sunday … 7 = Saturday.
    OfWeek(BTreeSet<u32>),
}

struct Field {
    label: &'static str,
    min: u32,
    max: u32,
    /// Names for `min`, `min + 1`, …
    names: &'static [&'static str],
}

const MINUTES: Field = Field {
    label: "minutes",
    min: 0,
    max: 59,
    names: &[],
};
const HOURS: Field = Field {
    label: "hours",
    min: 0,
    max: 23,
    names: &[],
};
const DAY_OF_MONTH: Field = Field {
    label: "day-of-month",
    min: 1,
    max: 31,
    names: &[],
};
const MONTH: Field = Field {
    label: "month",
    min: 1,
    max: 12,
    names: &[
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ],
};
const DAY_OF_WEEK: Field = Field {
    label: "day-of-week",
    min: 1,
    max: 7,
    names: &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
};
const YEAR: Field = Field {
    label: "year",
    min: 1970,
    max: 2199,
    names: &[],
};

impl Field {
    fn value(&self, text: &str) -> Result<u32, String> {
        let value = if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            text.parse::<u32>().ok()
        } else {
            self.names
                .iter()
                .position(|name| name.eq_ignore_ascii_case(text))
                .and_then(|index| u32::try_from(index).ok())
                .map(|index| self.min + index)
        };
        value.filter(|v| (self.min..=self.max).contains(v)).ok_or_else(|| {
            format!(
                "{}: {text:?} is not a value in {}-{} (L, W and # are not supported)",
                self.label, self.min, self.max
            )
        })
    }

    fn parse(&self, text: &str) -> Result<BTreeSet<u32>, String> {
        let mut values = BTreeSet::new();
        for item in text.split(',') {
            let (range, step) = match item.split_once('/') {
                Some((range, step)) => (range, Some(step)),
                None => (item, None),
            };
            let (start, end) = if range == "*" {
                (self.min, self.max)
            } else if let Some((start, end)) = range.split_once('-') {
                (self.value(start)?, self.value(end)?)
            } else {
                let start = self.value(range)?;
                // `5/15` means from 5 to the end of the field, every 15.
                (start, if step.is_some() { self.max } else { start })
            };
            if start > end {
                return Err(format!("{}: range {range:?} runs backwards", self.label));
            }
            let step = match step {
                None => 1,
                Some(step) => step
                    .parse::<usize>()
                    .ok()
                    .filter(|step| *step > 0)
                    .ok_or_else(|| format!("{}: bad step {step:?}", self.label))?,
            };
            values.extend((start..=end).step_by(step));
        }
        Ok(values)
    }
}

impl Schedule {
    /// Parses an EventBridge schedule expression: `rate(5 minutes)` or
    /// `cron(minutes hours day-of-month month day-of-week year)`.
    pub fn parse(expression: &str) -> Result<Self, String> {
        let expression = expression.trim();
        if let Some(inner) = expression.strip_prefix("rate(").and_then(|rest| rest.strip_suffix(')')) {
            return parse_rate(inner).map_err(|reason| format!("{expression}: {reason}"));
        }
        if let Some(inner) = expression.strip_prefix("cron(").and_then(|rest| rest.strip_suffix(')')) {
            return Cron::parse(inner)
                .map(Schedule::Cron)
                .map_err(|reason| format!("{expression}: {reason}"));
        }
        Err(format!("{expression:?} is neither rate(...) nor cron(...)"))
    }

    /// The first fire time strictly after `after` (UTC).
    pub fn next_after(&self, after: OffsetDateTime) -> Option<OffsetDateTime> {
        match self {
            Schedule::Rate(period) if period.is_zero() => None,
            Schedule::Rate(period) => after
                .to_offset(UtcOffset::UTC)
                .checked_add(time::Duration::try_from(*period).ok()?),
            Schedule::Cron(cron) => cron.next_after(after),
        }
    }
}

fn parse_rate(inner: &str) -> Result<Schedule, String> {
    let mut parts = inner.split_whitespace();
    let (Some(value), Some(unit), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err("expected rate(value unit)".into());
    };
    let value: u64 = value
        .parse()
        .ok()
        .filter(|value| *value > 0)
        .ok_or_else(|| format!("{value:?} is not a positive whole number"))?;
    let (seconds, singular) = match unit {
        "minute" => (60, true),
        "minutes" => (60, false),
        "hour" => (3_600, true),
        "hours" => (3_600, false),
        "day" => (86_400, true),
        "days" => (86_400, false),
        _ => return Err(format!("unknown unit {unit:?}")),
    };
    // AWS insists on `1 minute` but `2 minutes`.
    if singular != (value == 1) {
        return Err(format!(
            "{value} needs the {} unit",
            if value == 1 { "singular" } else { "plural" }
        ));
    }
    let seconds = value.checked_mul(seconds).ok_or("rate too large")?;
    Ok(Schedule::Rate(Duration::from_secs(seconds)))
}

impl Cron {
    fn parse(fields: &str) -> Result<Self, String> {
        let fields: Vec<&str> = fields.split_whitespace().collect();
        let [minutes, hours, day_of_month, month, day_of_week, year] = fields[..] else {
            return Err(format!("expected 6 fields, found {}", fields.len()));
        };
        let days = match (day_of_month, day_of_week) {
            ("?", "?") => return Err("one of day-of-month and day-of-week must be given".into()),
            (day_of_month, "?") => Days::OfMonth(DAY_OF_MONTH.parse(day_of_month)?),
            ("?", day_of_week) => Days::OfWeek(DAY_OF_WEEK.parse(day_of_week)?),
            _ => return Err("day-of-month and day-of-week cannot both be given; one must be ?".into()),
        };
        Ok(Self {
            minutes: MINUTES.parse(minutes)?,
            hours: HOURS.parse(hours)?,
            days,
            months: MONTH.parse(month)?,
            years: YEAR.parse(year)?,
        })
    }

    fn day_matches(&self, date: Date) -> bool {
        match &self.days {
            Days::OfMonth(days) => days.contains(&u32::from(date.day())),
            Days::OfWeek(days) => days.contains(&u32::from(date.weekday().number_from_sunday())),
        }
    }

    fn next_after(&self, after: OffsetDateTime) -> Option<OffsetDateTime> {
        let after = after.to_offset(UtcOffset::UTC);
        let limit = after.checked_add(time::Duration::days(HORIZON_DAYS))?;
        let start = after.replace_second(0).ok()?.replace_nanosecond(0).ok()? + time::Duration::minutes(1);
        let (mut date, mut hour, mut minute) = (start.date(), u32::from(start.hour()), u32::from(start.minute()));
        // Each pass moves to the next candidate year, month, day, hour or
        // minute, so the walk is bounded by the horizon.
        while date <= limit.date() {
            let year = u32::try_from(date.year()).ok()?;
            if !self.years.contains(&year) {
                let next = *self.years.range(year + 1..).next()?;
                date = Date::from_calendar_date(i32::try_from(next).ok()?, Month::January, 1).ok()?;
                (hour, minute) = (0, 0);
                continue;
            }
            if !self.months.contains(&u32::from(u8::from(date.month()))) {
                date = first_of_next_month(date)?;
                (hour, minute) = (0, 0);
                continue;
            }
            if !self.day_matches(date) {
                date = date.next_day()?;
                (hour, minute) = (0, 0);
                continue;
            }
            let Some(&next_hour) = self.hours.range(hour..).next() else {
                date = date.next_day()?;
                (hour, minute) = (0, 0);
                continue;
            };
            if next_hour != hour {
                (hour, minute) = (next_hour, 0);
            }
            let Some(&next_minute) = self.minutes.range(minute..).next() else {
                minute = 0;
                hour += 1;
                if hour == 24 {
                    date = date.next_day()?;
                    hour = 0;
                }
                continue;
            };
            let time = Time::from_hms(u8::try_from(hour).ok()?, u8::try_from(next_minute).ok()?, 0).ok()?;
            let fire = PrimitiveDateTime::new(date, time).assume_utc();
            return (fire <= limit).then_some(fire);
        }
        None
    }
}

fn first_of_next_month(date: Date) -> Option<Date> {
    let (year, month) = match date.month() {
        Month::December => (date.year() + 1, Month::January),
        month => (date.year(), month.next()),
    };
    Date::from_calendar_date(year, month, 1).ok()
}

/// When a job that last ran for the fire time `last` runs next, given that it
/// is now `now`. Fire times that passed while the job was still running are
/// skipped, so a slow job never queues up a backlog of runs.
fn next_fire(schedule: &Schedule, last: OffsetDateTime, now: OffsetDateTime) -> Option<OffsetDateTime> {
    let next = schedule.next_after(last)?;
    if next >= now {
        return Some(next);
    }
    match schedule {
        // Stay on the grid the rate started on, as EventBridge does.
        Schedule::Rate(period) => {
            let period = i128::try_from(period.as_nanos()).ok()?;
            let behind = (now - next).whole_nanoseconds();
            let skip = ((behind + period - 1) / period).checked_mul(period)?;
            let skip = time::Duration::new(
                i64::try_from(skip / 1_000_000_000).ok()?,
                i32::try_from(skip % 1_000_000_000).ok()?,
            );
            next.checked_add(skip)
        }
        Schedule::Cron(_) => schedule.next_after(now),
    }
}

pub type JobHandler = Arc<dyn Fn(Value) -> BoxFuture<'static, Result<(), BoxError>> + Send + Sync>;

/// A scheduled-event payload like the one EventBridge sends for rule `rule_name`
/// firing at `at`.
pub fn scheduled_event(rule_name: &str, at: OffsetDateTime) -> Value {
    let at = at.to_offset(UtcOffset::UTC);
    let at = at.replace_nanosecond(0).unwrap_or(at);
    json!({
        "version": "0",
        "id": uuid_like(ulid::Ulid::new().0),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": at.format(&Rfc3339).unwrap_or_default(),
        "region": REGION,
        "resources": [format!("arn:aws:events:{REGION}:{ACCOUNT}:rule/{rule_name}")],
        "detail": {},
    })
}

/// Formats random bits the way a version-4 UUID looks.
fn uuid_like(bits: u128) -> String {
    let bits = (bits & !(0xF << 76)) | (0x4 << 76);
    let bits = (bits & !(0x3 << 62)) | (0x2 << 62);
    let hex = format!("{bits:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// Runs scheduled jobs in-process.
#[derive(Default)]
pub struct Scheduler {
    jobs: Vec<(String, Schedule, JobHandler)>,
}

impl Scheduler {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, name: impl Into<String>, schedule: Schedule, handler: JobHandler) {
        self.jobs.push((name.into(), schedule, handler));
    }

    /// Runs each job at its fire times until `shutdown` completes. A failing
    /// job is logged and runs again at its next time; one job's runs never
    /// overlap. A run in progress at shutdown is allowed to finish.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        // Dropping the sender is what tells the jobs to stop.
        let (stop, stopped) = watch::channel(());
        let jobs = futures::future::join_all(
            self.jobs
                .into_iter()
                .map(|(name, schedule, handler)| run_job(name, schedule, handler, stopped.clone())),
        );
        drop(stopped);
        let mut jobs = std::pin::pin!(jobs);
        let mut shutdown = std::pin::pin!(shutdown);
        tokio::select! {
            () = &mut shutdown => {}
            _ = &mut jobs => {
                // Every job is past its last fire time; still wait to be told to stop.
                shutdown.await;
                return;
            }
        }
        drop(stop);
        jobs.await;
    }
}

async fn run_job(name: String, schedule: Schedule, handler: JobHandler, mut stopped: watch::Receiver<()>) {
    let Some(mut next) = schedule.next_after(OffsetDateTime::now_utc()) else {
        tracing::warn!(job = %name, ?schedule, "schedule never fires; job not started");
        return;
    };
    tracing::info!(job = %name, next = %next, "job scheduled");
    loop {
        let wait = Duration::try_from(next - OffsetDateTime::now_utc()).unwrap_or(Duration::ZERO);
        tokio::select! {
            _ = stopped.changed() => return,
            () = tokio::time::sleep(wait) => {}
        }
        let event = scheduled_event(&name, next);
        let started = std::time::Instant::now();
        let call = Arc::clone(&handler);
        match AssertUnwindSafe(async move { call(event).await }).catch_unwind().await {
            Ok(Ok(())) => tracing::info!(job = %name, elapsed = ?started.elapsed(), "scheduled job ran"),
            Ok(Err(err)) => tracing::error!(job = %name, error = %err, "scheduled job failed"),
            Err(panic) => tracing::error!(job = %name, panic = panic_message(&*panic), "scheduled job panicked"),
        }
        let now = OffsetDateTime::now_utc();
        let Some(following) = next_fire(&schedule, next, now) else {
            tracing::info!(job = %name, "schedule has no further fire times");
            return;
        };
        if schedule.next_after(next).is_some_and(|due| due < following) {
            tracing::warn!(job = %name, "job overran its schedule; skipping the fire times it missed");
        }
        next = following;
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("non-string panic payload")
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use aws_lambda_events::event::eventbridge::EventBridgeEvent;
    use time::macros::datetime;

    use super::*;

    fn cron(expression: &str) -> Schedule {
        Schedule::parse(expression).unwrap()
    }

    fn fires(schedule: &Schedule, mut after: OffsetDateTime, count: usize) -> Vec<OffsetDateTime> {
        (0..count)
            .map(|_| {
                after = schedule.next_after(after).unwrap();
                after
            })
            .collect()
    }

    #[test]
    fn parses_rates() {
        let minutes = |n: u64| Schedule::Rate(Duration::from_secs(n * 60));
        assert_eq!(Schedule::parse("rate(1 minute)"), Ok(minutes(1)));
        assert_eq!(Schedule::parse("rate(5 minutes)"), Ok(minutes(5)));
        assert_eq!(Schedule::parse("rate(1 hour)"), Ok(minutes(60)));
        assert_eq!(Schedule::parse("rate(2 hours)"), Ok(minutes(120)));
        assert_eq!(Schedule::parse("rate(1 day)"), Ok(minutes(1_440)));
        assert_eq!(Schedule::parse(" rate(3 days) "), Ok(minutes(3 * 1_440)));
    }

    #[test]
    fn rejects_bad_rates() {
        for bad in [
            "rate(0 minutes)",
            "rate(2 minute)",
            "rate(1 minutes)",
            "rate(-1 minute)",
            "rate(1.5 hours)",
            "rate(5 seconds)",
            "rate(5)",
            "rate(5 minutes extra)",
            "rate 5 minutes",
            "every 5 minutes",
        ] {
            assert!(Schedule::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn rate_fires_one_period_after() {
        let schedule = cron("rate(5 minutes)");
        let at = datetime!(2024-03-10 10:02:30 UTC);
        assert_eq!(schedule.next_after(at), Some(datetime!(2024-03-10 10:07:30 UTC)));
        assert_eq!(Schedule::Rate(Duration::ZERO).next_after(at), None);
    }

    #[test]
    fn daily_cron_fires_the_next_day_once_its_hour_has_passed() {
        let schedule = cron("cron(0 1 * * ? *)");
        assert_eq!(
            schedule.next_after(datetime!(2024-03-10 02:00 UTC)),
            Some(datetime!(2024-03-11 01:00 UTC))
        );
        assert_eq!(
            schedule.next_after(datetime!(2024-03-10 00:59:59.5 UTC)),
            Some(datetime!(2024-03-10 01:00 UTC))
        );
        // Strictly after: a call at the fire time itself gets the following one.
        assert_eq!(
            schedule.next_after(datetime!(2024-03-10 01:00 UTC)),
            Some(datetime!(2024-03-11 01:00 UTC))
        );
        // Across a month and a year end, including a leap day.
        assert_eq!(
            fires(&schedule, datetime!(2024-02-28 05:00 UTC), 2),
            [datetime!(2024-02-29 01:00 UTC), datetime!(2024-03-01 01:00 UTC)]
        );
        assert_eq!(
            schedule.next_after(datetime!(2024-12-31 23:30 UTC)),
            Some(datetime!(2025-01-01 01:00 UTC))
        );
    }

    #[test]
    fn cron_times_are_utc() {
        let schedule = cron("cron(0 1 * * ? *)");
        // 02:30 at +03:00 is 23:30 UTC the day before.
        let after = datetime!(2024-03-10 02:30 +03:00);
        assert_eq!(schedule.next_after(after), Some(datetime!(2024-03-10 01:00 UTC)));
    }

    #[test]
    fn cron_steps_every_quarter_hour() {
        let schedule = cron("cron(*/15 * * * ? *)");
        assert_eq!(
            fires(&schedule, datetime!(2024-03-10 10:07:12 UTC), 4),
            [
                datetime!(2024-03-10 10:15 UTC),
                datetime!(2024-03-10 10:30 UTC),
                datetime!(2024-03-10 10:45 UTC),
                datetime!(2024-03-10 11:00 UTC),
            ]
        );
        assert_eq!(
            cron("cron(5/20 * * * ? *)").next_after(datetime!(2024-03-10 10:46 UTC)),
            Some(datetime!(2024-03-10 11:05 UTC))
        );
    }

    #[test]
    fn weekday_cron_skips_the_weekend() {
        let schedule = cron("cron(0 9 ? * MON-FRI *)");
        // 2024-03-08 is a Friday.
        assert_eq!(
            fires(&schedule, datetime!(2024-03-08 08:00 UTC), 3),
            [
                datetime!(2024-03-08 09:00 UTC),
                datetime!(2024-03-11 09:00 UTC),
                datetime!(2024-03-12 09:00 UTC),
            ]
        );
        assert_eq!(cron("cron(0 9 ? * 2-6 *)"), schedule);
        assert_eq!(cron("cron(0 9 ? * mon,tue,wed,thu,fri *)"), schedule);
        assert_eq!(
            cron("cron(30 18 ? * SUN,SAT *)").next_after(datetime!(2024-03-08 12:00 UTC)),
            Some(datetime!(2024-03-09 18:30 UTC))
        );
    }

    #[test]
    fn yearly_cron_waits_for_its_month() {
        let schedule = cron("cron(0 12 1 JAN ? *)");
        assert_eq!(
            schedule.next_after(datetime!(2024-01-01 12:00 UTC)),
            Some(datetime!(2025-01-01 12:00 UTC))
        );
        assert_eq!(
            schedule.next_after(datetime!(2024-06-15 00:00 UTC)),
            Some(datetime!(2025-01-01 12:00 UTC))
        );
        assert_eq!(cron("cron(0 12 1 1 ? *)"), schedule);
    }

    #[test]
    fn cron_lists_ranges_and_years() {
        let schedule = cron("cron(0,30 8-9 1,15 * ? 2025-2026)");
        assert_eq!(
            fires(&schedule, datetime!(2024-12-31 00:00 UTC), 5),
            [
                datetime!(2025-01-01 08:00 UTC),
                datetime!(2025-01-01 08:30 UTC),
                datetime!(2025-01-01 09:00 UTC),
                datetime!(2025-01-01 09:30 UTC),
                datetime!(2025-01-15 08:00 UTC),
            ]
        );
        assert_eq!(schedule.next_after(datetime!(2026-12-15 09:30 UTC)), None);
    }

    #[test]
    fn cron_that_never_matches_gives_up() {
        assert_eq!(
            cron("cron(0 0 30 FEB ? *)").next_after(datetime!(2024-01-01 00:00 UTC)),
            None
        );
        assert_eq!(
            cron("cron(0 0 * * ? 2020)").next_after(datetime!(2024-01-01 00:00 UTC)),
            None
        );
        // 31 February never comes, 31 March does.
        assert_eq!(
            cron("cron(0 0 31 FEB,MAR ? *)").next_after(datetime!(2024-02-01 00:00 UTC)),
            Some(datetime!(2024-03-31 00:00 UTC))
        );
    }

    #[test]
    fn rejects_bad_crons() {
        for bad in [
            "cron(0 1 * * * *)",
            "cron(0 1 ? * ? *)",
            "cron(0 1 1 * MON *)",
            "cron(0 1 * * ?)",
            "cron(0 1 * * ? * *)",
            "cron(60 1 * * ? *)",
            "cron(0 24 * * ? *)",
            "cron(0 1 0 * ? *)",
            "cron(0 1 32 * ? *)",
            "cron(0 1 * 13 ? *)",
            "cron(0 1 ? * 8 *)",
            "cron(0 1 ? * 0 *)",
            "cron(0 1 ? * FRI-MON *)",
            "cron(0 1 * * ? 1969)",
            "cron(*/0 1 * * ? *)",
            "cron(0 1 L * ? *)",
            "cron(0 1 15W * ? *)",
            "cron(0 1 ? * 6#3 *)",
            "cron(0 1 * FOO ? *)",
            "cron(0 ? * * ? *)",
            "cron(0,,5 1 * * ? *)",
            "cron(0 1 * * ? *",
        ] {
            assert!(Schedule::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn scheduled_event_looks_like_eventbridge() {
        let event = scheduled_event("nightly-cleanup", datetime!(2024-03-10 01:00:00.250 UTC));
        assert_eq!(event["version"], "0");
        assert_eq!(event["detail-type"], "Scheduled Event");
        assert_eq!(event["source"], "aws.events");
        assert_eq!(event["account"], "000000000000");
        assert_eq!(event["region"], "us-east-1");
        assert_eq!(event["time"], "2024-03-10T01:00:00Z");
        assert_eq!(
            event["resources"],
            json!(["arn:aws:events:us-east-1:000000000000:rule/nightly-cleanup"])
        );
        assert_eq!(event["detail"], json!({}));
        let id = event["id"].as_str().unwrap();
        let groups: Vec<usize> = id.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12], "{id}");
        assert_ne!(id, scheduled_event("nightly-cleanup", OffsetDateTime::now_utc())["id"]);
        // What a scheduled function would deserialise it into.
        let parsed: EventBridgeEvent = serde_json::from_value(event).unwrap();
        assert_eq!(parsed.detail_type, "Scheduled Event");
        assert_eq!(parsed.source, "aws.events");
    }

    #[test]
    fn missed_fire_times_are_skipped() {
        let hourly = cron("cron(0 * * * ? *)");
        let last = datetime!(2024-03-10 10:00 UTC);
        // On time: the next slot.
        assert_eq!(
            next_fire(&hourly, last, datetime!(2024-03-10 10:20 UTC)),
            Some(datetime!(2024-03-10 11:00 UTC))
        );
        // The run took until 12:20, so 11:00 and 12:00 are gone.
        assert_eq!(
            next_fire(&hourly, last, datetime!(2024-03-10 12:20 UTC)),
            Some(datetime!(2024-03-10 13:00 UTC))
        );
        let rate = cron("rate(5 minutes)");
        let last = datetime!(2024-03-10 10:02:30 UTC);
        assert_eq!(
            next_fire(&rate, last, datetime!(2024-03-10 10:03 UTC)),
            Some(datetime!(2024-03-10 10:07:30 UTC))
        );
        // A rate stays on its grid when it skips.
        assert_eq!(
            next_fire(&rate, last, datetime!(2024-03-10 10:19 UTC)),
            Some(datetime!(2024-03-10 10:22:30 UTC))
        );
        assert_eq!(
            next_fire(&rate, last, datetime!(2024-03-10 10:17:30 UTC)),
            Some(datetime!(2024-03-10 10:17:30 UTC))
        );
    }

    #[tokio::test]
    async fn run_stops_promptly_on_shutdown() {
        let mut scheduler = Scheduler::new();
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&calls);
        scheduler.add(
            "hourly",
            cron("rate(1 hour)"),
            Arc::new(move |_| {
                counter.fetch_add(1, Ordering::SeqCst);
                Box::pin(async { Ok(()) })
            }),
        );
        scheduler.add(
            "daily",
            cron("cron(0 1 * * ? *)"),
            Arc::new(|_| Box::pin(async { Ok(()) })),
        );
        let started = std::time::Instant::now();
        tokio::time::timeout(
            Duration::from_secs(2),
            scheduler.run(tokio::time::sleep(Duration::from_millis(50))),
        )
        .await
        .expect("run returns once shutdown completes");
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn run_without_jobs_waits_for_shutdown() {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let run = tokio::spawn(Scheduler::new().run(async {
            let _ = rx.await;
        }));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!run.is_finished());
        tx.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(1), run)
            .await
            .unwrap()
            .unwrap();
    }

    #[tokio::test]
    async fn failing_jobs_keep_their_schedule_and_never_overlap() {
        let period = Duration::from_millis(40);
        let running = Arc::new(AtomicUsize::new(0));
        let overlapped = Arc::new(AtomicUsize::new(0));
        let events = Arc::new(Mutex::new(Vec::new()));
        let (running_, overlapped_, events_) = (Arc::clone(&running), Arc::clone(&overlapped), Arc::clone(&events));
        let mut scheduler = Scheduler::new();
        scheduler.add(
            "flaky",
            Schedule::Rate(period),
            Arc::new(move |event: Value| {
                let (running, overlapped, events) =
                    (Arc::clone(&running_), Arc::clone(&overlapped_), Arc::clone(&events_));
                Box::pin(async move {
                    if running.fetch_add(1, Ordering::SeqCst) > 0 {
                        overlapped.fetch_add(1, Ordering::SeqCst);
                    }
                    let run = {
                        let mut events = events.lock().unwrap();
                        events.push(event);
                        events.len()
                    };
                    // Longer than the period, so fire times pass mid-run.
                    tokio::time::sleep(period * 2).await;
                    running.fetch_sub(1, Ordering::SeqCst);
                    match run % 3 {
                        0 => panic!("run {run} panics"),
                        1 => Err(format!("run {run} fails").into()),
                        _ => Ok(()),
                    }
                })
            }),
        );
        scheduler.run(tokio::time::sleep(Duration::from_millis(900))).await;
        assert_eq!(overlapped.load(Ordering::SeqCst), 0);
        assert_eq!(running.load(Ordering::SeqCst), 0, "the last run was allowed to finish");
        let events = events.lock().unwrap();
        assert!(events.len() >= 4, "only {} runs", events.len());
        assert!(
            events
                .iter()
                .all(|event| event["resources"][0] == "arn:aws:events:us-east-1:000000000000:rule/flaky")
        );
    }
}
