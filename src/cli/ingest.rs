//! `zhijian ingest`: exports into the prepared dataset, plus rejects.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::args::InputArgs;
use crate::dataset::{self, REJECTS_FILE};
use crate::ingest::IngestReport;

/// Turn exports into a prepared dataset: the canonical messages by local date and
/// the views (messages, rounds, sessions, agent_sessions) by session date.
///
/// Writes OUT/date=YYYY-MM-DD/part-00000.parquet (the messages of that local date,
/// validated, without duplicates), OUT/date=YYYY-MM-DD/_views/*.parquet (the views
/// of the sessions that started that day), OUT/_dataset.json and OUT/_rejects.jsonl.
/// `run`, `check` and `sql` read the views without rebuilding them. Ingesting more
/// exports into the same OUT merges them in and rebuilds the views of the days they
/// touch and of the day before (sessions crossing midnight).
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  zhijian ingest --input exports/2026-11-11/ --out dataset/
  zhijian ingest --input exports/2026-11-12/ --out dataset/     # adds a day, completes the one before
  zhijian run --input dataset/ --date 2026-11-11
  zhijian sql --input dataset/ \"SELECT count(*) FROM messages\"")]
pub struct IngestArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Output folder of the dataset.
    #[arg(long, short, value_name = "DIR")]
    out: PathBuf,
}

pub fn run(args: IngestArgs) -> anyhow::Result<ExitCode> {
    let zones = args.input.zones()?;
    let started = std::time::Instant::now();
    let progress = super::progress::for_stderr(true);
    let ingested = super::runtime()?.block_on(dataset::ingest(
        &args.input.input,
        &zones,
        args.input.memory_limit(),
        &args.out,
        progress.as_ref(),
    ))?;
    for line in &ingested.cleaned {
        eprintln!("zhijian: {line}");
    }
    report_rejects(&ingested.read, ingested.duplicates);
    for (date, entry) in &ingested.dates {
        eprintln!(
            "zhijian: wrote {} ({} messages of the day, {} sessions started that day)",
            args.out.join(format!("date={date}")).display(),
            entry.raw_messages,
            entry.sessions
        );
    }
    eprintln!(
        "zhijian: {} files, {} records read, {} duplicates, {} rejects ({}), {:.2} s",
        ingested.read.files.len(),
        ingested.read.records_read,
        ingested.duplicates,
        ingested.read.rejects.len(),
        args.out.join(REJECTS_FILE).display(),
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

/// Warns on stderr about rejects, empty files and duplicates, with the first few
/// rejects in `file:line: reason` form.
pub fn report_rejects(read: &IngestReport, duplicates: u64) {
    for path in &read.empty_files {
        eprintln!("zhijian: warning: {} holds no records", path.display());
    }
    let total = read.rejects.len();
    if total > 0 {
        eprintln!(
            "zhijian: warning: {total} of {} records rejected:",
            read.records_read
        );
        for reject in read.rejects.iter().take(5) {
            eprintln!("  {}", reject.display());
        }
        if total > 5 {
            eprintln!(
                "  ... and {} more (zhijian ingest writes them all to {REJECTS_FILE})",
                total - 5
            );
        }
    }
    if duplicates > 0 {
        eprintln!("zhijian: note: {duplicates} duplicate messages (same shop, session_id, msg_id) kept once");
    }
}
