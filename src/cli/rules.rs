//! `zhijian rules`: test, lint, list and explain the rule pack.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};

use crate::rules::inline_tests::{TestOutcome, run_all};
use crate::rules::{RulePack, Template, lint, run};

/// Test, lint, list or explain the rules of a pack.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  zhijian rules test                  run every [[test]] of rules/
  zhijian rules test slow-reply-180s  one rule's tests
  zhijian rules explain unanswered    the SQL a rule compiles to
  zhijian rules list --format md > rules/README.md")]
pub struct RulesArgs {
    /// The rule pack folder.
    #[arg(long, global = true, value_name = "DIR", default_value = "rules")]
    rules: PathBuf,
    #[command(subcommand)]
    command: RulesCommand,
}

#[derive(Debug, Subcommand)]
enum RulesCommand {
    /// Run the inline [[test]] examples; exit 1 if any fails.
    Test {
        /// Only these rules.
        ids: Vec<String>,
    },
    /// Flag rules without a firing and a non-firing test, and bad lexicon lines.
    Lint,
    /// List the rules.
    List {
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// Print the SQL a rule compiles to.
    Explain { id: String },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ListFormat {
    Table,
    Md,
}

pub fn run(args: RulesArgs) -> anyhow::Result<ExitCode> {
    super::runtime()?.block_on(async {
        let pack = super::load_pack(&args.rules, &[]).await?;
        match args.command {
            RulesCommand::Test { ids } => test(&pack, &ids).await,
            RulesCommand::Lint => Ok(lint_pack(&pack)),
            RulesCommand::List { format } => {
                print!("{}", list(&pack, format));
                Ok(ExitCode::SUCCESS)
            }
            RulesCommand::Explain { id } => explain(&pack, &id).await,
        }
    })
}

async fn test(pack: &RulePack, ids: &[String]) -> anyhow::Result<ExitCode> {
    if let Some(unknown) = ids.iter().find(|id| pack.rule(id).is_none()) {
        anyhow::bail!(crate::Error::Usage(format!(
            "no rule {unknown:?} in {}",
            pack.root.display()
        )));
    }
    let outcomes = run_all(pack, ids).await?;
    let failed = outcomes.iter().filter(|o| !o.passed()).count();
    for outcome in &outcomes {
        if outcome.passed() {
            println!("ok    {}: {}", outcome.rule_id, outcome.test_name);
        } else {
            print!("{}", failure_report(outcome));
        }
    }
    println!("{} passed, {failed} failed", outcomes.len() - failed);
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::EXIT_FAILED)
    })
}

fn failure_report(outcome: &TestOutcome) -> String {
    let mut out = format!("FAIL  {}: {}\n", outcome.rule_id, outcome.test_name);
    match &outcome.error {
        Some(error) => {
            let _ = writeln!(out, "      error: {error}");
        }
        None => {
            let want = match &outcome.expected_hits {
                Some(hits) => format!("{} at lines {hits:?}", outcome.expected),
                None => outcome.expected.to_string(),
            };
            let _ = writeln!(
                out,
                "      expected {want} violation(s), found {} at lines {:?}",
                outcome.found, outcome.actual_hits
            );
        }
    }
    let lines = outcome
        .transcript
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty());
    for (number, line) in lines.enumerate() {
        let mark = if outcome.actual_hits.contains(&(number + 1)) {
            "*"
        } else {
            " "
        };
        let _ = writeln!(out, "      {mark}{:>3} | {line}", number + 1);
    }
    out
}

fn lint_pack(pack: &RulePack) -> ExitCode {
    let findings = lint::lint(pack);
    for f in &findings {
        match &f.rule {
            Some(rule) => println!("{}: rule {rule}: {}", f.file, f.message),
            None => println!("{}: {}", f.file, f.message),
        }
    }
    println!(
        "{} rules, {} lexicons, {} findings",
        pack.rules.len(),
        pack.lexicons.len(),
        findings.len()
    );
    if findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::EXIT_FAILED)
    }
}

fn points(rule: &crate::rules::Rule) -> String {
    if rule.is_pure_bonus() {
        format!("+{}", rule.bonus)
    } else {
        format!("-{}", rule.deduct)
    }
}

