//! Where units of whole shops come from: export files read by the streaming
//! readers and sorted by shop (spilled to disk past the memory budget), a
//! prepared dataset's views read by shop, or rows already in memory.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Mutex;

use chrono::NaiveDate;
use datafusion::arrow::array::RecordBatch;

use super::plan::{Input, Plan};
use super::unit::Unit;
use super::window::{DateRange, keep_window};
use crate::dataset::read::DatasetReader;
use crate::engine;
use crate::error::Result;
use crate::ingest::spill::{self, ShopBatches};
use crate::ingest::{self, IngestReport, InputFile};
use crate::progress::{Progress, Unit as ProgressUnit};
use crate::timezone::TimeZones;
use crate::views;

enum Kind {
    Raw {
        shops: Box<ShopBatches>,
        reader: Option<spill::Reader>,
        finished: bool,
    },
    Prepared(DatasetReader),
    Batches(Option<Vec<RecordBatch>>),
}

pub struct Source {
    kind: Kind,
    dates: Option<DateRange>,
    zones: TimeZones,
    unit_messages: u64,
    partitions: usize,
    report: IngestReport,
    units: Option<VecDeque<Vec<String>>>,
    unit_count: usize,
}

impl Source {
    /// Opens the plan's input. Export files are read here, whole: a shop's rows
    /// may be anywhere in them. Raw rows past two units' worth are spilled to
    /// `spill` (raw rows take about a quarter of what working on them does).
    pub fn open(plan: &Plan, spill: PathBuf, progress: &dyn Progress) -> Result<Self> {
        let partitions = engine::default_partitions();
        let unit_messages = plan.unit_messages();
        let empty = IngestReport::default();
        let (kind, report) = match &plan.input {
            Input::Raw(files) => {
                let shops = Box::new(ShopBatches::new(spill, 2 * unit_messages));
                let mut kind = Kind::Raw {
                    shops,
                    reader: None,
                    finished: false,
                };
                let report = read_into(&mut kind, files.clone(), 0, &plan.zones, progress)?;
                (kind, report)
            }
            Input::Prepared(dataset) => {
                let reader = DatasetReader::new(dataset.clone(), plan.dates, partitions)
                    .with_views(plan.views.clone());
                let files = reader.files()?;
                let report = IngestReport {
                    records_per_file: vec![0; files.len()],
                    files,
                    ..empty
                };
                (Kind::Prepared(reader), report)
            }
            Input::Batches(batches) => (Kind::Batches(Some(batches.clone())), empty),
        };
        Ok(Self {
            kind,
            dates: plan.dates,
            zones: plan.zones.clone(),
            unit_messages,
            partitions,
            report,
            units: None,
            unit_count: 0,
        })
    }

    /// Reads more export files into the same units, after the first ones in input
    /// order (a dataset's own partitions around the dates being re-ingested).
    pub fn add_files(&mut self, files: Vec<InputFile>, progress: &dyn Progress) -> Result<IngestReport> {
        let before = self.report.files.len();
        read_into(&mut self.kind, files, before, &self.zones, progress)
    }

    /// What reading gave: files, records, rejects (nothing for a dataset's views,
    /// whose rejects were counted when it was ingested).
    pub fn report(&self) -> &IngestReport {
        &self.report
    }

    /// The read report, when the source is no longer needed.
    pub fn into_report(self) -> IngestReport {
        self.report
    }

    /// Whether raw rows went to disk.
    pub fn spilled(&self) -> bool {
        matches!(&self.kind, Kind::Raw { shops, .. } if shops.spilled())
    }

    /// The local dates the raw rows read cover, in their shops' time zones.
    pub fn local_dates(&self) -> Option<DateRange> {
        let Kind::Raw { shops, .. } = &self.kind else {
            return None;
        };
        let local = |shop: &str, micros: i64| -> Option<NaiveDate> {
            let at = chrono::DateTime::from_timestamp_micros(micros)?;
            Some(at.with_timezone(&self.zones.for_shop(shop)).date_naive())
        };
        let mut range: Option<DateRange> = None;
        for (shop, first, last) in shops.time_ranges() {
            let (Some(from), Some(to)) = (local(shop, first), local(shop, last)) else {
                continue;
            };
            range = Some(match range {
                None => DateRange { from, to },
                Some(r) => DateRange {
                    from: r.from.min(from),
                    to: r.to.max(to),
                },
            });
        }
        range
    }

