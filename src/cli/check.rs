//! `zhijian check`: a trainer tries one rule (from the pack, or a draft file) on
//! real transcripts and sees each hit with its context.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::NaiveDate;
use clap::Args;

use super::args::InputArgs;
use super::sql::{OutputFormat, print};
use crate::mask::mask_batch;
use crate::pipeline::{DateRange, Scratch, Source};
use crate::rules::check::{HitFilter, check};

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
        let mut plan = args.input.plan(dates)?;
        // From a prepared dataset, only the views these rules read.
        plan.views = Some(crate::rules::views_read(&rules));
        let scratch = Scratch::new("check")?;
        let progress = super::progress::for_stderr(true);
        let mut source = Source::open(&plan, scratch.spill_path(), progress.as_ref())?;
        super::ingest::report_rejects(source.report(), 0);
        let filter = HitFilter {
            dates,
            agent: args.agent.clone(),
            limit: args.limit,
        };
        let found = check(&mut source, &pack, &rules, &filter).await?;
        let mut out = std::io::stdout().lock();
        for (rule, found) in rules.iter().zip(found) {
            // What is printed is read by people: personal data is masked here.
            let hits = found
                .hits
                .iter()
                .map(mask_batch)
                .collect::<crate::Result<Vec<_>>>()?;
            match args.format {
                OutputFormat::Table => {
                    use std::io::Write;
                    writeln!(out, "{} ({}): {} hits", rule.id, rule.name, found.total)?;
                    print(&mut out, &hits, args.format)?;
                    print(&mut out, &found.per_agent, args.format)?;
                }
                _ => {
                    print(&mut out, &hits, args.format)?;
                    eprintln!("zhijian: {} ({}): {} hits", rule.id, rule.name, found.total);
                }
            }
        }
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
