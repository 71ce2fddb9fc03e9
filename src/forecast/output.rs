//! The forecast for people: a terminal table, CSV (`forecast.csv`: UTF-8 with a
//! BOM and CRLF, so Excel shows the Chinese) and a self-contained `forecast.html`
//! drawn with the reports' own SVG charts and escaping.

use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use super::plan::{HOURS, ShiftPlan};
use super::{CAPACITY_PERCENTILE, Capacity, Demand, Forecast};
use crate::error::{Error, Result};
use crate::report::html::{escape, page, sortable_table};
use crate::report::svg::{self, Series};

/// The CSV columns, exactly.
pub const CSV_HEADER: [&str; 5] = [
    "hour",
    "coefficient",
    "forecast_customers",
    "agents_needed",
    "agents_planned",
];

fn coefficient(c: f64) -> String {
    format!("{c:.6}")
}

fn customers(c: f64) -> String {
    format!("{c:.2}")
}

/// The hourly rows as CSV; `excel` adds the BOM and CRLF line ends.
pub fn csv_bytes(forecast: &Forecast, excel: bool) -> Result<Vec<u8>> {
    let mut bytes = if excel {
        b"\xEF\xBB\xBF".to_vec()
    } else {
        Vec::new()
    };
    {
        let terminator = if excel {
            csv::Terminator::CRLF
        } else {
            csv::Terminator::Any(b'\n')
        };
        let mut writer = csv::WriterBuilder::new()
            .terminator(terminator)
            .from_writer(&mut bytes);
        let fail = |e: csv::Error| Error::Internal(format!("writing CSV to memory: {e}"));
        writer.write_record(CSV_HEADER).map_err(fail)?;
        for hour in 0..HOURS {
            writer
                .write_record([
                    hour.to_string(),
                    coefficient(forecast.coefficients[hour]),
                    customers(forecast.customers[hour]),
                    forecast.needed[hour].to_string(),
                    forecast.plan.cover[hour].to_string(),
                ])
                .map_err(fail)?;
        }
        writer.flush().map_err(|e| Error::Internal(e.to_string()))?;
    }
    Ok(bytes)
}

/// Shift names: A班, B班, ... by start hour.
pub fn shift_name(index: usize) -> String {
    let letter = char::from(b'A' + (index % 26) as u8);
    format!("{letter}班")
}

fn shift_span(start: u32, hours: u32) -> String {
    format!("{:02}:00-{:02}:00", start, (start + hours) % 24)
}

/// How the capacity came about, in a sentence.
pub fn capacity_note(capacity: &Capacity) -> String {
    match capacity {
        Capacity::Given(v) => format!("{v} 人/小时 (--capacity)"),
        Capacity::Measured {
            per_hour,
            percentile_value,
            samples,
        } => format!(
            "{per_hour} 人/小时, 实测: 参考日繁忙时段(接待量 ≥ 峰值小时一半)里每位客服每小时接待的不同顾客数, \
             {samples} 个客服小时的 P{:.0} = {percentile_value:.2}, 向下取整",
            CAPACITY_PERCENTILE * 100.0
        ),
    }
}

fn day_note(forecast: &Forecast) -> String {
    match forecast.demand {
        Demand::Targets(t) => format!(
            "{:.2} = 销售目标 {} × 客服销售占比 {} / 客单价 {} / 客服转化率 {} / 售前询单占比 {}",
            forecast.day_customers, t.gmv, t.cs_share, t.aov, t.conversion, t.presale_share
        ),
        Demand::Actual(day) => format!("{:.0} (回测: {day} 的实际接待人数)", forecast.day_customers),
    }
}

fn references(forecast: &Forecast) -> String {
    let days: Vec<String> = forecast.references.iter().map(|d| d.day.to_string()).collect();
    days.join(", ")
}

