//! Markdown output, and `docs/performance.md`, where each part of the bench
//! owns one section between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`,
//! replaced in place on each run so the other parts' figures stay.

use std::path::Path;

use crate::BoxError;

/// A Markdown table, built row by row.
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Self {
        Self {
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; a `|` or a line break inside a cell is escaped so it
    /// cannot break the table.
    pub fn row(&mut self, cells: Vec<String>) {
        let escape = |cell: String| cell.replace('|', "\\|").replace(['\n', '\r'], " ");
        self.rows.push(cells.into_iter().map(escape).collect());
    }

    /// Text columns left-aligned, the rest (figures) right-aligned.
    pub fn render(&self, text_columns: usize) -> String {
        let line = |cells: &[String]| format!("| {} |\n", cells.join(" | "));
        let mut out = line(&self.header);
        let rule: Vec<String> = (0..self.header.len())
            .map(|i| if i < text_columns { "---".into() } else { "---:".into() })
            .collect();
        out.push_str(&line(&rule));
        for row in &self.rows {
            out.push_str(&line(row));
        }
        out
    }
}

/// A figure with `decimals` places, or a dash where there is none.
pub fn figure(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "–".into(), |v| format!("{v:.decimals$}"))
}

/// A ratio such as `3.20×`, or a dash.
pub fn times(value: Option<f64>) -> String {
    value.map_or_else(|| "–".into(), |v| format!("{v:.2}×"))
}

/// Where and when the figures were taken, and by which command: they only
/// compare with figures of the same machine.
pub fn provenance(command: &str) -> String {
    let date = time::OffsetDateTime::now_utc()
        .format(time::macros::format_description!(
            "[year]-[month]-[day] [hour]:[minute] UTC"
        ))
        .unwrap_or_default();
    let arch = std::process::Command::new("uname")
        .arg("-m")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|line| line.starts_with("model name"))
        .and_then(|line| line.split_once(':'))
        .map_or("unknown CPU", |(_, model)| model.trim());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("Measured {date} on {arch}, {cpu}, {cores} cores, with `{command}`.\n")
}

/// Replaces (or appends) section `name` of the Markdown file at `path`,
/// creating the file with a title if it does not exist.
pub fn write_section(path: &Path, name: &str, body: &str) -> Result<(), BoxError> {
    let existing = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => NEW_FILE.to_owned(),
        Err(err) => return Err(err.into()),
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, replace_section(&existing, name, body)?)?;
    Ok(())
}

const NEW_FILE: &str = "# Performance\n\n\
Figures from `make bench` (the `shop-bench` crate under `bench/`). Each section is \
rewritten by the part of the bench that owns it; edit outside the `<!-- bench:… -->` \
markers only.\n";

/// `text` with the section between the markers of `name` set to `body`.
pub fn replace_section(text: &str, name: &str, body: &str) -> Result<String, BoxError> {
    let open = format!("<!-- bench:{name} -->");
    let close = format!("<!-- /bench:{name} -->");
    let section = format!("{open}\n{}\n{close}", body.trim_end());
    match (text.find(&open), text.find(&close)) {
        (Some(start), Some(end)) if start < end => {
            Ok(format!("{}{section}{}", &text[..start], &text[end + close.len()..]))
        }
        (None, None) => Ok(format!("{}\n\n{section}\n", text.trim_end())),
        _ => Err(format!("{open} and {close} are not a pair in docs/performance.md").into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_section_is_appended_then_replaced_in_place() {
        let first = replace_section("# Title\n", "size", "one").expect("appends");
        assert_eq!(first, "# Title\n\n<!-- bench:size -->\none\n<!-- /bench:size -->\n");
        let with_other = format!("{first}\nafter\n");
        let second = replace_section(&with_other, "size", "two\n").expect("replaces");
        assert_eq!(
            second,
            "# Title\n\n<!-- bench:size -->\ntwo\n<!-- /bench:size -->\n\nafter\n"
        );
    }

    #[test]
    fn a_lone_marker_is_an_error() {
        assert!(replace_section("<!-- bench:size -->\n", "size", "x").is_err());
    }

    #[test]
    fn tables_align_figures_right() {
        let mut table = Table::new(&["name", "ms"]);
        table.row(vec!["a".into(), figure(Some(1.234), 2)]);
        table.row(vec!["b".into(), figure(None, 2)]);
        assert_eq!(
            table.render(1),
            "| name | ms |\n| --- | ---: |\n| a | 1.23 |\n| b | – |\n"
        );
    }
}
