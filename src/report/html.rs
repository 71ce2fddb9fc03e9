//! HTML text: escaping (every value from the data goes through [`escape`]) and the
//! page around the content: inline CSS, system fonts, one small inline script
//! that sorts tables, nothing fetched from the network.

use std::fmt::Write as _;

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
:root { --ink: #1f2933; --muted: #616e7c; --line: #d9e2ec; --accent: #2f6fde; --bad: #c92a2a; --warn: #e67700; --ok: #2b8a3e; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1180px; padding: 24px; color: var(--ink);
  font: 14px/1.5 -apple-system, "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", sans-serif; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 10px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.sub { color: var(--muted); margin: 0 0 16px; }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px; }
.figure { border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }
.figure .label { color: var(--muted); font-size: 12px; } .figure .value { font-size: 22px; font-weight: 600; }
.delta { font-size: 12px; } .delta.up { color: var(--ok); } .delta.down { color: var(--bad); } .delta.flat { color: var(--muted); }
.delta.up.worse { color: var(--bad); } .delta.down.worse { color: var(--ok); }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 6px; text-align: right; white-space: nowrap; }
th:nth-child(-n+2), td:nth-child(-n+2) { text-align: left; }
table.sortable th { cursor: pointer; user-select: none; background: #f5f7fa; position: sticky; top: 0; }
table.sortable th[data-order="asc"]::after { content: " ▲"; } table.sortable th[data-order="desc"]::after { content: " ▼"; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 16px; }
figure { margin: 0; } figcaption { color: var(--muted); font-size: 12px; margin-top: 2px; }
svg.chart { display: block; max-width: 100%; height: auto; font-size: 11px; }
svg.chart text { fill: var(--ink); } svg.chart .axis { stroke: var(--line); }
.conversation { border: 1px solid var(--line); border-radius: 6px; margin: 10px 0; padding: 8px 12px; }
.conversation h3 { font-size: 14px; margin: 0 0 6px; }
.hit { color: var(--bad); }
ol.transcript { list-style: none; padding: 0; margin: 6px 0 0; font-size: 13px; }
ol.transcript li { padding: 1px 4px; } ol.transcript li.evidence { background: #fff3bf; border-left: 3px solid var(--warn); }
ol.transcript .who { color: var(--muted); display: inline-block; min-width: 15em; }
.note { color: var(--muted); font-size: 12px; }
"#;

/// Sorts a table by the clicked column (numbers as numbers, text in Chinese
/// collation), and records the drawn size of every chart on `<body>` so that a
/// headless browser can check the page rendered.
const SCRIPT: &str = r#"
document.querySelectorAll("table.sortable th").forEach(function (th, column) {
  th.addEventListener("click", function () {
    var table = th.closest("table"), body = table.tBodies[0];
    var ascending = th.dataset.order !== "asc";
    var key = function (row) { var cell = row.cells[column]; return cell.dataset.v !== undefined ? cell.dataset.v : cell.textContent; };
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a), y = key(b), nx = parseFloat(x), ny = parseFloat(y);
      var order = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : (isNaN(nx) === isNaN(ny) ? x.localeCompare(y, "zh") : (isNaN(nx) ? 1 : -1));
      return ascending ? order : -order;
    });
    table.querySelectorAll("th").forEach(function (h) { delete h.dataset.order; });
    th.dataset.order = ascending ? "asc" : "desc";
    rows.forEach(function (row) { body.appendChild(row); });
  });
});
document.body.dataset.charts = Array.prototype.map.call(document.querySelectorAll("svg.chart"), function (svg) {
  var box = svg.getBoundingClientRect(); return Math.round(box.width) + "x" + Math.round(box.height);
}).join(" ");
"#;

/// A whole page: `title` (escaped here) and `body` (already HTML).
pub fn page(title: &str, body: &str) -> String {
    let mut out = String::with_capacity(body.len() + STYLE.len() + SCRIPT.len() + 512);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}\n<script>{SCRIPT}</script>\n</body>\n</html>\n",
        escape(title)
    );
    out
}

/// A number for people: `decimals` places, or `—` when missing.
pub fn number(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "—".to_string(), |v| format!("{v:.decimals$}"))
}

/// A share as a percentage.
pub fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_string(), |v| format!("{:.1} %", v * 100.0))
}

/// A sortable table: `header` names, rows of (sort key, shown HTML) cells.
pub fn sortable_table(header: &[&str], rows: &[Vec<(String, String)>]) -> String {
    let mut out = String::from("<table class=\"sortable\">\n<thead><tr>");
    for h in header {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        out.push_str("<tr>");
        for (key, shown) in row {
            let _ = write!(out, "<td data-v=\"{}\">{shown}</td>", escape(key));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_data_is_text() {
        assert_eq!(
            escape("<script>alert('x')</script></td>&"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&lt;/td&gt;&amp;"
        );
        let html = sortable_table(&["<b>"], &[vec![("\"".into(), escape("</td>"))]]);
        assert!(
            html.contains("<th>&lt;b&gt;</th>") && html.contains("data-v=\"&quot;\">&lt;/td&gt;</td>"),
            "{html}"
        );
    }

    #[test]
    fn a_page_fetches_nothing() {
        let html = page("日报 <x>", "<p>内容</p>");
        assert!(html.contains("<meta charset=\"utf-8\">") && html.contains("<title>日报 &lt;x&gt;</title>"));
        assert!(!html.contains("http://") && !html.contains("https://") && !html.contains(" src="));
    }
}
