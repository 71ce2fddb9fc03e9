//! `zhijian ingest`: exports into the canonical Parquet dataset, plus rejects.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::args::InputArgs;
use crate::dataset;
use crate::ingest::Ingested;
use crate::load::load;
use crate::outputs::publisher::Publisher;

/// Convert exports to the canonical Parquet dataset, partitioned by local date.
///
/// Writes OUT/date=YYYY-MM-DD/part-00000.parquet (messages of that local date,
/// validated, without duplicates) and OUT/_rejects.jsonl (file, line, reason, raw;
/// the leading `_` keeps it out of a later `--input OUT`).
/// Later commands read the dataset much faster than the raw exports.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  zhijian ingest --input exports/2026-11-11/ --out dataset/
  zhijian sql --input dataset/date=2026-11-11 \"SELECT count(*) FROM messages\"")]
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
    super::runtime()?.block_on(async {
        let loaded = load(&args.input.input, &zones).await?;
        report_rejects(&loaded.ingested, loaded.views.duplicates);
        let (publisher, cleaned) = Publisher::open(&args.out)?;
        for line in &cleaned {
            eprintln!("zhijian: {line}");
        }
        let days = dataset::write(&loaded.ctx, &publisher, &loaded.ingested.rejects).await?;
        drop(publisher);
        let rejects_path = args.out.join(dataset::REJECTS_FILE);
        for (date, rows) in &days {
            eprintln!(
                "zhijian: wrote {} ({rows} messages)",
                args.out.join(format!("date={date}")).display()
            );
        }
        eprintln!(
            "zhijian: {} files, {} records read, {} messages kept, {} duplicates, {} rejects ({}), {:.2} s",
            loaded.ingested.files.len(),
            loaded.ingested.records_read,
            loaded.views.message_count(),
            loaded.views.duplicates,
            loaded.ingested.rejects.len(),
            rejects_path.display(),
            started.elapsed().as_secs_f64()
        );
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Warns on stderr about rejects, empty files and duplicates, with the first few
/// rejects in `file:line: reason` form.
pub fn report_rejects(ingested: &Ingested, duplicates: u64) {
    for path in &ingested.empty_files {
        eprintln!("zhijian: warning: {} holds no records", path.display());
    }
    let total = ingested.rejects.len();
    if total > 0 {
        eprintln!(
            "zhijian: warning: {total} of {} records rejected:",
            ingested.records_read
        );
        for reject in ingested.rejects.iter().take(5) {
            eprintln!("  {}", reject.display());
        }
        if total > 5 {
            eprintln!(
                "  ... and {} more (zhijian ingest writes them all to _rejects.jsonl)",
                total - 5
            );
        }
    }
    if duplicates > 0 {
        eprintln!("zhijian: note: {duplicates} duplicate messages (same shop, session_id, msg_id) kept once");
    }
}
