//! What a rule file says, as typed data: the TOML shapes (strict: unknown keys are
//! errors) and their checked form, [`Rule`] and [`Template`].

use std::path::PathBuf;
use std::sync::Arc;

use serde::Deserialize;

use crate::rules::matcher::{Matcher, Separators};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, serde::Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    #[default]
    Minor,
    Major,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Minor => "minor",
            Severity::Major => "major",
            Severity::Critical => "critical",
        }
    }
}

/// A rule as written in TOML.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    pub id: Option<String>,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub template: String,
    #[serde(default)]
    pub severity: Severity,
    #[serde(default)]
    pub deduct: f64,
    #[serde(default)]
    pub bonus: f64,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    #[serde(default)]
    pub params: toml::Table,
    #[serde(default)]
    pub test: Vec<RawTest>,
}

fn enabled_by_default() -> bool {
    true
}

/// A file of several rules: `[[rule]]` tables.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMultiFile {
    pub rule: Vec<RawRule>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTest {
    pub name: String,
    pub transcript: String,
    pub expect: usize,
    pub hits: Option<Vec<usize>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    #[default]
    Every,
    First,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Within {
    First,
    Last,
    Any,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum MessageRole {
    Customer,
    #[default]
    Agent,
    Bot,
}

impl MessageRole {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageRole::Customer => "customer",
            MessageRole::Agent => "agent",
            MessageRole::Bot => "bot",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RepeatMatch {
    Identical,
    Similar,
    Lexicon,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatencyParams {
    pub max_seconds: f64,
    #[serde(default)]
    pub scope: Scope,
    pub service_hours: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnansweredParams {
    #[serde(default)]
    pub ignore_phrases: Vec<String>,
    pub service_hours: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhrasesParams {
    #[serde(default)]
    pub role: MessageRole,
    pub lexicon: Option<String>,
    #[serde(default)]
    pub phrases: Vec<String>,
    #[serde(default)]
    pub patterns: Vec<String>,
    #[serde(default)]
    pub except: Vec<String>,
    pub service_hours: Option<String>,
    /// `ignore`: punctuation, symbols and format characters between a phrase's
    /// characters do not hide it (anti-evasion); `keep` (default): design §5.1.
    #[serde(default)]
    pub separators: Separators,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepeatParams {
    #[serde(default = "three")]
    pub min_run: u32,
    #[serde(rename = "match")]
    pub mode: RepeatMatch,
    pub similarity: Option<f64>,
    pub lexicon: Option<String>,
    pub max_gap_seconds: Option<f64>,
}

fn three() -> u32 {
    3
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequiredParams {
    pub lexicon: Option<String>,
    #[serde(default)]
    pub phrases: Vec<String>,
    pub within: Within,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqlParams {
    pub sql: String,
}

/// `start <= local time < end` in minutes since midnight; `start > end` wraps
/// midnight; `start == end` is all day (design §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceHours {
    pub start: u32,
    pub end: u32,
}

impl ServiceHours {
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("{text:?} is not a range of local times: write \"08:00-24:00\"");
        let (start, end) = text.split_once('-').ok_or_else(bad)?;
        let minutes = |t: &str| -> Option<u32> {
            let (h, m) = t.trim().split_once(':')?;
            let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
            (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
        };
        let (start, end) = (minutes(start).ok_or_else(bad)?, minutes(end).ok_or_else(bad)?);
        if start == 24 * 60 {
            return Err(format!("{text:?}: 24:00 can only end a range"));
        }
        Ok(Self { start, end })
    }
}

#[derive(Debug, Clone)]
pub enum RepeatMode {
    Identical,
    Similar(f64),
    /// Every message of the run contains a phrase of this lexicon.
    Lexicon(String),
}

/// A rule's template with checked parameters.
#[derive(Debug, Clone)]
pub enum Template {
    Latency {
        max_seconds: f64,
        scope: Scope,
        hours: Option<ServiceHours>,
    },
    Unanswered {
        ignore: Vec<String>,
        hours: Option<ServiceHours>,
    },
    Phrases {
        role: MessageRole,
        matcher: Arc<Matcher>,
        hours: Option<ServiceHours>,
    },
    Repeat {
        min_run: u32,
        mode: RepeatMode,
        max_gap_seconds: Option<f64>,
    },
    Required {
        matcher: Arc<Matcher>,
        within: Within,
    },
    Sql {
        sql: String,
    },
}

impl Template {
    pub fn name(&self) -> &'static str {
        match self {
            Template::Latency { .. } => "latency",
            Template::Unanswered { .. } => "unanswered",
            Template::Phrases { .. } => "phrases",
            Template::Repeat { .. } => "repeat",
            Template::Required { .. } => "required",
            Template::Sql { .. } => "sql",
        }
    }
}

pub const TEMPLATES: &str = "latency, unanswered, phrases, repeat, required, sql";

/// One inline example of a rule (design §5.3).
#[derive(Debug, Clone)]
pub struct InlineTest {
    pub name: String,
    pub transcript: String,
    pub expect: usize,
    pub hits: Option<Vec<usize>>,
}

/// A checked rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub description: String,
    pub severity: Severity,
    pub deduct: f64,
    pub bonus: f64,
    pub enabled: bool,
    pub template: Template,
    pub tests: Vec<InlineTest>,
    /// The file the rule came from.
    pub file: PathBuf,
}

impl Rule {
    /// The key under which the rule's own matcher is registered for the UDFs.
    pub fn matcher_key(&self) -> String {
        format!("rule:{}", self.id)
    }

    pub fn is_pure_bonus(&self) -> bool {
        self.bonus > 0.0 && self.deduct == 0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_hours_parse() {
        assert_eq!(
            ServiceHours::parse("08:00-24:00"),
            Ok(ServiceHours {
                start: 480,
                end: 1440
            })
        );
        assert_eq!(
            ServiceHours::parse("22:30-06:00"),
            Ok(ServiceHours {
                start: 1350,
                end: 360
            })
        );
        for bad in ["8-24", "08:00", "24:00-08:00", "08:60-10:00", "25:00-26:00"] {
            assert!(ServiceHours::parse(bad).is_err(), "{bad}");
        }
    }
}