fn list(pack: &RulePack, format: ListFormat) -> String {
    let mut out = String::new();
    match format {
        ListFormat::Table => {
            let _ = writeln!(
                out,
                "{:<30} {:<10} {:<9} {:>6} {:>5}  name",
                "id", "template", "severity", "points", "tests"
            );
            for r in &pack.rules {
                let id = if r.enabled {
                    r.id.clone()
                } else {
                    format!("{} (off)", r.id)
                };
                let _ = writeln!(
                    out,
                    "{id:<30} {:<10} {:<9} {:>6} {:>5}  {}",
                    r.template.name(),
                    r.severity.as_str(),
                    points(r),
                    r.tests.len(),
                    r.name
                );
            }
        }
        ListFormat::Md => {
            out.push_str("# The default rule pack\n\n");
            out.push_str(
                "Generated by `zhijian rules list --format md > rules/README.md`; CI checks it is current.\n",
            );
            out.push_str("Scoring (`scoring.toml`): ");
            let _ = writeln!(
                out,
                "base {}, floor {}, ceiling {}; a `critical` violation sets the conversation score to the floor.\n",
                pack.scoring.base, pack.scoring.floor, pack.scoring.ceiling
            );
            out.push_str("| id | name | template | severity | points | tests |\n|---|---|---|---|---|---|\n");
            for r in &pack.rules {
                let _ = writeln!(
                    out,
                    "| `{}`{} | {} | {} | {} | {} | {} |",
                    r.id,
                    if r.enabled { "" } else { " (disabled)" },
                    r.name,
                    r.template.name(),
                    r.severity.as_str(),
                    points(r),
                    r.tests.len()
                );
            }
            out.push('\n');
            for r in &pack.rules {
                let _ = writeln!(out, "## `{}` {}\n", r.id, r.name);
                let _ = writeln!(out, "{}\n", r.description.trim());
                let _ = writeln!(
                    out,
                    "- template `{}`: {}",
                    r.template.name(),
                    summary(&r.template)
                );
                let file = r.file.strip_prefix(&pack.root).unwrap_or(&r.file);
                let _ = writeln!(
                    out,
                    "- file `{}`, {} inline tests\n",
                    file.display(),
                    r.tests.len()
                );
            }
            out.push_str("## Lexicons\n\n| lexicon | phrases |\n|---|---|\n");
            for l in pack.lexicons.values() {
                let _ = writeln!(out, "| `{}` | {} |", l.name, l.phrases.len());
            }
        }
    }
    out
}

fn summary(template: &Template) -> String {
    match template {
        Template::Latency {
            max_seconds,
            scope,
            hours,
        } => format!(
            "latency over {max_seconds} s, {} rounds{}",
            match scope {
                crate::rules::spec::Scope::Every => "all",
                crate::rules::spec::Scope::First => "each agent's first",
            },
            hours.map_or(String::new(), |h| format!(
                ", opened {:02}:{:02}-{:02}:{:02}",
                h.start / 60,
                h.start % 60,
                h.end / 60,
                h.end % 60
            ))
        ),
        Template::Unanswered { ignore, .. } => {
            format!("rounds nobody closed ({} ignorable phrases)", ignore.len())
        }
        Template::Phrases { role, matcher, .. } => {
            format!(
                "{} messages containing any of {} phrases",
                role.as_str(),
                matcher.phrases().len()
            )
        }
        Template::Repeat { min_run, mode, .. } => format!(
            "{min_run}+ agent messages in a row that are {}",
            match mode {
                crate::rules::spec::RepeatMode::Identical => "identical".to_string(),
                crate::rules::spec::RepeatMode::Similar(s) => format!("similar (bigram Jaccard >= {s})"),
                crate::rules::spec::RepeatMode::Lexicon(l) => format!("all from lexicon `{l}`"),
            }
        ),
        Template::Required { within, matcher } => format!(
            "{within:?} text message must contain one of {} phrases",
            matcher.phrases().len()
        )
        .to_lowercase(),
        Template::Sql { .. } => "custom SQL (see the file)".to_string(),
    }
}

async fn explain(pack: &RulePack, id: &str) -> anyhow::Result<ExitCode> {
    let rule = pack
        .rule(id)
        .ok_or_else(|| crate::Error::Usage(format!("no rule {id:?} in {}", pack.root.display())))?;
    let ctx = crate::engine::new_context(1);
    let views = crate::views::Views::default();
    crate::engine::register_views(&ctx, &views)?;
    crate::rules::register_functions(&ctx, pack, &views);
    let query = run::rule_query(&ctx, rule).await?;
    println!(
        "-- {} ({}): {}\n{query};",
        rule.id,
        rule.template.name(),
        rule.name
    );
    Ok(ExitCode::SUCCESS)
}
