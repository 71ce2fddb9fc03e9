//! Raw rows grouped by shop, so that a run can take a few shops at a time in
//! bounded memory. Rows stay in memory while they fit in one unit of work; past
//! that everything goes to one Arrow IPC file beside the outputs, each batch
//! holding one shop's rows, and a unit reads back just the batches of its shops.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::PathBuf;

use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::compute::{max, min, partition, sort_to_indices, take_record_batch};
use datafusion::arrow::datatypes::TimestampMicrosecondType;
use datafusion::arrow::ipc::reader::FileReader;
use datafusion::arrow::ipc::writer::FileWriter;

use crate::error::{Error, Result};
use crate::schema::RAW;

/// Where a slice of one shop's rows is.
enum Slot {
    Memory(RecordBatch),
    /// The index of its batch in the spill file.
    Disk(usize),
}

#[derive(Default)]
struct Shop {
    rows: u64,
    slots: Vec<Slot>,
    /// The earliest and latest `ts` of its rows, in UTC microseconds.
    first_ts: Option<i64>,
    last_ts: Option<i64>,
}

pub struct ShopBatches {
    path: PathBuf,
    /// Rows held in memory before spilling starts.
    memory_rows: u64,
    rows_in_memory: u64,
    shops: BTreeMap<String, Shop>,
    writer: Option<FileWriter<BufWriter<File>>>,
    written: usize,
}

impl ShopBatches {
    /// Rows are kept in memory up to `memory_rows`, then spilled to `path`.
    pub fn new(path: PathBuf, memory_rows: u64) -> Self {
        Self {
            path,
            memory_rows,
            rows_in_memory: 0,
            shops: BTreeMap::new(),
            writer: None,
            written: 0,
        }
    }

    pub fn spilled(&self) -> bool {
        self.writer.is_some()
    }

    pub fn rows(&self) -> u64 {
        self.shops.values().map(|s| s.rows).sum()
    }

    /// Cuts a batch of [`RAW`] rows by shop: the costly part of adding it, which
    /// needs no lock, so parsing threads do it side by side.
    pub fn split(batch: &RecordBatch) -> Result<Vec<(String, RecordBatch)>> {
        let order = sort_to_indices(batch.column(0), None, None)?;
        let sorted = take_record_batch(batch, &order)?;
        let ranges = partition(&[sorted.column(0).clone()])?.ranges();
        Ok(ranges
            .into_iter()
            .map(|range| {
                let slice = sorted.slice(range.start, range.end - range.start);
                let shop = slice.column(0).as_string::<i32>().value(0).to_string();
                (shop, slice)
            })
            .collect())
    }

    /// Adds a batch of [`RAW`] rows, cut by shop.
    pub fn add(&mut self, batch: &RecordBatch) -> Result<()> {
        self.add_split(Self::split(batch)?)
    }

    /// Adds the slices [`ShopBatches::split`] made.
    pub fn add_split(&mut self, slices: Vec<(String, RecordBatch)>) -> Result<()> {
        for (shop, slice) in slices {
            let rows = slice.num_rows() as u64;
            let ts = slice
                .column_by_name("ts")
                .expect("RAW has ts")
                .as_primitive::<TimestampMicrosecondType>();
            let (first, last) = (min(ts), max(ts));
            let slot = if self.writer.is_some() {
                Slot::Disk(self.write(&slice)?)
            } else {
                self.rows_in_memory += rows;
                Slot::Memory(slice)
            };
            let entry = self.shops.entry(shop).or_default();
            entry.rows += rows;
            entry.slots.push(slot);
            entry.first_ts = entry.first_ts.min(first).or(first);
            entry.last_ts = entry.last_ts.max(last);
        }
        if self.writer.is_none() && self.rows_in_memory > self.memory_rows {
            self.spill_all()?;
        }
        Ok(())
    }

    fn write(&mut self, batch: &RecordBatch) -> Result<usize> {
        let writer = self
            .writer
            .as_mut()
            .ok_or_else(|| Error::Internal("spill file not open".into()))?;
        writer.write(batch).map_err(|e| Error::write(&self.path, e))?;
        crate::failpoint!("spill::write");
        self.written += 1;
        Ok(self.written - 1)
    }

    /// Moves everything held in memory to the spill file.
    fn spill_all(&mut self) -> Result<()> {
        if let Some(parent) = self.path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        let file = File::create(&self.path).map_err(|e| Error::io(&self.path, e))?;
        let writer =
            FileWriter::try_new(BufWriter::new(file), &RAW).map_err(|e| Error::write(&self.path, e))?;
        self.writer = Some(writer);
        let mut shops = std::mem::take(&mut self.shops);
        for shop in shops.values_mut() {
            for slot in &mut shop.slots {
                if let Slot::Memory(batch) = slot {
                    let batch = batch.clone();
                    *slot = Slot::Disk(self.write(&batch)?);
                }
            }
        }
        self.shops = shops;
        self.rows_in_memory = 0;
        Ok(())
    }

