//! `zhijian forecast`: the staffing forecast and shift plan for a peak day.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use super::args::InputArgs;
use crate::forecast::{self, Demand, ForecastOptions, Targets, output};

/// 流量预测与排班: hourly customers, agents needed and the shift plan for a peak day.
///
/// 大促系数 of hour h = distinct customers who opened a round in local hour h of a
/// reference day / distinct customers who opened a round that day (the mean over
/// several --reference days). 当天接待总人数 = --gmv × --cs-share / --aov /
/// --conversion / --presale-share; 每小时客流量 = 总人数 × 系数(h); 每小时所需客服 =
/// ceil(客流量 / 客服每小时接待能力). Without --capacity, the capacity is measured:
/// for every agent and local hour in the reference days' busy hours (hours receiving
/// at least half of the peak hour's customers), the distinct customers whose rounds
/// the agent closed; the 90th percentile (PostgreSQL percentile_cont), rounded down.
///
/// The shift plan is the fewest agents in at most --shifts shifts of --shift-hours
/// hours (starting on the hour; a shift past midnight covers the early hours, as a
/// daily roster does) covering every hour's need. It is solved exactly by exhaustive
/// search over the shifts' start hours with pruning; for each placement a
/// difference-constraint (Bellman-Ford) check finds the least number of agents.
///
/// Prints the table (or CSV with --format csv) and writes OUT/forecast.csv (UTF-8
/// with BOM, CRLF) and OUT/forecast.html (self-contained, with the chart).
/// --backtest D uses day D's actual customers as the day's total and reports the
/// mean absolute error per hour of the forecast against D.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  zhijian forecast --reference 2026-11-11 --shop shop-01 \\
      --gmv 300000 --cs-share 0.6 --aov 300 --conversion 0.35 --presale-share 0.8
  zhijian forecast --input dataset/ --reference 2025-11-11 --reference 2025-06-18 \\
      --gmv 300000 --cs-share 0.6 --aov 300 --conversion 0.35 --presale-share 0.8 \\
      --capacity 12 --shifts 3 --shift-hours 9 --format csv
  zhijian forecast --input gen/ --reference 2026-11-04 --backtest 2026-11-11 --shop S")]
pub struct ForecastArgs {
    #[command(flatten)]
    input: InputArgs,
    /// A reference day (local date, YYYY-MM-DD), e.g. last year's 双11. Repeatable:
    /// the coefficients are the mean of the days'.
    #[arg(long = "reference", value_name = "DATE", required = true)]
    references: Vec<chrono::NaiveDate>,
    /// The shop to forecast (needed when the input holds several).
    #[arg(long, value_name = "SHOP")]
    shop: Option<String>,
    /// 全店销售目标: the day's sales target (yuan).
    #[arg(long, value_name = "N", required_unless_present = "backtest")]
    gmv: Option<f64>,
    /// 客服销售占比: share of sales made through customer service (0..1).
    #[arg(long, value_name = "R", required_unless_present = "backtest")]
    cs_share: Option<f64>,
    /// 客单价: average order value (yuan).
    #[arg(long, value_name = "N", required_unless_present = "backtest")]
    aov: Option<f64>,
    /// 客服转化率: share of inquiring customers who buy (0..1).
    #[arg(long, value_name = "R", required_unless_present = "backtest")]
    conversion: Option<f64>,
    /// 售前询单占比: share of customers received who ask before buying (0..1).
    #[arg(long, value_name = "R", required_unless_present = "backtest")]
    presale_share: Option<f64>,
    /// 客服每小时接待能力: customers one agent receives per hour (measured when absent).
    #[arg(long, value_name = "N")]
    capacity: Option<f64>,
    /// Hours per shift.
    #[arg(long, value_name = "H", default_value_t = 8)]
    shift_hours: u32,
    /// Number of fixed shifts (A/B/C班), 1 to 8.
    #[arg(long, value_name = "N", default_value_t = 3)]
    shifts: usize,
    /// Backtest: take day D's actual customers as the day's total and compare the
    /// forecast hours with D's (mean absolute error per hour).
    #[arg(long, value_name = "DATE", conflicts_with_all = ["gmv", "cs_share", "aov", "conversion", "presale_share"])]
    backtest: Option<chrono::NaiveDate>,
    /// Output on the terminal.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Folder for forecast.csv and forecast.html.
    #[arg(long, short, value_name = "DIR", default_value = "output/forecast")]
    out: PathBuf,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Table,
    /// hour,coefficient,forecast_customers,agents_needed,agents_planned
    Csv,
}

pub fn run(args: ForecastArgs) -> anyhow::Result<ExitCode> {
    let demand = match args.backtest {
        Some(day) => Demand::Actual(day),
        None => Demand::Targets(Targets {
            gmv: args.gmv.unwrap_or_default(),
            cs_share: args.cs_share.unwrap_or_default(),
            aov: args.aov.unwrap_or_default(),
            conversion: args.conversion.unwrap_or_default(),
            presale_share: args.presale_share.unwrap_or_default(),
        }),
    };
    if let Demand::Targets(targets) = &demand {
        targets.check()?;
    }
    let options = ForecastOptions {
        inputs: args.input.input.clone(),
        zones: args.input.zones()?,
        references: args.references,
        shop: args.shop,
        demand,
        capacity: args.capacity,
        shifts: args.shifts,
        shift_hours: args.shift_hours,
    };
    let result = super::runtime()?.block_on(forecast::forecast(&options))?;
    output::write_files(&args.out, &result)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.format {
        Format::Table => output::write_table(&mut out, &result)?,
        Format::Csv => {
            out.write_all(&output::csv_bytes(&result, false)?)?;
            if let Some(backtest) = &result.backtest {
                eprintln!("zhijian: {}", output::backtest_line(backtest));
            }
        }
    }
    out.flush()?;
    eprintln!(
        "zhijian: wrote {} and {}",
        args.out.join("forecast.csv").display(),
        args.out.join("forecast.html").display()
    );
    Ok(ExitCode::SUCCESS)
}
