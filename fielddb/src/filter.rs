//! Queries with several conditions: a [`Filter`] is conditions on fields joined by *and*;
//! [`FieldDb::query`] answers it from the best ready index — an equality before a prefix
//! before a range, and among equalities on counted indexes the one with the fewest records —
//! and filters the records it fetches by the other conditions (the residual).
//! [`FieldDb::explain`] shows that plan. A filter no ready index serves is refused, naming the
//! indexes that would serve it; `ScanOptions::filter` scans instead.
//!
//! Results are in the chosen index's (value, key) order; the cursor (`Page::next`) is a
//! position in that index, so it resumes a query only while the plan stays the same.

use crate::db::FieldDb;
use crate::error::{Error, Result};
use crate::index::IndexState;
use crate::query::{index_position, Matcher, Page, Query, QueryOptions};
use crate::record::Record;
use crate::value::Value;

/// Conditions on fields, all of which a record must meet.
///
/// ```
/// use fielddb::Filter;
/// let f = Filter::eq("carrier", "UA").and(Filter::gt("dep_delay", 60));
/// assert_eq!(f.conditions().len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Filter {
    conditions: Vec<(String, Query)>,
}

impl Filter {
    /// `field` meets `query`.
    pub fn on(field: impl Into<String>, query: Query) -> Filter {
        Filter {
            conditions: vec![(field.into(), query)],
        }
    }
    /// `field` equals `v`.
    pub fn eq(field: impl Into<String>, v: impl Into<Value>) -> Filter {
        Filter::on(field, Query::eq(v))
    }
    /// `field` is greater than `v`.
    pub fn gt(field: impl Into<String>, v: impl Into<Value>) -> Filter {
        Filter::on(field, Query::gt(v))
    }
    /// `field` is at least `v`.
    pub fn ge(field: impl Into<String>, v: impl Into<Value>) -> Filter {
        Filter::on(field, Query::ge(v))
    }
    /// `field` is less than `v`.
    pub fn lt(field: impl Into<String>, v: impl Into<Value>) -> Filter {
        Filter::on(field, Query::lt(v))
    }
    /// `field` is at most `v`.
    pub fn le(field: impl Into<String>, v: impl Into<Value>) -> Filter {
        Filter::on(field, Query::le(v))
    }
    /// `field` lies between `lo` and `hi`, both included.
    pub fn between(field: impl Into<String>, lo: impl Into<Value>, hi: impl Into<Value>) -> Filter {
        Filter::on(field, Query::between(lo, hi))
    }
    /// `field` is a string (or bytes) starting with `p`.
    pub fn prefix(field: impl Into<String>, p: impl Into<Value>) -> Filter {
        Filter::on(field, Query::prefix(p))
    }
    /// Both this filter's conditions and `other`'s.
    pub fn and(mut self, other: Filter) -> Filter {
        self.conditions.extend(other.conditions);
        self
    }
    /// The conditions, in the order given.
    pub fn conditions(&self) -> &[(String, Query)] {
        &self.conditions
    }
}

/// How a filter is answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The index walked (its field).
    pub index: String,
    /// The condition the index answers.
    pub condition: Query,
    /// The conditions checked on each record fetched.
    pub residual: Vec<(String, Query)>,
    /// The records the index's condition matches, when known without a walk (an equality on a
    /// counted index).
    pub estimated_rows: Option<u64>,
}

/// An equality first, then a prefix, then a range.
fn rank(query: &Query) -> u8 {
    match query {
        Query::Eq(_) => 0,
        Query::Prefix(_) => 1,
        Query::Range { .. } => 2,
    }
}

