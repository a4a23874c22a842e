//! `docs/benchmarks.png`: the FieldDB/peer ratios of every table row as horizontal bars on a
//! log scale, starting from the line at 1.0 (right of it FieldDB is better, left of it worse).
//! Drawn with plotters' bitmap backend; text uses DejaVu Sans from the `dejavu` crate through
//! plotters' `ab_glyph` feature, so no system font or fontconfig is needed.

use std::collections::BTreeMap;
use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::report::{ratio, rows, value, EngineResult, ENGINES};
use crate::workload::Result;

const FONT: &str = "sans-serif";
const COLOURS: [RGBColor; 3] = [
    RGBColor(230, 126, 34),
    RGBColor(52, 101, 164),
    RGBColor(46, 160, 67),
];

pub fn draw(path: &Path, results: &BTreeMap<String, EngineResult>) -> Result<()> {
    plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular())
        .map_err(|_| "DejaVu Sans did not load")?;
    let peers: Vec<(&str, &str)> = ENGINES
        .iter()
        .copied()
        .skip(1)
        .filter(|(id, _)| results.contains_key(*id))
        .collect();
    let table = rows(results);
    // (label, one ratio per peer)
    let data: Vec<(String, Vec<Option<f64>>)> = table
        .iter()
        .map(|row| {
            let ratios = peers
                .iter()
                .map(|(id, _)| {
                    let f = value(results, "fielddb", row.key)?;
                    ratio(row, f, value(results, id, row.key)?)
                })
                .collect();
            (row.label.clone(), ratios)
        })
        .collect();
    let all: Vec<f64> = data
        .iter()
        .flat_map(|(_, r)| r.iter().flatten())
        .copied()
        .collect();
    let lo = all.iter().copied().fold(1.0f64, f64::min);
    let hi = all.iter().copied().fold(1.0f64, f64::max);
    let lo = 10f64.powf((lo / 1.3).log10().floor()).min(0.1);
    let hi = 10f64.powf((hi * 1.3).log10().ceil()).max(10.0);

    let n = data.len();
    let group = (peers.len().max(1) * 16 + 14) as u32;
    let (width, height) = (1500u32, 140 + group * n as u32);
    let root = BitMapBackend::new(path, (width, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "FieldDB / peer, per workload (log scale; right of 1.0: FieldDB better)",
            (FONT, 26),
        )
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(430)
        .build_cartesian_2d((lo..hi).log_scale(), -0.5f64..(n as f64 - 0.5))?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .x_label_formatter(&|x| {
            if *x >= 1.0 {
                format!("{x:.0}×")
            } else {
                format!("{x}×")
            }
        })
        .x_label_style((FONT, 16))
        .x_desc("FieldDB's advantage (times); for throughput FieldDB/peer, for time, latency and memory peer/FieldDB")
        .axis_desc_style((FONT, 16))
        .draw()?;

    // Row bands and labels; row 0 at the top.
    let y_of = |i: usize| (n - 1 - i) as f64;
    let plot = chart.plotting_area();
    for (i, (label, _)) in data.iter().enumerate() {
        let y = y_of(i);
        if i % 2 == 0 {
            plot.draw(&Rectangle::new(
                [(lo, y - 0.5), (hi, y + 0.5)],
                RGBColor(243, 243, 243).filled(),
            ))?;
        }
        let (px, py) = chart.backend_coord(&(lo, y));
        root.draw(&Text::new(
            label.clone(),
            (px - 10, py),
            (FONT, 16)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Right, VPos::Center)),
        ))?;
    }

    let k = peers.len().max(1) as f64;
    let bar = 0.8 / k;
    for (j, (_, name)) in peers.iter().enumerate() {
        let colour = COLOURS[j % COLOURS.len()];
        let offset = (j as f64 - (k - 1.0) / 2.0) * bar;
        let bars: Vec<(f64, f64)> = data
            .iter()
            .enumerate()
            .filter_map(|(i, (_, r))| r[j].map(|r| (y_of(i) - offset, r)))
            .collect();
        chart
            .draw_series(bars.iter().map(|&(y, r)| {
                Rectangle::new(
                    [(r.min(1.0), y - bar * 0.45), (r.max(1.0), y + bar * 0.45)],
                    colour.filled(),
                )
            }))?
            .label(format!("FieldDB / {name}"))
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 18, y + 6)], colour.filled()));
        for &(y, r) in &bars {
            let text = if r >= 10.0 {
                format!("{r:.0}×")
            } else {
                format!("{r:.2}×")
            };
            let (px, py) = chart.backend_coord(&(r, y));
            let (dx, h) = if r >= 1.0 {
                (5, HPos::Left)
            } else {
                (-5, HPos::Right)
            };
            root.draw(&Text::new(
                text,
                (px + dx, py),
                (FONT, 12)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(h, VPos::Center)),
            ))?;
        }
    }
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(1.0, -0.5), (1.0, n as f64 - 0.5)],
        BLACK.stroke_width(2),
    )))?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .label_font((FONT, 16))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