/// The terminal table: summary lines, one row per hour, the shifts.
pub fn write_table(out: &mut dyn Write, forecast: &Forecast) -> std::io::Result<()> {
    writeln!(out, "店铺 shop: {}", forecast.shop)?;
    writeln!(out, "参考日 reference days: {}", references(forecast))?;
    writeln!(out, "当天接待总人数 customers: {}", day_note(forecast))?;
    writeln!(
        out,
        "客服每小时接待能力 capacity: {}",
        capacity_note(&forecast.capacity)
    )?;
    let backtest = forecast.backtest.as_ref();
    write!(out, "\n时段 hour  大促系数  预测客流  所需客服  排班人数")?;
    writeln!(
        out,
        "{}",
        if backtest.is_some() {
            "  实际客流  误差"
        } else {
            ""
        }
    )?;
    for hour in 0..HOURS {
        write!(
            out,
            "{:02}:00     {:>8}  {:>8}  {:>8}  {:>8}",
            hour,
            coefficient(forecast.coefficients[hour]),
            format!("{:.1}", forecast.customers[hour]),
            forecast.needed[hour],
            forecast.plan.cover[hour]
        )?;
        match backtest {
            Some(b) => writeln!(out, "  {:>8}  {:>5.1}", b.actual.hourly[hour], b.abs_error[hour])?,
            None => writeln!(out)?,
        }
    }
    writeln!(out, "\n峰值所需客服 peak need: {} 人", forecast.peak_needed())?;
    write_shifts(out, &forecast.plan)?;
    if let Some(b) = backtest {
        writeln!(out, "{}", backtest_line(b))?;
    }
    Ok(())
}

/// The backtest's verdict in one line.
pub fn backtest_line(b: &super::Backtest) -> String {
    format!(
        "回测 backtest {}: 每小时平均绝对误差 MAE {:.3} 位顾客 (customers), {:.3} 位客服 (agents); 实际当天 {} 位顾客",
        b.actual.day, b.mean_abs_error, b.mean_abs_error_agents, b.actual.day_customers
    )
}

fn write_shifts(out: &mut dyn Write, plan: &ShiftPlan) -> std::io::Result<()> {
    writeln!(
        out,
        "排班 shift plan ({} 小时一班, 精确求解): 共 {} 人",
        plan.shift_hours,
        plan.total_agents()
    )?;
    for (i, shift) in plan.shifts.iter().enumerate() {
        writeln!(
            out,
            "  {} {}  {} 人",
            shift_name(i),
            shift_span(shift.start, plan.shift_hours),
            shift.agents
        )?;
    }
    Ok(())
}

/// The self-contained page: figures, the need-against-cover chart, the shifts,
/// the hourly table.
pub fn html(forecast: &Forecast) -> String {
    let mut body = String::new();
    let title = format!("流量预测与排班 · {}", forecast.shop);
    let _ = writeln!(body, "<h1>{}</h1>", escape(&title));
    let _ = writeln!(
        body,
        "<p class=\"sub\">参考日 {}</p>",
        escape(&references(forecast))
    );
    body.push_str("<div class=\"figures\">\n");
    let mut figures = vec![
        ("当天接待总人数", format!("{:.0}", forecast.day_customers)),
        ("客服每小时接待能力", format!("{}", forecast.capacity.per_hour())),
        ("峰值所需客服", forecast.peak_needed().to_string()),
        ("排班总人数", forecast.plan.total_agents().to_string()),
    ];
    if let Some(b) = &forecast.backtest {
        figures.push(("回测每小时平均绝对误差", format!("{:.2}", b.mean_abs_error)));
    }
    for (label, value) in figures {
        let _ = writeln!(
            body,
            "<div class=\"figure\"><div class=\"label\">{}</div><div class=\"value\">{}</div></div>",
            escape(label),
            escape(&value)
        );
    }
    body.push_str("</div>\n");
    let _ = writeln!(body, "<p class=\"note\">{}</p>", escape(&day_note(forecast)));
    let _ = writeln!(
        body,
        "<p class=\"note\">{}</p>",
        escape(&capacity_note(&forecast.capacity))
    );
    body.push_str(&charts(forecast));
    body.push_str(&shift_table(&forecast.plan));
    body.push_str("<h2>每小时明细</h2>\n");
    body.push_str(&hour_table(forecast));
    page(&title, &body)
}

