//! `zhijian rules lint`: what is legal but probably wrong in a pack.

use crate::rules::pack::RulePack;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub file: String,
    pub rule: Option<String>,
    pub message: String,
}

pub fn lint(pack: &RulePack) -> Vec<Finding> {
    let mut findings = Vec::new();
    for rule in &pack.rules {
        let finding = |message: &str| Finding {
            file: rule.file.display().to_string(),
            rule: Some(rule.id.clone()),
            message: message.to_string(),
        };
        if !rule.tests.iter().any(|t| t.expect > 0) {
            findings.push(finding(
                "no [[test]] that fires (expect >= 1): add an example the rule must catch",
            ));
        }
        if !rule.tests.iter().any(|t| t.expect == 0) {
            findings.push(finding(
                "no [[test]] that must not fire (expect = 0): add a near miss",
            ));
        }
        if rule.tests.iter().any(|t| t.expect > 0 && t.hits.is_none()) {
            findings.push(finding(
                "a firing [[test]] without `hits`: list the anchor lines so the test proves where it fires",
            ));
        }
        if rule.description.trim().is_empty() {
            findings.push(finding(
                "no `description`: say what it catches and why it matters",
            ));
        }
        if rule.deduct == 0.0 && rule.bonus == 0.0 {
            findings.push(finding("neither `deduct` nor `bonus`: the rule changes no score"));
        }
    }
    for lexicon in pack.lexicons.values() {
        for warning in &lexicon.warnings {
            findings.push(Finding {
                file: lexicon.path.display().to_string(),
                rule: None,
                message: warning.clone(),
            });
        }
        if lexicon.phrases.is_empty() {
            findings.push(Finding {
                file: lexicon.path.display().to_string(),
                rule: None,
                message: "the lexicon has no phrases".to_string(),
            });
        }
    }
    findings
}