    /// Each shop with the earliest and latest `ts` of its rows (UTC microseconds).
    pub fn time_ranges(&self) -> impl Iterator<Item = (&str, i64, i64)> {
        self.shops
            .iter()
            .filter_map(|(name, shop)| Some((name.as_str(), shop.first_ts?, shop.last_ts?)))
    }

    /// Consecutive runs of shops (in name order) of at most `max_rows` rows each; a
    /// shop larger than that is a unit of its own.
    pub fn units(&self, max_rows: u64) -> Vec<Vec<String>> {
        let mut units: Vec<Vec<String>> = Vec::new();
        let mut rows = 0;
        for (name, shop) in &self.shops {
            if units.is_empty() || (rows + shop.rows > max_rows && rows > 0) {
                units.push(Vec::new());
                rows = 0;
            }
            rows += shop.rows;
            units.last_mut().expect("just pushed").push(name.clone());
        }
        units
    }

    /// Finishes writing; after this, [`ShopBatches::take`] reads units back.
    pub fn finish(&mut self) -> Result<Option<Reader>> {
        match self.writer.take() {
            Some(mut writer) => {
                writer.finish().map_err(|e| Error::write(&self.path, e))?;
                let file = File::open(&self.path).map_err(|e| Error::io(&self.path, e))?;
                Ok(Some(Reader {
                    inner: FileReader::try_new(BufReader::new(file), None)?,
                }))
            }
            None => Ok(None),
        }
    }

    /// The rows of `shops`, handed over (memory is freed as units are taken).
    pub fn take(&mut self, shops: &[String], reader: Option<&mut Reader>) -> Result<Vec<RecordBatch>> {
        let mut reader = reader;
        let mut batches = Vec::new();
        for name in shops {
            let Some(shop) = self.shops.get_mut(name) else {
                continue;
            };
            for slot in std::mem::take(&mut shop.slots) {
                match slot {
                    Slot::Memory(batch) => batches.push(batch),
                    Slot::Disk(index) => {
                        let reader = reader
                            .as_deref_mut()
                            .ok_or_else(|| Error::Internal("spilled rows without a reader".into()))?;
                        batches.push(reader.read(index)?);
                    }
                }
            }
        }
        Ok(batches)
    }
}

/// Reads batches of the spill file by index.
pub struct Reader {
    inner: FileReader<BufReader<File>>,
}

impl Reader {
    fn read(&mut self, index: usize) -> Result<RecordBatch> {
        self.inner.set_index(index)?;
        self.inner
            .next()
            .transpose()?
            .ok_or_else(|| Error::Internal(format!("spill batch {index} missing")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::builder::RawBatchBuilder;
    use crate::ingest::record::{Message, Role};

    fn batch(shops: &[&str]) -> RecordBatch {
        let mut builder = RawBatchBuilder::with_capacity(shops.len(), 64);
        for (i, shop) in shops.iter().enumerate() {
            let msg = Message {
                shop: (*shop).into(),
                channel: "tmall".into(),
                session_id: "s".into(),
                msg_id: format!("m{i}").into(),
                ts_micros: i as i64,
                role: Role::Customer,
                agent_id: None,
                customer_id: None,
                text: "hi".into(),
                msg_type: "text".into(),
            };
            builder.push(&msg, i as u64);
        }
        builder.finish()
    }

    fn shops_of(batches: &[RecordBatch]) -> Vec<String> {
        let mut out: Vec<String> = batches
            .iter()
            .flat_map(|b| {
                b.column(0)
                    .as_string::<i32>()
                    .iter()
                    .flatten()
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn units_are_runs_of_whole_shops_and_spilled_rows_come_back() {
        let dir = tempfile::tempdir().unwrap();
        for memory_rows in [100, 2] {
            let mut all = ShopBatches::new(dir.path().join(format!("spill-{memory_rows}")), memory_rows);
            all.add(&batch(&["b", "a", "c", "a"])).unwrap();
            all.add(&batch(&["c", "d", "a"])).unwrap();
            assert_eq!(all.spilled(), memory_rows == 2);
            assert_eq!(all.rows(), 7);
            // a: 3 rows, b: 1, c: 2, d: 1.
            assert_eq!(
                all.units(2),
                [
                    vec!["a".to_string()],
                    vec!["b".into()],
                    vec!["c".into()],
                    vec!["d".into()]
                ]
            );
            let units = all.units(4);
            assert_eq!(
                units,
                [vec!["a".to_string(), "b".into()], vec!["c".into(), "d".into()]]
            );
            let mut reader = all.finish().unwrap();
            let got: Vec<Vec<String>> = units
                .iter()
                .map(|u| shops_of(&all.take(u, reader.as_mut()).unwrap()))
                .collect();
            assert_eq!(got, [vec!["a", "a", "a", "b"], vec!["c", "c", "d"]]);
        }
    }
}
