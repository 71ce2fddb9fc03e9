//! Declarative QA rules (design §5): a pack of TOML files ([`pack`], [`spec`]),
//! compiled to DataFusion SQL ([`compile`], [`run`]) over the views, with custom
//! functions ([`udf`], [`repeat`]) and inline tests ([`inline_tests`]).

pub mod check;
pub mod compile;
#[cfg(test)]
mod hostile_tests;
pub mod inline_tests;
pub mod lint;
pub mod matcher;
pub mod pack;
pub mod phrase_hits;
pub mod repeat;
pub mod run;
pub mod spec;
pub mod transcript;
pub mod udf;

use std::sync::Arc;

use datafusion::prelude::SessionContext;

pub use pack::{PackIssue, RulePack, load};
pub use spec::{Rule, Severity, Template};

use crate::views::Views;

/// Registers the `zj_*` functions for `pack`'s lexicons and rules over `views`.
pub fn register_functions(ctx: &SessionContext, pack: &RulePack, views: &Views) {
    let matchers = Arc::new(pack.matchers());
    udf::register(ctx, matchers.clone());
    let messages = Arc::new(views.messages.clone());
    ctx.register_udtf(
        repeat::FUNCTION_NAME,
        Arc::new(repeat::RepeatRuns {
            messages: messages.clone(),
            matchers,
        }),
    );
    let phrase_rules = pack
        .rules
        .iter()
        .filter_map(|rule| match &rule.template {
            Template::Phrases { role, matcher, .. } => Some(phrase_hits::PhraseRule {
                key: rule.matcher_key(),
                role: *role,
                matcher: matcher.clone(),
            }),
            _ => None,
        })
        .collect();
    ctx.register_udtf(
        phrase_hits::FUNCTION_NAME,
        Arc::new(phrase_hits::PhraseHits::new(messages, phrase_rules)),
    );
}

/// The views the hits of `rules` read: `messages` and `sessions` always (the
/// evidence and the session date, and the text the phrase and repeat scans
/// walk), `rounds` and `agent_sessions` when a rule's SQL names them.
pub fn views_read(rules: &[&Rule]) -> Vec<&'static str> {
    let mut views = vec!["messages", "sessions"];
    for view in ["rounds", "agent_sessions"] {
        let named = regex::Regex::new(&format!(r"(?i)\b{view}\b")).expect("a plain word");
        if rules.iter().any(|rule| named.is_match(&compile::compile(rule))) {
            views.push(view);
        }
    }
    views
}

/// Plans every enabled rule's query against empty views, so a rule whose SQL names
/// a missing column or table fails when the pack loads, not in the middle of a run.
pub async fn check_queries(pack: &RulePack) -> Vec<PackIssue> {
    let ctx = crate::engine::new_context(1);
    let views = Views::default();
    if let Err(e) = crate::engine::register_views(&ctx, &views) {
        return vec![PackIssue {
            file: pack.root.clone(),
            rule: None,
            message: e.to_string(),
        }];
    }
    register_functions(&ctx, pack, &views);
    let mut issues = Vec::new();
    for rule in &pack.rules {
        let planned = async {
            let query = run::rule_query(&ctx, rule).await?;
            // A physical plan, so that type errors surface now too.
            crate::engine::read_only_sql(&ctx, &run::violations_sql(rule, &query))
                .await?
                .create_physical_plan()
                .await?;
            Ok::<_, crate::Error>(())
        };
        if let Err(e) = planned.await {
            issues.push(PackIssue {
                file: rule.file.clone(),
                rule: Some(rule.id.clone()),
                message: e.to_string(),
            });
        }
    }
    issues
}
