//! `zj_percentile_cont(list, fraction)`: the exact percentile of a list with linear
//! interpolation, as PostgreSQL's `percentile_cont`. DataFusion's own rounds the
//! interpolation weight to 1e-6 (127.899999 for 127.9), and a payroll figure must
//! match what a clerk recomputes in a spreadsheet.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, Float64Builder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Float64Type};
use datafusion::common::{ScalarValue, exec_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

pub const NAME: &str = "zj_percentile_cont";

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PercentileCont {
    signature: Signature,
}

impl PercentileCont {
    pub fn udf() -> ScalarUDF {
        ScalarUDF::new_from_impl(Self {
            signature: Signature::any(2, Volatility::Immutable),
        })
    }
}

/// The `fraction` percentile of `sorted` (ascending): PostgreSQL's formula.
pub fn percentile_cont(sorted: &[f64], fraction: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let position = fraction * last as f64;
    let (below, above) = (position.floor(), position.ceil());
    let low = sorted[below as usize];
    if below == above {
        return Some(low);
    }
    Some(low + (position - below) * (sorted[above as usize] - low))
}

impl ScalarUDFImpl for PercentileCont {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let fraction = match &args.args[1] {
            ColumnarValue::Scalar(value) => match value.cast_to(&DataType::Float64)? {
                ScalarValue::Float64(Some(f)) if (0.0..=1.0).contains(&f) => f,
                _ => return exec_err!("{NAME}: the fraction must be a constant between 0 and 1"),
            },
            ColumnarValue::Array(_) => return exec_err!("{NAME}: the fraction must be a constant"),
        };
        let lists = args.args[0].to_array(args.number_rows)?;
        let float_list = DataType::List(Arc::new(Field::new_list_field(DataType::Float64, true)));
        let lists = cast(&lists, &float_list)?;
        let lists = lists.as_list::<i32>();
        let mut out = Float64Builder::with_capacity(lists.len());
        let mut values = Vec::new();
        for row in 0..lists.len() {
            if lists.is_null(row) {
                out.append_null();
                continue;
            }
            let list = lists.value(row);
            values.clear();
            values.extend(list.as_primitive::<Float64Type>().iter().flatten());
            values.sort_by(f64::total_cmp);
            out.append_option(percentile_cont(&values, fraction));
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_values() {
        // SELECT percentile_cont(0.9) WITHIN GROUP (ORDER BY x) FROM generate_series(1, 10) x; → 9.1
        let one_to_ten: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile_cont(&one_to_ten, 0.9), Some(9.1));
        assert_eq!(percentile_cont(&one_to_ten, 0.5), Some(5.5));
        assert_eq!(percentile_cont(&one_to_ten, 0.0), Some(1.0));
        assert_eq!(percentile_cont(&one_to_ten, 1.0), Some(10.0));
        assert_eq!(percentile_cont(&[42.0], 0.9), Some(42.0));
        assert_eq!(percentile_cont(&[], 0.9), None);
        assert_eq!(percentile_cont(&[100.0, 128.0], 0.9), Some(100.0 + 0.9 * 28.0));
    }
}
