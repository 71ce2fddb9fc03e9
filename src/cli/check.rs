//! `zhijian check`: a trainer tries one rule (from the pack, or a draft file) on
//! real transcripts and sees each hit with its context.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::NaiveDate;
use clap::Args;

use super::args::InputArgs;
use super::sql::{OutputFormat, print};
use crate::engine;
use crate::load::{DateRange, load_dates};
use crate::mask::mask_batch;
use crate::rules::compile::quote;
use crate::rules::{register_functions, run};

/// Try one rule on transcripts: hits with context and a count per agent.
///
/// RULE is a rule id of the pack, or a rule file (a draft outside the pack works:
/// it may use the pack's lexicons).
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  zhijian check banned-offplatform
  zhijian check unanswered --input dataset/ --date 2026-11-11 --agent '云裳服饰旗舰店:小满'
  zhijian check drafts/my-rule.toml --from 2026-11-01 --to 2026-11-07 --format json")]
pub struct CheckArgs {
    /// Rule id, or path to a rule file.
    rule: String,
    #[command(flatten)]
    input: InputArgs,
    /// The rule pack folder (for lexicons and rule ids).
    #[arg(long, value_name = "DIR", default_value = "rules")]
    rules: PathBuf,
    /// Only sessions of this local date.
    #[arg(long, conflicts_with_all = ["from", "to"])]
    date: Option<NaiveDate>,
    /// First session date (with --to).
    #[arg(long, requires = "to")]
    from: Option<NaiveDate>,
    /// Last session date (with --from).
    #[arg(long, requires = "from")]
    to: Option<NaiveDate>,
    /// Only this agent's hits.
    #[arg(long)]
    agent: Option<String>,
    /// At most this many hits are printed (the counts cover all).
    #[arg(long, default_value_t = 50)]
    limit: usize,
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    format: OutputFormat,
}

pub fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let zones = args.input.zones()?;
    let dates = match (args.date, args.from, args.to) {
        (Some(d), _, _) => Some(DateRange { from: d, to: d }),
        (None, Some(from), Some(to)) if from <= to => Some(DateRange { from, to }),
        (None, Some(_), Some(_)) => anyhow::bail!(crate::Error::Usage("--from is after --to".into())),
        _ => None,
    };
    let draft = PathBuf::from(&args.rule);
    let is_file = args.rule.ends_with(".toml") || draft.is_file();
    super::runtime()?.block_on(async {
        let drafts = if is_file { vec![draft.clone()] } else { Vec::new() };
        let pack = super::load_pack(&args.rules, &drafts).await?;
        let rules: Vec<_> = if is_file {
            pack.rules.iter().filter(|r| r.file == draft).collect()
        } else {
            pack.rule(&args.rule).into_iter().collect()
        };
        if rules.is_empty() {
            let known: Vec<&str> = pack.rules.iter().map(|r| r.id.as_str()).collect();
            anyhow::bail!(crate::Error::Usage(format!(
                "no rule {:?}: give a rule id ({}) or a rule file",
                args.rule,
                known.join(", ")
            )));
        }
        let loaded = load_dates(&args.input.input, &zones, dates).await?;
        super::ingest::report_rejects(&loaded.ingested, loaded.views.duplicates);
        register_functions(&loaded.ctx, &pack, &loaded.views);
        for rule in rules {
            let query = run::violations_sql(rule, &run::rule_query(&loaded.ctx, rule).await?);
            let mut filters = vec!["TRUE".to_string()];
            if let Some(range) = dates {
                filters.push(format!(
                    "date BETWEEN CAST({} AS DATE) AND CAST({} AS DATE)",
                    quote(&range.from.to_string()),
                    quote(&range.to.to_string())
                ));
            }
            if let Some(agent) = &args.agent {
                filters.push(format!("agent_id = {}", quote(agent)));
            }
            let hits_sql = hits_with_context(&query, &filters.join(" AND "));
            let (_, hits) = engine::query(&loaded.ctx, &format!("{hits_sql} LIMIT {}", args.limit)).await?;
            // What is printed is read by people: personal data is masked here.
            let hits = hits.iter().map(mask_batch).collect::<crate::Result<Vec<_>>>()?;
            let (_, per_agent) = engine::query(
                &loaded.ctx,
                &format!(
                    "SELECT agent_id, count(*) AS hits, count(DISTINCT session_id) AS sessions \
                     FROM ({query}) AS v WHERE {} GROUP BY agent_id ORDER BY hits DESC, agent_id",
                    filters.join(" AND ")
                ),
            )
            .await?;
            let mut total = 0;
            for batch in &per_agent {
                let hits = engine::columns(batch).int("hits")?;
                total += (0..batch.num_rows()).map(|row| hits.count(row)).sum::<u64>();
            }
            let mut out = std::io::stdout().lock();
            match args.format {
                OutputFormat::Table => {
                    use std::io::Write;
                    writeln!(out, "{} ({}): {total} hits", rule.id, rule.name)?;
                    print(&mut out, &hits, args.format)?;
                    print(&mut out, &per_agent, args.format)?;
                }
                _ => print(&mut out, &hits, args.format)?,
            }
            if !matches!(args.format, OutputFormat::Table) {
                eprintln!("zhijian: {} ({}): {total} hits", rule.id, rule.name);
            }
        }
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Each hit with the customer message before its anchor and the anchor itself.
fn hits_with_context(violations: &str, filter: &str) -> String {
    format!(
        "WITH v AS (\n{violations}\n), numbered AS (\n  \
           SELECT row_number() OVER (ORDER BY date, shop, session_id, agent_id, ts, msg_id) AS hit, *\n  \
           FROM v WHERE {filter}\n\
         ), anchored AS (\n  \
           SELECT n.*, a.seq AS anchor_seq, a.local_time AS anchor_time FROM numbered n\n  \
           LEFT JOIN messages a ON a.shop = n.shop AND a.session_id = n.session_id AND a.msg_id = n.msg_id\n\
         ), before AS (\n  \
           SELECT h.hit, last_value(c.text ORDER BY c.seq) AS customer_before FROM anchored h\n  \
           JOIN messages c ON c.shop = h.shop AND c.session_id = h.session_id AND c.role = 'customer' AND c.seq < h.anchor_seq\n  \
           GROUP BY h.hit\n\
         )\n\
         SELECT h.date, h.anchor_time AS time, h.shop, h.session_id, h.agent_id, b.customer_before,\n       \
                h.evidence AS message, h.detail\n\
         FROM anchored h LEFT JOIN before b ON b.hit = h.hit\n\
         ORDER BY h.hit"
    )
}
