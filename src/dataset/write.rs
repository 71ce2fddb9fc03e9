//! Writing a prepared dataset (`zhijian ingest`), a unit of shops at a time: the
//! raw messages of the local dates the new exports cover, and the views of the
//! sessions of those dates and of the day before. Nothing is published until
//! every folder is written; the manifest goes last.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use datafusion::prelude::SessionContext;
use futures::StreamExt;

use super::{Dataset, DateEntry, IngestedFile, MANIFEST, Manifest, RAW_PART, REJECTS_FILE, VIEWS_FOLDER};
use crate::engine;
use crate::error::{Error, Result};
use crate::ingest::{IngestReport, rejects};
use crate::outputs::manifest::{Hashes, input_entries};
use crate::outputs::publisher::{Publisher, Staging};
use crate::outputs::writers::TableFiles;
use crate::pipeline::window::DateRange;
use crate::schema::{AGENT_SESSIONS, CANONICAL, CANONICAL_NAMES, MESSAGES, ROUNDS, SESSIONS};
use crate::timezone::TimeZones;

/// A table of the dataset: where its rows come from and how they are sorted.
struct Table {
    files: TableFiles,
    /// The view it is selected from, and its sort order after the date.
    from: &'static str,
    order: &'static str,
    /// The raw part (in the date folder) or a view (in `_views/`).
    raw: bool,
}

impl Table {
    fn new(
        name: &str,
        schema: &datafusion::arrow::datatypes::SchemaRef,
        from: &'static str,
        date: &'static str,
        order: &'static str,
    ) -> Self {
        Self {
            files: TableFiles::dated_by(name, schema.clone(), false, date),
            from,
            order,
            raw: name == RAW_PART.trim_end_matches(".parquet"),
        }
    }

    fn sql(&self, dates: DateRange) -> String {
        let date = if self.raw {
            "local_date"
        } else {
            self.date_column()
        };
        let columns = if self.raw {
            format!("{}, local_date", CANONICAL_NAMES.join(", "))
        } else {
            "*".to_string()
        };
        format!(
            "SELECT {columns} FROM {} WHERE {date} BETWEEN DATE '{}' AND DATE '{}' ORDER BY {date}, {}",
            self.from, dates.from, dates.to, self.order
        )
    }

    fn date_column(&self) -> &'static str {
        if self.from == "sessions" {
            "local_date"
        } else {
            "session_date"
        }
    }
}

/// The dataset being written.
pub struct DatasetWriter<'a> {
    publisher: &'a Publisher,
    existing: Option<Dataset>,
    /// The local dates of the new messages, and the session dates whose views
    /// are rebuilt: those and the day before.
    raw_dates: DateRange,
    view_dates: DateRange,
    folders: BTreeMap<NaiveDate, Staging>,
    tables: Vec<Table>,
    entries: BTreeMap<NaiveDate, DateEntry>,
}

impl<'a> DatasetWriter<'a> {
    pub fn new(publisher: &'a Publisher, existing: Option<Dataset>, raw_dates: DateRange) -> Self {
        let view_dates = DateRange {
            from: raw_dates.from.pred_opt().unwrap_or(raw_dates.from),
            to: raw_dates.to,
        };
        let tables = vec![
            Table::new(
                "part-00000",
                &CANONICAL,
                "messages",
                "local_date",
                "shop, session_id, seq",
            ),
            Table::new(
                "messages",
                &MESSAGES,
                "messages",
                "session_date",
                "shop, session_id, seq",
            ),
            Table::new(
                "rounds",
                &ROUNDS,
                "rounds",
                "session_date",
                "shop, session_id, round_no",
            ),
            Table::new(
                "sessions",
                &SESSIONS,
                "sessions",
                "local_date",
                "shop, session_id",
            ),
            Table::new(
                "agent_sessions",
                &AGENT_SESSIONS,
                "agent_sessions",
                "session_date",
                "shop, session_id, agent_id",
            ),
        ];
        Self {
            publisher,
            existing,
            raw_dates,
            view_dates,
            folders: BTreeMap::new(),
            tables,
            entries: BTreeMap::new(),
        }
    }

    /// The dates whose raw messages are read besides the new exports: the day
    /// before and after the dates rebuilt, and the rebuilt dates themselves (their
    /// messages are merged with the new ones).
    pub fn context_dates(&self) -> DateRange {
        DateRange {
            from: self.view_dates.from,
            to: self.raw_dates.to.succ_opt().unwrap_or(self.raw_dates.to),
        }
    }

    /// Appends a unit's rows (its views registered in `ctx`) to the date folders.
    pub async fn write_unit(&mut self, ctx: &SessionContext) -> Result<()> {
        self.count_unit(ctx).await?;
        for index in 0..self.tables.len() {
            let table = &self.tables[index];
            let dates = if table.raw {
                self.raw_dates
            } else {
                self.view_dates
            };
            let column = if table.raw {
                "local_date"
            } else {
                table.date_column()
            };
            let frame = engine::read_only_sql(ctx, &table.sql(dates)).await?;
            let mut stream = frame.execute_stream().await?;
            while let Some(batch) = stream.next().await {
                let batch = batch?;
                // Rows come sorted by date: a date's file opens when it first appears.
                let days = engine::columns(&batch).date(column)?;
                let mut last = None;
                for row in 0..batch.num_rows() {
                    let day = days.get(row);
                    if day != last
                        && let Some(date) = day
                    {
                        self.open(index, date)?;
                    }
                    last = day;
                }
                self.tables[index].files.write(&batch)?;
            }
            self.tables[index].files.flush()?;
            crate::failpoint!("dataset::unit-written");
        }
        Ok(())
    }

