//! The JSON and text forms of a query plan (`fielddb::Plan`), shared by the shell's `explain`
//! and the server's `explain`: the index, the part of it walked, the residual conditions and
//! the estimate of the rows the index yields, with where the estimate comes from, and what a
//! covering index holds.

use fielddb::{describe_condition, Covering, Plan, Query, RowEstimate};
use serde_json::{json, Value as Json};

fn condition_text((field, query): &(String, Query)) -> String {
    format!("{field} {}", describe_condition(query))
}

/// Where an estimate comes from, in a word: `counted`, `walked` or `approximate`.
fn estimate_source(estimate: &RowEstimate) -> &'static str {
    match estimate {
        RowEstimate::Counted(_) => "counted",
        RowEstimate::Walked(_) => "walked",
        RowEstimate::Approximate(_) => "approximate",
    }
}

/// What a covering index includes, as JSON: its fields, or `"*"` for the whole record; `None`
/// for a plain index. The shell's `indexes` and `explain` and the server's index views use it.
pub fn include_json(covering: &Covering) -> Option<Json> {
    match covering {
        Covering::Nothing => None,
        Covering::Fields(names) => Some(json!(names)),
        Covering::Record => Some(json!("*")),
    }
}

/// `{"index", "index_conditions", "range", "residual", "estimated_rows", "estimate"}`, and
/// `"include"` (the fields, or `"*"`) when the index is a covering one.
pub fn plan_to_json(plan: &Plan) -> Json {
    let mut out = json!({
        "index": plan.index,
        "index_conditions": plan.index_conditions.iter().map(condition_text).collect::<Vec<_>>(),
        "range": plan.range_text(),
        "residual": plan.residual.iter().map(condition_text).collect::<Vec<_>>(),
        "estimated_rows": plan.estimate.as_ref().map(RowEstimate::rows),
        "estimate": plan.estimate.as_ref().map(estimate_source),
    });
    if let Some(include) = include_json(&plan.covering) {
        out["include"] = include;
    }
    out
}

/// The plan as the shell prints it, one line per part.
pub fn plan_to_text(plan: &Plan) -> String {
    let list = |conditions: &[(String, Query)]| {
        if conditions.is_empty() {
            "none".to_owned()
        } else {
            conditions
                .iter()
                .map(condition_text)
                .collect::<Vec<_>>()
                .join(" and ")
        }
    };
    let estimate = match &plan.estimate {
        Some(RowEstimate::Counted(n)) => format!("{n} rows (exact: the index's counts)"),
        Some(RowEstimate::Walked(n)) => format!("{n} rows (exact: walked the range)"),
        Some(RowEstimate::Approximate(n)) => {
            format!("about {n} rows (from RocksDB's approximate sizes)")
        }
        None => "not estimated".to_owned(),
    };
    let include = match &plan.covering {
        Covering::Nothing => String::new(),
        Covering::Fields(names) => format!(
            "\nincludes  {} (a query asking only for indexed and included fields reads no record)",
            names.join(",")
        ),
        Covering::Record => "\nincludes  the whole record (no record is read)".to_owned(),
    };
    format!(
        "index     {}\nrange     {}  ({})\nresidual  {}\nestimate  {estimate}{include}",
        plan.index,
        plan.range_text(),
        list(&plan.index_conditions),
        list(&plan.residual),
    )
}