fn charts(forecast: &Forecast) -> String {
    let labels: Vec<String> = (0..HOURS).map(|h| format!("{h:02}")).collect();
    let as_series = |name: &str, values: &[u64; HOURS], bold: bool| Series {
        name: name.to_string(),
        values: values.iter().map(|&v| Some(v as f64)).collect(),
        bold,
    };
    let mut series = vec![
        as_series("所需客服", &forecast.needed, false),
        as_series("排班人数", &forecast.plan.cover, true),
    ];
    if let Some(b) = &forecast.backtest {
        series.push(as_series("实际所需(回测)", &b.actual_needed, false));
    }
    let need = svg::lines("每小时所需客服与排班人数", &labels, &series, "时段(本地时间)");
    let bins: Vec<(String, f64)> = labels
        .iter()
        .zip(forecast.customers)
        .map(|(l, c)| (l.clone(), (c * 10.0).round() / 10.0))
        .collect();
    let load = svg::histogram("每小时预测客流", &bins, "时段(本地时间), 预测接待顾客数");
    format!(
        "<h2>需求与排班</h2>\n<div class=\"charts\">\n<figure>{need}<figcaption>所需客服 = ceil(预测客流 / 接待能力); 排班人数 = 在岗的各班人数之和</figcaption></figure>\n\
         <figure>{load}<figcaption>预测客流 = 当天接待总人数 × 大促系数</figcaption></figure>\n</div>\n"
    )
}

fn shift_table(plan: &ShiftPlan) -> String {
    let rows: Vec<Vec<(String, String)>> = plan
        .shifts
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let span = shift_span(s.start, plan.shift_hours);
            vec![
                (shift_name(i), escape(&shift_name(i))),
                (s.start.to_string(), escape(&span)),
                (s.agents.to_string(), s.agents.to_string()),
            ]
        })
        .collect();
    format!(
        "<h2>排班 (每班 {} 小时, 共 {} 人)</h2>\n{}",
        plan.shift_hours,
        plan.total_agents(),
        sortable_table(&["班次", "时间", "人数"], &rows)
    )
}

fn hour_table(forecast: &Forecast) -> String {
    let mut header = vec!["时段", "大促系数", "预测客流", "所需客服", "排班人数"];
    if forecast.backtest.is_some() {
        header.extend(["实际客流", "绝对误差"]);
    }
    let rows: Vec<Vec<(String, String)>> = (0..HOURS)
        .map(|h| {
            let mut cells = vec![
                (h.to_string(), format!("{h:02}:00")),
                (
                    coefficient(forecast.coefficients[h]),
                    coefficient(forecast.coefficients[h]),
                ),
                (customers(forecast.customers[h]), customers(forecast.customers[h])),
                (forecast.needed[h].to_string(), forecast.needed[h].to_string()),
                (
                    forecast.plan.cover[h].to_string(),
                    forecast.plan.cover[h].to_string(),
                ),
            ];
            if let Some(b) = &forecast.backtest {
                cells.push((b.actual.hourly[h].to_string(), b.actual.hourly[h].to_string()));
                cells.push((customers(b.abs_error[h]), customers(b.abs_error[h])));
            }
            cells
        })
        .collect();
    sortable_table(&header, &rows)
}

/// Writes `forecast.csv` and `forecast.html` into `dir`, each whole or not at all.
pub fn write_files(dir: &Path, forecast: &Forecast) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    write_atomic(&dir.join("forecast.csv"), &csv_bytes(forecast, true)?)?;
    write_atomic(&dir.join("forecast.html"), html(forecast).as_bytes())
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}