    /// Opens `date`'s file of table `index` (and the date's folder) on first sight;
    /// a date with views gets every view's file, empty ones included.
    fn open(&mut self, index: usize, date: NaiveDate) -> Result<()> {
        if self.tables[index].files.has_date(date) {
            return Ok(());
        }
        if !self.tables[index].raw {
            for other in 0..self.tables.len() {
                if !self.tables[other].raw && !self.tables[other].files.has_date(date) {
                    self.open_one(other, date)?;
                }
            }
            return Ok(());
        }
        self.open_one(index, date)
    }

    fn open_one(&mut self, index: usize, date: NaiveDate) -> Result<()> {
        if !self.folders.contains_key(&date) {
            let staging = self.publisher.stage_folder(&format!("date={date}"))?;
            let views = staging.path().join(VIEWS_FOLDER);
            std::fs::create_dir_all(&views).map_err(|e| Error::io(&views, e))?;
            self.folders.insert(date, staging);
        }
        let folder = self.folders[&date].path();
        let table = &mut self.tables[index];
        let folder = if table.raw {
            folder.to_path_buf()
        } else {
            folder.join(VIEWS_FOLDER)
        };
        table.files.open_date(date, &folder)
    }

    /// Sessions and their messages per date and shop, for the manifest.
    async fn count_unit(&mut self, ctx: &SessionContext) -> Result<()> {
        let (from, to) = (self.view_dates.from, self.view_dates.to);
        let sql = format!(
            "SELECT s.local_date AS date, s.shop, count(*) AS sessions, sum(s.messages) AS messages \
             FROM sessions s WHERE s.local_date BETWEEN DATE '{from}' AND DATE '{to}' GROUP BY s.local_date, s.shop"
        );
        let (_, batches) = engine::query(ctx, &sql).await?;
        for batch in &batches {
            let c = engine::columns(batch);
            let (dates, shops) = (c.date("date")?, c.text("shop")?);
            let (sessions, messages) = (c.int("sessions")?, c.int("messages")?);
            for row in 0..batch.num_rows() {
                let Some(date) = dates.get(row) else { continue };
                let entry = self.entries.entry(date).or_default();
                entry.sessions += sessions.count(row);
                entry.session_messages += messages.count(row);
                *entry.shops.entry(shops.or_empty(row).to_string()).or_default() += messages.count(row);
            }
        }
        Ok(())
    }

    /// Closes the files, completes each date folder, writes the rejects and the
    /// manifest, and publishes it all. Returns the dates written with their entries.
    pub fn finish(
        mut self,
        read: &IngestReport,
        hashes: &Hashes,
        zones: &TimeZones,
    ) -> Result<BTreeMap<NaiveDate, DateEntry>> {
        for table in std::mem::take(&mut self.tables) {
            let raw = table.raw;
            for (date, rows) in table.files.finish()? {
                if raw {
                    self.entries.entry(date).or_default().raw_messages = rows;
                }
            }
        }
        self.keep_raw_parts()?;
        let manifest = self.manifest(read, hashes, zones);
        let rejects_file = self.publisher.stage_file(REJECTS_FILE)?;
        rejects::write_jsonl(&read.rejects, rejects_file.path())?;
        let manifest_file = self.publisher.stage_file(MANIFEST)?;
        let text =
            serde_json::to_string_pretty(&manifest).map_err(|e| Error::Internal(e.to_string()))? + "\n";
        std::fs::write(manifest_file.path(), text).map_err(|e| Error::io(manifest_file.path(), e))?;
        let written = self.entries.clone();
        for staging in std::mem::take(&mut self.folders).into_values() {
            self.publisher.publish(staging)?;
        }
        self.publisher.publish(rejects_file)?;
        self.publisher.publish(manifest_file)?;
        Ok(written)
    }

    /// A rebuilt folder of a date whose raw messages were not re-ingested keeps
    /// its raw part as it was.
    fn keep_raw_parts(&mut self) -> Result<()> {
        for (date, staging) in &self.folders {
            if self.raw_dates.contains(*date) {
                continue;
            }
            let Some(existing) = &self.existing else { continue };
            let old = existing.date_folder(*date).join(RAW_PART);
            if old.exists() {
                let new = staging.path().join(RAW_PART);
                std::fs::copy(&old, &new).map_err(|e| Error::io(&new, e))?;
                let kept = existing.entry(*date).map_or(0, |d| d.raw_messages);
                self.entries.entry(*date).or_default().raw_messages = kept;
            }
        }
        Ok(())
    }

    fn manifest(&self, read: &IngestReport, hashes: &Hashes, zones: &TimeZones) -> Manifest {
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let mut manifest = self
            .existing
            .as_ref()
            .map(|d| d.manifest.clone())
            .unwrap_or_else(|| Manifest {
                format: super::FORMAT,
                tool_version: env!("CARGO_PKG_VERSION").to_string(),
                timezone: zones.default_zone().name().to_string(),
                shop_timezones: zones.shop_overrides(),
                inputs: Vec::new(),
                dates: BTreeMap::new(),
            });
        manifest.tool_version = env!("CARGO_PKG_VERSION").to_string();
        let new_inputs = input_entries(&read.files, &read.records_per_file, &read.rejects, hashes);
        manifest
            .inputs
            .extend(new_inputs.into_iter().map(|e| IngestedFile {
                path: e.path,
                bytes: e.bytes,
                sha256: e.sha256,
                records: e.records,
                rejects: e.rejects,
                ingested_at: now.clone(),
            }));
        for date in self.folders.keys() {
            manifest.dates.insert(
                date.to_string(),
                self.entries.get(date).cloned().unwrap_or_default(),
            );
        }
        manifest
    }
}
