//! The rule pack's `critical` rules (一票否决) that can be judged one message at
//! a time: `phrases` rules, with their own matcher, role and service hours. Other
//! templates need a whole session or round (a repeat run, a required greeting, SQL)
//! and are listed as not watched.

use std::sync::Arc;

use crate::ingest::record::Role;
use crate::normalize::normalize;
use crate::rules::matcher::Matcher;
use crate::rules::spec::{MessageRole, ServiceHours};
use crate::rules::{RulePack, Severity, Template};

pub struct WatchedRule {
    pub id: String,
    role: MessageRole,
    matcher: Arc<Matcher>,
    hours: Option<ServiceHours>,
}

#[derive(Default)]
pub struct CriticalRules {
    pub watched: Vec<WatchedRule>,
    /// (rule id, template) of critical rules that cannot be judged per message.
    pub not_watched: Vec<(String, &'static str)>,
}

fn role_matches(rule: MessageRole, role: Role) -> bool {
    matches!(
        (rule, role),
        (MessageRole::Agent, Role::Agent)
            | (MessageRole::Customer, Role::Customer)
            | (MessageRole::Bot, Role::Bot)
    )
}

/// `start <= t < end` in seconds of the local day; `start > end` wraps midnight,
/// `start == end` is all day (design §5.2).
fn inside(hours: ServiceHours, seconds_of_day: u32) -> bool {
    let (start, end, t) = (hours.start * 60, hours.end * 60, seconds_of_day);
    match start.cmp(&end) {
        std::cmp::Ordering::Equal => true,
        std::cmp::Ordering::Less => start <= t && t < end,
        std::cmp::Ordering::Greater => t >= start || t < end,
    }
}

impl CriticalRules {
    pub fn from_pack(pack: &RulePack) -> Self {
        let mut out = Self::default();
        for rule in pack.enabled().filter(|r| r.severity == Severity::Critical) {
            match &rule.template {
                Template::Phrases { role, matcher, hours } => out.watched.push(WatchedRule {
                    id: rule.id.clone(),
                    role: *role,
                    matcher: matcher.clone(),
                    hours: *hours,
                }),
                other => out.not_watched.push((rule.id.clone(), other.name())),
            }
        }
        out
    }

    /// The ids of the rules `text` hits, for a message of `role` sent at
    /// `seconds_of_day` local time.
    pub fn hits(&self, role: Role, text: &str, seconds_of_day: u32) -> Vec<&str> {
        let mut norm = None;
        let mut out = Vec::new();
        for rule in &self.watched {
            if !role_matches(rule.role, role) || rule.hours.is_some_and(|h| !inside(h, seconds_of_day)) {
                continue;
            }
            let norm = norm.get_or_insert_with(|| normalize(text));
            if rule.matcher.is_match(norm) {
                out.push(rule.id.as_str());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::matcher::normalize_phrases;

    fn rules(hours: Option<ServiceHours>) -> CriticalRules {
        CriticalRules {
            watched: vec![WatchedRule {
                id: "pay".into(),
                role: MessageRole::Agent,
                matcher: Arc::new(Matcher::new(
                    normalize_phrases(["支付宝转账"]),
                    Vec::new(),
                    &normalize_phrases(["不要转账"]),
                )),
                hours,
            }],
            not_watched: Vec::new(),
        }
    }

    #[test]
    fn phrases_match_after_normalising_for_the_rule_role_only() {
        let r = rules(None);
        assert_eq!(r.hits(Role::Agent, "支 付 宝 转 账给我", 0), ["pay"]);
        assert!(r.hits(Role::Customer, "支付宝转账给我", 0).is_empty());
        assert!(r.hits(Role::Agent, "请不要转账, 也不要支付宝转账", 0).is_empty());
    }

    #[test]
    fn service_hours_bound_the_rule() {
        let r = rules(Some(ServiceHours::parse("08:00-24:00").unwrap()));
        assert!(r.hits(Role::Agent, "支付宝转账", 7 * 3600 + 59 * 60).is_empty());
        assert_eq!(r.hits(Role::Agent, "支付宝转账", 8 * 3600), ["pay"]);
        let night = ServiceHours::parse("22:00-06:00").unwrap();
        assert!(inside(night, 23 * 3600) && inside(night, 3600) && !inside(night, 12 * 3600));
    }

    #[test]
    fn the_shipped_pack_watches_its_critical_phrases_rule() {
        let pack = crate::rules::load(
            std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/rules")),
            &[],
        )
        .expect("the shipped pack loads");
        let critical = CriticalRules::from_pack(&pack);
        assert!(critical.watched.iter().any(|r| r.id == "offplatform-payment"));
    }
}