    /// How many units there are (known once reading is over).
    pub fn unit_count(&mut self) -> Result<usize> {
        self.plan_units()?;
        Ok(self.unit_count)
    }

    fn plan_units(&mut self) -> Result<()> {
        if self.units.is_some() {
            return Ok(());
        }
        let units: Vec<Vec<String>> = match &mut self.kind {
            Kind::Raw {
                shops,
                reader,
                finished,
            } => {
                *reader = shops.finish()?;
                *finished = true;
                shops.units(self.unit_messages)
            }
            Kind::Prepared(dataset) => dataset.units(self.unit_messages),
            Kind::Batches(batches) => vec![Vec::new(); usize::from(batches.is_some())],
        };
        self.unit_count = units.len();
        self.units = Some(units.into());
        Ok(())
    }

    /// The next unit of whole shops with its views, or `None` when all are done.
    pub async fn next_unit(&mut self) -> Result<Option<Unit>> {
        self.plan_units()?;
        let Some(shops) = self.units.as_mut().and_then(VecDeque::pop_front) else {
            return Ok(None);
        };
        let started = std::time::Instant::now();
        let views = match &mut self.kind {
            Kind::Prepared(dataset) => dataset.read(&shops)?,
            Kind::Raw {
                shops: all, reader, ..
            } => {
                let mut raw = all.take(&shops, reader.as_mut())?;
                if let Some(range) = self.dates {
                    raw = keep_window(raw, range)?;
                }
                let ctx = engine::new_context(self.partitions);
                views::build(&ctx, raw, &self.zones, self.partitions).await?
            }
            Kind::Batches(batches) => {
                let raw = batches.take().unwrap_or_default();
                let ctx = engine::new_context(self.partitions);
                views::build(&ctx, raw, &self.zones, self.partitions).await?
            }
        };
        crate::progress::timing("views", started);
        Ok(Some(Unit {
            shops,
            views,
            partitions: self.partitions,
        }))
    }
}

/// Reads export files into the shop partitioner, numbering them after `before`
/// files in input order.
fn read_into(
    kind: &mut Kind,
    files: Vec<InputFile>,
    before: usize,
    zones: &TimeZones,
    progress: &dyn Progress,
) -> Result<IngestReport> {
    let Kind::Raw { shops, finished, .. } = kind else {
        return Err(crate::Error::Internal(
            "only export files are read into units".into(),
        ));
    };
    if *finished {
        return Err(crate::Error::Internal(
            "files added after the units were cut".into(),
        ));
    }
    progress.begin(
        "read",
        Some(files.iter().map(|f| f.size).sum()),
        ProgressUnit::Bytes,
    );
    let partitioner = Mutex::new(std::mem::replace(
        shops.as_mut(),
        ShopBatches::new(PathBuf::new(), 0),
    ));
    let workers = engine::default_partitions();
    let read = ingest::read_files_streaming(files, zones, workers, progress, &|_, _, batch| {
        let batch = if before > 0 {
            ingest::shift_input_order(batch, before)?
        } else {
            batch
        };
        let slices = ShopBatches::split(&batch)?;
        partitioner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .add_split(slices)
    });
    **shops = partitioner.into_inner().unwrap_or_else(|p| p.into_inner());
    let read = read?;
    crate::failpoint!("run::after-read");
    progress.end(&format!(
        "{} files, {} records, {} rejects{}",
        read.files.len(),
        read.records_read,
        read.rejects.len(),
        if shops.spilled() {
            ", spilled by shop to disk"
        } else {
            ""
        }
    ));
    Ok(read)
}