impl FieldDb {
    /// The plan [`FieldDb::query`] follows for `filter`.
    pub fn explain(&self, filter: &Filter) -> Result<Plan> {
        if filter.conditions.is_empty() {
            return Err(Error::InvalidArgument(
                "a filter needs at least one condition".into(),
            ));
        }
        let indexes = self.indexes();
        let mut best: Option<(u8, Option<u64>, usize)> = None;
        for (i, (field, query)) in filter.conditions.iter().enumerate() {
            let Some(info) = indexes
                .iter()
                .find(|x| x.field == *field && x.state == IndexState::Ready)
            else {
                continue;
            };
            let estimate = match (info.counted, query) {
                (true, Query::Eq(_)) => Some(self.count_by_index(field, query)?),
                _ => None,
            };
            let candidate = (rank(query), estimate, i);
            let better = match &best {
                None => true,
                Some((r, e, _)) => {
                    candidate.0 < *r
                        || (candidate.0 == *r
                            && matches!((candidate.1, e), (Some(a), Some(b)) if a < *b))
                        || (candidate.0 == *r && candidate.1.is_some() && e.is_none())
                }
            };
            if better {
                best = Some(candidate);
            }
        }
        let Some((_, estimated_rows, chosen)) = best else {
            let fields: Vec<&str> = filter.conditions.iter().map(|(f, _)| f.as_str()).collect();
            let listed: Vec<String> = indexes
                .iter()
                .map(|i| {
                    let state = match i.state {
                        IndexState::Ready => "ready",
                        IndexState::Building { .. } => "building",
                        IndexState::Dropping => "dropping",
                    };
                    format!("{} ({state})", i.field)
                })
                .collect();
            return Err(Error::NoSuchIndex {
                field: fields.join("` or `"),
                indexes: format!(
                    "{}; a ready index on any one of these fields serves the query (`create \
                     index {}`), or scan with the conditions as a filter",
                    if listed.is_empty() {
                        "none".to_owned()
                    } else {
                        listed.join(", ")
                    },
                    fields[0]
                ),
            });
        };
        let (index, condition) = filter.conditions[chosen].clone();
        let residual = filter
            .conditions
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != chosen)
            .map(|(_, c)| c.clone())
            .collect();
        Ok(Plan {
            index,
            condition,
            residual,
            estimated_rows,
        })
    }

    /// The records that meet every condition of `filter`, a page at a time, from the best ready
    /// index (see [`FieldDb::explain`]), in its (value, key) order.
    pub fn query(
        &self,
        filter: &Filter,
        options: &QueryOptions,
    ) -> Result<Page<(Vec<u8>, Record)>> {
        let plan = self.explain(filter)?;
        let residual: Vec<(&str, Matcher)> = plan
            .residual
            .iter()
            .map(|(field, query)| Ok((field.as_str(), query.matcher()?)))
            .collect::<Result<_>>()?;
        // A record without a field does not meet a condition on it.
        let meets = |record: &Record| {
            residual
                .iter()
                .all(|(field, m)| record.get(field).is_some_and(|v| m.matches(v)))
        };
        let limit = options.limit.unwrap_or(usize::MAX);
        if limit == 0 {
            return Ok(Page {
                rows: Vec::new(),
                next: options.start_after.clone(),
            });
        }
        let chunk = limit.clamp(64, 4096);
        let mut cursor = options.start_after.clone();
        let mut rows = Vec::new();
        loop {
            let mut walk = QueryOptions::new().reverse(options.reverse).limit(chunk);
            if let Some(c) = &cursor {
                walk = walk.start_after(c.clone());
            }
            let page = self.query_by_index(&plan.index, &plan.condition, &walk)?;
            for (key, record) in page.rows {
                let Some(value) = record.get(&plan.index) else {
                    return Err(Error::Corruption(format!(
                        "the index on `{}` answered a record without the field",
                        plan.index
                    )));
                };
                let position = index_position(value, &key);
                if meets(&record) {
                    rows.push((key, record));
                    if rows.len() == limit {
                        return Ok(Page {
                            rows,
                            next: Some(position),
                        });
                    }
                }
                cursor = Some(position);
            }
            if page.next.is_none() {
                return Ok(Page { rows, next: None });
            }
        }
    }
}
