//! Human output: aligned tables and value cells, and how rows fit a terminal: a table whose
//! widest cells are cut with `…` to the terminal's width, or, when even that cannot fit, one
//! field per line (`Layout::Line`, as sqlite3's `.mode line` or psql's `\x`).

use fielddb::Value;

/// A value as a table cell: strings bare, everything else as `Value`'s display.
pub fn cell(value: &Value) -> String {
    match value {
        Value::Str(s) => s.to_string(),
        other => other.to_string(),
    }
}

/// An aligned table with a header row and a rule under it.
pub fn table(headers: &[String], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, c) in row.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(c.chars().count());
            }
        }
    }
    let line = |cells: &[String]| -> String {
        let mut out = String::new();
        for (i, w) in widths.iter().enumerate() {
            let c = cells.get(i).map_or("", String::as_str);
            if i + 1 == widths.len() {
                out.push_str(c);
            } else {
                out.push_str(c);
                out.push_str(&" ".repeat(w - c.chars().count() + 2));
            }
        }
        out.trim_end().to_string()
    };
    let mut out = vec![line(headers)];
    out.push(
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("  "),
    );
    out.extend(rows.iter().map(|r| line(r)));
    out.join("\n")
}

/// How rows are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layout {
    /// A table fitted to the width when it is known; one field per line when it cannot fit.
    #[default]
    Auto,
    /// Always a table (fitted to the width when it is known).
    Table,
    /// Always one field per line.
    Line,
}

/// Where rows are shown: the terminal's width (`None` off a terminal: nothing is cut) and the
/// layout asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Display {
    pub width: Option<usize>,
    pub layout: Layout,
}

/// No column is cut narrower than this.
const MIN_COLUMN: usize = 6;

/// Rows as `display` wants them.
pub fn rows(headers: &[String], rows: &[Vec<String>], display: Display) -> String {
    match (display.layout, display.width) {
        (Layout::Line, _) => lines(headers, rows),
        (_, None) => table(headers, rows),
        (Layout::Table, Some(width)) => {
            fitted(headers, rows, width).unwrap_or_else(|| table(headers, rows))
        }
        (Layout::Auto, Some(width)) => {
            fitted(headers, rows, width).unwrap_or_else(|| lines(headers, rows))
        }
    }
}

/// The table with its widest columns cut (cells ending in `…`) until its lines fit `width`;
/// `None` when they cannot without cutting a column below [`MIN_COLUMN`].
fn fitted(headers: &[String], rows: &[Vec<String>], width: usize) -> Option<String> {
    let natural: Vec<usize> = (0..headers.len())
        .map(|i| {
            std::iter::once(&headers[i])
                .chain(rows.iter().filter_map(|r| r.get(i)))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let total =
        |widths: &[usize]| widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1);
    let mut widths = natural.clone();
    while total(&widths) > width {
        let (widest, w) = widths.iter().copied().enumerate().max_by_key(|&(_, w)| w)?;
        if w <= MIN_COLUMN {
            return None;
        }
        widths[widest] = w - 1;
    }
    let cut = |cells: &[String]| -> Vec<String> {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, &w)| {
                if c.chars().count() > w {
                    let mut short: String = c.chars().take(w.saturating_sub(1)).collect();
                    short.push('…');
                    short
                } else {
                    c.clone()
                }
            })
            .collect()
    };
    let rows: Vec<Vec<String>> = rows.iter().map(|r| cut(r)).collect();
    Some(table(&cut(headers), &rows))
}

/// One field per line, each row under a `-[ row N ]-` rule; empty cells are left out.
fn lines(headers: &[String], rows: &[Vec<String>]) -> String {
    let name_width = headers.iter().map(|h| h.chars().count()).max().unwrap_or(0);
    let mut out = Vec::new();
    for (n, row) in rows.iter().enumerate() {
        out.push(format!("-[ row {} ]-", n + 1));
        for (header, value) in headers.iter().zip(row) {
            if !value.is_empty() {
                out.push(format!("{header:name_width$}  {value}"));
            }
        }
    }
    out.join("\n")
}

/// Bytes as B, KiB, MiB, GiB or TiB.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up() {
        let t = table(
            &["key".into(), "age".into()],
            &[
                vec!["ada".into(), "36".into()],
                vec!["grace-h".into(), "".into()],
            ],
        );
        assert_eq!(t, "key      age\n-------  ---\nada      36\ngrace-h");
    }

    fn wide() -> (Vec<String>, Vec<Vec<String>>) {
        (
            vec!["key".into(), "name".into(), "note".into()],
            vec![vec![
                "ada".into(),
                "Ada Lovelace".into(),
                "wrote the first program for the Analytical Engine".into(),
            ]],
        )
    }

    #[test]
    fn a_table_wider_than_the_terminal_is_cut_to_fit_with_ellipses() {
        let (headers, rows) = wide();
        let shown = super::rows(
            &headers,
            &rows,
            Display {
                width: Some(40),
                layout: Layout::Auto,
            },
        );
        assert!(shown.lines().all(|l| l.chars().count() <= 40), "{shown}");
        assert!(
            shown.contains("Ada Lovelace") && shown.contains('…'),
            "{shown}"
        );
        // Off a terminal nothing is cut.
        let whole = super::rows(&headers, &rows, Display::default());
        assert!(whole.contains("Analytical Engine"), "{whole}");
    }

    #[test]
    fn rows_that_cannot_fit_are_shown_one_field_per_line() {
        let (headers, rows) = wide();
        let narrow = Display {
            width: Some(12),
            layout: Layout::Auto,
        };
        let shown = super::rows(&headers, &rows, narrow);
        assert_eq!(
            shown,
            "-[ row 1 ]-\nkey   ada\nname  Ada Lovelace\nnote  wrote the first program for the Analytical Engine"
        );
        let asked = Display {
            width: None,
            layout: Layout::Line,
        };
        assert_eq!(super::rows(&headers, &rows, asked), shown);
    }
}
