//! Reading query results: every column is found by its name, never by its
//! position, so reordering a SELECT can never swap two figures; and every Arrow
//! type a plan may hand back for a column is accepted (`Utf8`, `LargeUtf8` and
//! `Utf8View` for text, any integer width, decimals and floats for numbers).

use chrono::NaiveDate;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Date32Array, Float64Array, Int64Array, RecordBatch, StringArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Date32Type, Float64Type, Int64Type, SchemaRef};

use crate::error::{Error, Result};

/// The columns of one result batch, by name.
pub struct Columns<'a> {
    batch: &'a RecordBatch,
}

/// The columns of `batch`.
pub fn columns(batch: &RecordBatch) -> Columns<'_> {
    Columns { batch }
}

impl Columns<'_> {
    pub fn rows(&self) -> usize {
        self.batch.num_rows()
    }

    fn get(&self, name: &str) -> Result<&ArrayRef> {
        let schema = self.batch.schema();
        match schema.index_of(name) {
            Ok(index) => Ok(self.batch.column(index)),
            Err(_) => {
                let have: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
                Err(Error::Internal(format!(
                    "a query result has no column {name:?} (it has {})",
                    have.join(", ")
                )))
            }
        }
    }

    fn cast(&self, name: &str, to: &DataType) -> Result<ArrayRef> {
        let column = self.get(name)?;
        if column.data_type() == to {
            return Ok(column.clone());
        }
        cast(column, to).map_err(|e| Error::Internal(format!("column {name:?}: {e}")))
    }

    pub fn text(&self, name: &str) -> Result<TextColumn> {
        Ok(TextColumn(
            self.cast(name, &DataType::Utf8)?.as_string::<i32>().clone(),
        ))
    }

    pub fn int(&self, name: &str) -> Result<IntColumn> {
        Ok(IntColumn(
            self.cast(name, &DataType::Int64)?
                .as_primitive::<Int64Type>()
                .clone(),
        ))
    }

    pub fn float(&self, name: &str) -> Result<FloatColumn> {
        Ok(FloatColumn(
            self.cast(name, &DataType::Float64)?
                .as_primitive::<Float64Type>()
                .clone(),
        ))
    }

    pub fn date(&self, name: &str) -> Result<DateColumn> {
        Ok(DateColumn(self.date_array(name)?))
    }

    /// A date column as Arrow's days since 1970.
    pub fn date_array(&self, name: &str) -> Result<Date32Array> {
        Ok(self
            .cast(name, &DataType::Date32)?
            .as_primitive::<Date32Type>()
            .clone())
    }

    /// A column of lists of text (`msg_ids`, the phrases found).
    pub fn text_list(&self, name: &str) -> Result<TextListColumn> {
        let column = self.get(name)?;
        let list = match column.data_type() {
            DataType::List(_) => column.as_list::<i32>().clone(),
            DataType::LargeList(_) | DataType::ListView(_) | DataType::FixedSizeList(..) => {
                let to = DataType::List(std::sync::Arc::new(
                    datafusion::arrow::datatypes::Field::new_list_field(DataType::Utf8, true),
                ));
                self.cast(name, &to)?.as_list::<i32>().clone()
            }
            other => {
                return Err(Error::Internal(format!("column {name:?} is {other}, not a list")));
            }
        };
        Ok(TextListColumn(list))
    }
}

/// `batch` as a table of `schema`: its columns picked by name and cast to the
/// schema's types (a plan may hand back string views, other integer widths or
/// looser nullability); a column the schema says is never null must not be.
pub fn conform(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    let columns = columns(batch);
    let picked = schema
        .fields()
        .iter()
        .map(|field| {
            let column = columns.cast(field.name(), field.data_type())?;
            if !field.is_nullable() && column.null_count() > 0 {
                return Err(Error::Internal(format!(
                    "column {} of a published table has nulls",
                    field.name()
                )));
            }
            Ok(column)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(RecordBatch::try_new(schema.clone(), picked)?)
}

pub struct TextColumn(StringArray);

impl TextColumn {
    pub fn get(&self, row: usize) -> Option<&str> {
        (!self.0.is_null(row)).then(|| self.0.value(row))
    }

    /// The text, or "" for null.
    pub fn or_empty(&self, row: usize) -> &str {
        self.get(row).unwrap_or("")
    }
}

pub struct IntColumn(Int64Array);

impl IntColumn {
    pub fn get(&self, row: usize) -> Option<i64> {
        (!self.0.is_null(row)).then(|| self.0.value(row))
    }

    /// A count: null is 0.
    pub fn count(&self, row: usize) -> u64 {
        self.get(row).map_or(0, |v| v.max(0) as u64)
    }
}

pub struct FloatColumn(Float64Array);

impl FloatColumn {
    pub fn get(&self, row: usize) -> Option<f64> {
        (!self.0.is_null(row)).then(|| self.0.value(row))
    }
}

pub struct DateColumn(Date32Array);

impl DateColumn {
    pub fn get(&self, row: usize) -> Option<NaiveDate> {
        if self.0.is_null(row) {
            return None;
        }
        self.0.value_as_date(row)
    }
}

pub struct TextListColumn(datafusion::arrow::array::ListArray);

impl TextListColumn {
    /// The texts of one row's list (null entries left out); empty for a null list.
    pub fn get(&self, row: usize) -> Vec<String> {
        if self.0.is_null(row) {
            return Vec::new();
        }
        let values = self.0.value(row);
        let Ok(values) = cast(&values, &DataType::Utf8) else {
            return Vec::new();
        };
        values
            .as_string::<i32>()
            .iter()
            .flatten()
            .map(str::to_string)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn result(sql: &str) -> Vec<RecordBatch> {
        let ctx = datafusion::prelude::SessionContext::new();
        ctx.sql(sql).await.unwrap().collect().await.unwrap()
    }

    #[tokio::test]
    async fn columns_are_read_by_name_whatever_their_type() {
        for text_type in ["Utf8", "LargeUtf8", "Utf8View"] {
            let batches = result(&format!(
                "SELECT arrow_cast('甲', '{text_type}') AS who, CAST(3 AS TINYINT) AS n, \
                 CAST(1.25 AS DECIMAL(10, 2)) AS x, DATE '2026-11-11' AS day, \
                 CAST(NULL AS VARCHAR) AS missing, make_array('a', 'b') AS ids"
            ))
            .await;
            let c = columns(&batches[0]);
            assert_eq!(c.text("who").unwrap().get(0), Some("甲"), "{text_type}");
            assert_eq!(c.int("n").unwrap().get(0), Some(3));
            assert_eq!(c.float("x").unwrap().get(0), Some(1.25));
            assert_eq!(
                c.date("day").unwrap().get(0),
                NaiveDate::from_ymd_opt(2026, 11, 11)
            );
            assert_eq!(c.text("missing").unwrap().get(0), None);
            assert_eq!(c.text_list("ids").unwrap().get(0), ["a", "b"]);
        }
    }

    #[tokio::test]
    async fn a_missing_column_is_named() {
        let batches = result("SELECT 1 AS one").await;
        let err = columns(&batches[0]).int("two").err().unwrap().to_string();
        assert!(err.contains("\"two\"") && err.contains("one"), "{err}");
    }
}
