//! Staffing forecast (流量预测与排班) for a peak day, the way shops plan 双11:
//!
//! - 大促系数 of hour h = customers received in h / customers received that day,
//!   on a reference day (the mean over several), from the `rounds` view
//!   ([`history`], SQL);
//! - 当天接待总人数 from the sales target ([`demand`]), 每小时客流量 = that × 系数,
//!   每小时所需客服 = ceil(客流量 / 客服每小时接待能力);
//! - the fewest agents in fixed shifts covering every hour ([`plan`], exact);
//! - a table, `forecast.csv` and `forecast.html` ([`output`]).
//!
//! With `backtest`, the day's customers are the actual ones of a later day, and the
//! forecast hours are compared with that day's.

pub mod demand;
pub mod history;
pub mod output;
pub mod plan;
pub mod reference;

use std::path::PathBuf;

use chrono::NaiveDate;

use crate::error::{Error, Result};
use crate::timezone::TimeZones;
pub use demand::Targets;
use history::DayLoad;
use plan::{HOURS, ShiftPlan};

/// Capacity is measured as this percentile of the agent-hours of busy hours.
pub const CAPACITY_PERCENTILE: f64 = 0.9;

/// Where the day's customers come from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Demand {
    /// The sales target and its ratios.
    Targets(Targets),
    /// The actual customers of this day (a backtest).
    Actual(NaiveDate),
}

#[derive(Debug, Clone)]
pub struct ForecastOptions {
    pub inputs: Vec<PathBuf>,
    pub zones: TimeZones,
    pub references: Vec<NaiveDate>,
    pub shop: Option<String>,
    pub demand: Demand,
    /// Customers one agent receives per hour; measured when `None`.
    pub capacity: Option<f64>,
    pub shifts: usize,
    pub shift_hours: u32,
}

/// 客服每小时接待能力 and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub enum Capacity {
    Given(f64),
    /// The [`CAPACITY_PERCENTILE`] of `samples` agent-hours, rounded down.
    Measured {
        per_hour: f64,
        percentile_value: f64,
        samples: usize,
    },
}

impl Capacity {
    pub fn per_hour(&self) -> f64 {
        match self {
            Capacity::Given(v) => *v,
            Capacity::Measured { per_hour, .. } => *per_hour,
        }
    }
}

