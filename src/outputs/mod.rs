//! The published outputs of a run (design §7): one folder per session date with
//! the tables as Parquet (scorecards also as CSV; `inquiries` feeds the monthly KPI
//! of design §8), the rejects and a manifest,
//! each folder built aside and swapped in whole, one run at a time per output
//! folder ([`publisher`], [`lock`]).

pub mod lock;
pub mod manifest;
pub mod publisher;
pub mod writers;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::prelude::SessionContext;

use crate::engine;
use crate::error::Result;
use crate::schema::{INQUIRIES, ROUNDS_OUTPUT, RULE_HITS, SCORECARDS, VIOLATIONS};
use publisher::{Publisher, Staging};
use writers::{TableFiles, write_query};

/// The name of a date's folder.
pub fn date_folder(date: NaiveDate) -> String {
    format!("date={date}")
}

/// A published table: its schema, the query giving its rows, and the sort order
/// that makes its files identical on every re-run (ties broken down to unique keys).
pub struct Table {
    pub name: &'static str,
    pub schema: SchemaRef,
    select: String,
    order: &'static str,
    /// Also written as CSV, for people.
    pub csv: bool,
}

impl Table {
    /// The query for the rows of `dates`, in file order.
    pub fn sql(&self, dates: &[NaiveDate]) -> String {
        let list: Vec<String> = dates.iter().map(|d| format!("DATE '{d}'")).collect();
        format!(
            "SELECT * FROM ({}) AS t WHERE date IN ({}) ORDER BY {}",
            self.select,
            list.join(", "),
            self.order
        )
    }
}

pub fn tables() -> Vec<Table> {
    let round_columns: Vec<&str> = ROUNDS_OUTPUT
        .fields()
        .iter()
        .skip(1)
        .map(|f| f.name().as_str())
        .collect();
    vec![
        Table {
            name: "violations",
            schema: VIOLATIONS.clone(),
            select: "SELECT * FROM violations".into(),
            order: "date, shop, session_id, agent_id, rule_id, ts, msg_id, detail",
            csv: false,
        },
        Table {
            name: "rounds",
            schema: ROUNDS_OUTPUT.clone(),
            select: format!(
                "SELECT session_date AS date, {} FROM rounds",
                round_columns.join(", ")
            ),
            order: "date, shop, session_id, round_no",
            csv: false,
        },
        Table {
            name: "scorecards",
            schema: SCORECARDS.clone(),
            select: "SELECT * FROM scorecards".into(),
            order: "date, shop, agent_id",
            csv: true,
        },
        Table {
            name: "inquiries",
            schema: INQUIRIES.clone(),
            select: "SELECT session_date AS date, shop, customer_id, agent_id, min(opened_at) AS first_opened_at, \
                     count(*) AS rounds, array_sort(array_agg(closed_at)) AS closed_at \
                     FROM rounds WHERE responder_role = 'agent' AND customer_id IS NOT NULL \
                     GROUP BY session_date, shop, customer_id, agent_id"
                .into(),
            order: "date, shop, customer_id, agent_id",
            csv: false,
        },
        Table {
            name: "rule_hits",
            schema: RULE_HITS.clone(),
            select: "SELECT * FROM rule_hits".into(),
            order: "date, shop, agent_id, rule_id",
            csv: false,
        },
    ]
}

/// A file written into a date folder, with its row count.
#[derive(Debug, Clone)]
pub struct TableFile {
    pub file: String,
    pub rows: u64,
}

/// The date folders a run is building: staging folders opened as dates turn up,
/// and every table's files in them. Rows come a unit of shops at a time, in shop
/// order, so each file ends up sorted as [`Table`] says.
pub struct DateOutputs<'a> {
    publisher: &'a Publisher,
    folders: BTreeMap<NaiveDate, Staging>,
    tables: Vec<(Table, TableFiles)>,
}

/// A date folder built and not yet published, with the tables written into it.
pub type BuiltDate = (Staging, Vec<TableFile>);

impl<'a> DateOutputs<'a> {
    pub fn new(publisher: &'a Publisher) -> Self {
        Self {
            publisher,
            folders: BTreeMap::new(),
            tables: tables()
                .into_iter()
                .map(|t| {
                    let files = TableFiles::new(t.name, t.schema.clone(), t.csv);
                    (t, files)
                })
                .collect(),
        }
    }

    /// Writes the rows of `dates` from the tables registered in `ctx` (the views,
    /// `violations` and the score tables of one unit of shops).
    pub async fn write(&mut self, ctx: &SessionContext, dates: &[NaiveDate]) -> Result<()> {
        if dates.is_empty() {
            return Ok(());
        }
        for date in dates {
            if !self.folders.contains_key(date) {
                let staging = self.publisher.stage_folder(&date_folder(*date))?;
                for (_, files) in &mut self.tables {
                    files.open_date(*date, staging.path())?;
                }
                self.folders.insert(*date, staging);
            }
        }
        for (table, files) in &mut self.tables {
            let started = std::time::Instant::now();
            write_query(engine::read_only_sql(ctx, &table.sql(dates)).await?, files).await?;
            files.flush()?;
            crate::failpoint!("outputs::table-written");
            crate::progress::timing(&format!("table {}", table.name), started);
        }
        Ok(())
    }

    /// Closes every file: the staging folder of each date and what it holds.
    pub fn finish(self) -> Result<BTreeMap<NaiveDate, BuiltDate>> {
        let mut done: BTreeMap<NaiveDate, BuiltDate> = self
            .folders
            .into_iter()
            .map(|(date, folder)| (date, (folder, Vec::new())))
            .collect();
        for (table, files) in self.tables {
            for (date, rows) in files.finish()? {
                let entry = &mut done.get_mut(&date).expect("opened with its folder").1;
                entry.push(TableFile {
                    file: format!("{}.parquet", table.name),
                    rows,
                });
                if table.csv {
                    entry.push(TableFile {
                        file: format!("{}.csv", table.name),
                        rows,
                    });
                }
            }
        }
        Ok(done)
    }
}