/// The forecast day compared with what happened.
#[derive(Debug, Clone, PartialEq)]
pub struct Backtest {
    pub actual: DayLoad,
    /// |forecast − actual| customers per hour.
    pub abs_error: [f64; HOURS],
    pub mean_abs_error: f64,
    /// Agents the actual customers needed, per hour.
    pub actual_needed: [u64; HOURS],
    pub mean_abs_error_agents: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Forecast {
    pub shop: String,
    pub references: Vec<DayLoad>,
    pub demand: Demand,
    pub coefficients: [f64; HOURS],
    pub day_customers: f64,
    pub customers: [f64; HOURS],
    pub needed: [u64; HOURS],
    pub capacity: Capacity,
    pub plan: ShiftPlan,
    pub backtest: Option<Backtest>,
}

impl Forecast {
    /// The day needs the peak hour's count.
    pub fn peak_needed(&self) -> u64 {
        self.needed.iter().copied().max().unwrap_or(0)
    }
}

/// Reads the reference days (and the backtest day) and makes the forecast.
pub async fn forecast(options: &ForecastOptions) -> Result<Forecast> {
    let mut days: Vec<NaiveDate> = options.references.clone();
    days.sort();
    days.dedup();
    if days.is_empty() {
        return Err(Error::Usage("give at least one --reference day".into()));
    }
    let mut shop = options.shop.clone();
    let mut references = Vec::new();
    let mut samples = Vec::new();
    for &day in &days {
        let loaded = reference::load_day(&options.inputs, &options.zones, day).await?;
        let name = match &shop {
            Some(name) => name.clone(),
            None => pick_shop(&history::shops(&loaded.ctx, day).await?, day)?,
        };
        let load = history::day_load(&loaded.ctx, &name, day).await?;
        if load.day_customers == 0 {
            let known = history::shops(&loaded.ctx, day).await?;
            return Err(no_rounds(&name, day, &known));
        }
        samples.extend(history::agent_hours(&loaded.ctx, &name, day).await?);
        references.push(load);
        shop = Some(name);
    }
    let shop = shop.expect("set by the first day");
    let backtest_day = match options.demand {
        Demand::Actual(day) => {
            let loaded = reference::load_day(&options.inputs, &options.zones, day).await?;
            Some(history::day_load(&loaded.ctx, &shop, day).await?)
        }
        Demand::Targets(_) => None,
    };
    let capacity = match options.capacity {
        Some(v) if v.is_finite() && v > 0.0 => Capacity::Given(v),
        Some(v) => return Err(Error::Usage(format!("--capacity {v}: must be a number above 0"))),
        None => measure_capacity(samples, &days)?,
    };
    compute(shop, references, options, capacity, backtest_day)
}

/// The arithmetic once the days are read: coefficients, customers, agents, plan.
fn compute(
    shop: String,
    references: Vec<DayLoad>,
    options: &ForecastOptions,
    capacity: Capacity,
    backtest_day: Option<DayLoad>,
) -> Result<Forecast> {
    let coefficients = mean_coefficients(&references);
    let day_customers = match (&options.demand, &backtest_day) {
        (Demand::Targets(t), _) => {
            t.check()?;
            t.day_customers()
        }
        (Demand::Actual(_), Some(actual)) if actual.day_customers > 0 => actual.day_customers as f64,
        (Demand::Actual(day), _) => return Err(no_rounds(&shop, *day, &[])),
    };
    let per_hour = capacity.per_hour();
    let customers = coefficients.map(|c| day_customers * c);
    let needed = customers.map(|c| demand::agents_needed(c, per_hour));
    let plan =
        plan::solve(&needed, options.shifts, options.shift_hours).map_err(|e| Error::Usage(e.to_string()))?;
    let backtest = backtest_day.map(|actual| {
        let abs_error: [f64; HOURS] = std::array::from_fn(|h| (customers[h] - actual.hourly[h] as f64).abs());
        let actual_needed = actual.hourly.map(|n| demand::agents_needed(n as f64, per_hour));
        let agents_error: f64 = (0..HOURS)
            .map(|h| needed[h].abs_diff(actual_needed[h]) as f64)
            .sum();
        Backtest {
            mean_abs_error: abs_error.iter().sum::<f64>() / HOURS as f64,
            abs_error,
            actual_needed,
            mean_abs_error_agents: agents_error / HOURS as f64,
            actual,
        }
    });
    Ok(Forecast {
        shop,
        references,
        demand: options.demand,
        coefficients,
        day_customers,
        customers,
        needed,
        capacity,
        plan,
        backtest,
    })
}

/// The mean over the days of each hour's coefficient, summed in date order.
pub fn mean_coefficients(days: &[DayLoad]) -> [f64; HOURS] {
    let mut sum = [0.0; HOURS];
    for day in days {
        for (s, c) in sum.iter_mut().zip(day.coefficients()) {
            *s += c;
        }
    }
    sum.map(|s| s / days.len().max(1) as f64)
}

fn measure_capacity(mut samples: Vec<u64>, days: &[NaiveDate]) -> Result<Capacity> {
    samples.sort_unstable();
    let values: Vec<f64> = samples.iter().map(|&n| n as f64).collect();
    let value = crate::score::percentile::percentile_cont(&values, CAPACITY_PERCENTILE).ok_or_else(|| {
        Error::Usage(format!(
            "no agent closed a round in the busy hours of {}: capacity cannot be measured; pass --capacity N (customers per agent and hour)",
            list(days)
        ))
    })?;
    Ok(Capacity::Measured {
        per_hour: value.floor().max(1.0),
        percentile_value: value,
        samples: values.len(),
    })
}

fn list(days: &[NaiveDate]) -> String {
    days.iter()
        .map(NaiveDate::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn pick_shop(shops: &[String], day: NaiveDate) -> Result<String> {
    match shops {
        [one] => Ok(one.clone()),
        [] => Err(Error::Usage(format!(
            "no rounds were opened on {day} in the input: check --reference and --input"
        ))),
        many => Err(Error::Usage(format!(
            "the input holds {} shops on {day}; forecast one with --shop (one of: {})",
            many.len(),
            many.join(", ")
        ))),
    }
}

fn no_rounds(shop: &str, day: NaiveDate, known: &[String]) -> Error {
    let hint = if known.is_empty() {
        String::new()
    } else {
        format!(" (shops that day: {})", known.join(", "))
    };
    Error::Usage(format!(
        "shop {shop:?} has no rounds opened on {day} in the input{hint}: check --shop, --reference and --input"
    ))
}
