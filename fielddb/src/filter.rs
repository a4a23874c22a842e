//! Queries with several conditions: a [`Filter`] is conditions on fields joined by *and*;
//! [`FieldDb::query`] answers it from the best ready index and filters the records it fetches
//! by the other conditions (the residual). An index serves the equalities on a leading run of
//! its fields, then at most one prefix or range on the next field; a compound index serves
//! only a filter with a condition on each of its fields (a record lacking one of them has no
//! entry, and meets no condition on it either). The best index serves the most
//! equalities, then a prefix before a range before nothing more, then (among counted indexes
//! fixed whole by equalities) the fewest records, then the fewest fields.
//! [`FieldDb::explain`] shows that plan with an estimate of the rows the index yields. A filter
//! no ready index serves is refused, naming the indexes that would serve it;
//! `ScanOptions::filter` scans instead.
//!
//! Results are in the chosen index's (values, key) order; the cursor (`Page::next`) is a
//! position in that index, so it resumes a query only while the plan stays the same.

use crate::db::FieldDb;
use crate::encoding::index_def::StoredState;
use crate::encoding::index_entry::Covering;
use crate::error::{Error, Result};
use crate::index::lookup::{self, RowEstimate, Scope};
use crate::index::{IndexInfo, IndexState};
use crate::query::{Matcher, Page, Query, QueryOptions};
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
#[non_exhaustive]
pub struct Plan {
    /// The index walked: its name (its field, or its fields joined by `,`).
    pub index: String,
    /// The conditions the index answers, in the order of its fields: equalities on its first
    /// fields, then at most one other condition on the next.
    pub index_conditions: Vec<(String, Query)>,
    /// The conditions checked on each record fetched.
    pub residual: Vec<(String, Query)>,
    /// The rows the index's conditions select (before the residual filter), from
    /// [`FieldDb::explain`]; `None` in a plan made only to run a query.
    pub estimate: Option<RowEstimate>,
    /// What the index's entries hold besides its values: a query wanting only those fields
    /// (see [`QueryOptions::fields`]) reads no record.
    pub covering: Covering,
}

impl Plan {
    /// The part of the index walked, as its leading values: `("UA", "IAH")`, or with a last
    /// condition `("UA", > 60)`.
    pub fn range_text(&self) -> String {
        let parts: Vec<String> = self
            .index_conditions
            .iter()
            .map(|(_, q)| match q {
                Query::Eq(v) => v.to_string(),
                other => describe_condition(other),
            })
            .collect();
        format!("({})", parts.join(", "))
    }

    fn scope(&self) -> Scope {
        let mut scope = Scope {
            equal: Vec::new(),
            next: None,
        };
        for (_, q) in &self.index_conditions {
            match q {
                Query::Eq(v) if scope.next.is_none() => scope.equal.push(v.clone()),
                other => scope.next = Some(other.clone()),
            }
        }
        scope
    }
}

/// A condition as the shell writes it, without its field: `= 3`, `> 60`, `>= 1 and < 5`,
/// `prefix "ab"`.
pub fn describe_condition(query: &Query) -> String {
    use std::ops::Bound;
    match query {
        Query::Eq(v) => format!("= {v}"),
        Query::Prefix(v) => format!("prefix {v}"),
        Query::Range { lo, hi } => {
            let lo = match lo {
                Bound::Included(v) => Some(format!(">= {v}")),
                Bound::Excluded(v) => Some(format!("> {v}")),
                Bound::Unbounded => None,
            };
            let hi = match hi {
                Bound::Included(v) => Some(format!("<= {v}")),
                Bound::Excluded(v) => Some(format!("< {v}")),
                Bound::Unbounded => None,
            };
            match (lo, hi) {
                (Some(lo), Some(hi)) => format!("{lo} and {hi}"),
                (Some(one), None) | (None, Some(one)) => one,
                (None, None) => "any value".to_owned(),
            }
        }
    }
}

/// What one index can do for a filter: which conditions lead it, and how well.
struct Candidate {
    /// The index's position in the catalog (creation order), the last tie-break.
    position: usize,
    /// The conditions (by position in the filter) leading the index, in its field order.
    leading: Vec<usize>,
    equalities: usize,
    /// 0 a prefix, 1 a range, 2 nothing after the equalities.
    tail_rank: u8,
    /// The stored count, for a counted index fixed whole by equalities.
    counted_rows: Option<u64>,
    fields: usize,
}

impl Candidate {
    /// Smaller is better.
    fn order_key(&self) -> (std::cmp::Reverse<usize>, u8, u64, usize, usize) {
        (
            std::cmp::Reverse(self.equalities),
            self.tail_rank,
            self.counted_rows.unwrap_or(u64::MAX),
            self.fields,
            self.position,
        )
    }
}

/// The conditions of `filter` that lead `index`: one equality per leading field, as far as
/// they go, then one prefix or range (or equality) on the next field. `None` when none does,
/// and for a compound index unless the filter has a condition on every one of its fields: a
/// record lacking one of them has no entry, so the index would miss it — and a record lacking
/// a field meets no condition on it.
fn leading_conditions(filter: &Filter, fields: &[String]) -> Option<(Vec<usize>, usize, u8)> {
    let conditioned = |field: &String| filter.conditions.iter().any(|(f, _)| f == field);
    if !fields.iter().all(conditioned) {
        return None;
    }
    let mut leading = Vec::new();
    let mut tail_rank = 2;
    for field in fields {
        let on_field = |i: &usize| filter.conditions[*i].0 == *field;
        if let Some(eq) = (0..filter.conditions.len())
            .filter(on_field)
            .find(|i| matches!(filter.conditions[*i].1, Query::Eq(_)))
        {
            leading.push(eq);
            continue;
        }
        let other = (0..filter.conditions.len())
            .filter(on_field)
            .min_by_key(|i| match filter.conditions[*i].1 {
                Query::Prefix(_) => 0,
                _ => 1,
            });
        if let Some(other) = other {
            tail_rank = match filter.conditions[other].1 {
                Query::Prefix(_) => 0,
                _ => 1,
            };
            leading.push(other);
        }
        break;
    }
    if leading.is_empty() {
        return None;
    }
    let equalities = leading.len() - usize::from(tail_rank < 2);
    Some((leading, equalities, tail_rank))
}

impl FieldDb {
    /// The plan [`FieldDb::query`] follows for `filter`, with an estimate of the rows its index
    /// yields (see [`RowEstimate`]).
    pub fn explain(&self, filter: &Filter) -> Result<Plan> {
        let mut plan = self.plan(filter)?;
        plan.estimate = Some(lookup::estimate(self.inner(), &plan.index, &plan.scope())?);
        Ok(plan)
    }

    fn plan(&self, filter: &Filter) -> Result<Plan> {
        if filter.conditions.is_empty() {
            return Err(Error::InvalidArgument(
                "a filter needs at least one condition".into(),
            ));
        }
        // The usable ready indexes, read under the catalog's guard without copying the rest.
        // The guard is released before the tie-break below, whose estimates take it again (a
        // second read guard while a writer waits would deadlock).
        let mut candidates: Vec<(String, bool, Covering, Candidate)> = Vec::new();
        for (position, def) in self.inner().catalog.read().all().enumerate() {
            if def.state != StoredState::Ready {
                continue;
            }
            let Some((leading, equalities, tail_rank)) = leading_conditions(filter, &def.fields)
            else {
                continue;
            };
            let fixed_whole = equalities == def.fields.len();
            let candidate = Candidate {
                position,
                leading,
                equalities,
                tail_rank,
                counted_rows: None,
                fields: def.fields.len(),
            };
            candidates.push((
                def.name(),
                def.counted && fixed_whole,
                def.covering.clone(),
                candidate,
            ));
        }
        // Counts break ties only: they are read (one read each) just for the counted indexes
        // among several that serve the filter equally well, not on every query.
        let shape = |c: &Candidate| (std::cmp::Reverse(c.equalities), c.tail_rank);
        let best_shape = candidates.iter().map(|(_, _, _, c)| shape(c)).min();
        let tied = candidates
            .iter()
            .filter(|(_, _, _, c)| Some(shape(c)) == best_shape)
            .count();
        let mut best: Option<(String, Covering, Candidate)> = None;
        for (name, counted, covering, mut candidate) in candidates {
            if counted && tied > 1 && Some(shape(&candidate)) == best_shape {
                let plan = self.plan_of(filter, &name, &candidate.leading, &covering);
                if let RowEstimate::Counted(n) =
                    lookup::estimate(self.inner(), &name, &plan.scope())?
                {
                    candidate.counted_rows = Some(n);
                }
            }
            if best
                .as_ref()
                .is_none_or(|(_, _, b)| candidate.order_key() < b.order_key())
            {
                best = Some((name, covering, candidate));
            }
        }
        match best {
            Some((name, covering, best)) => {
                Ok(self.plan_of(filter, &name, &best.leading, &covering))
            }
            None => Err(refusal(filter, &self.indexes())),
        }
    }

    fn plan_of(
        &self,
        filter: &Filter,
        index: &str,
        leading: &[usize],
        covering: &Covering,
    ) -> Plan {
        let residual = (0..filter.conditions.len())
            .filter(|i| !leading.contains(i))
            .map(|i| filter.conditions[i].clone())
            .collect();
        Plan {
            index: index.to_owned(),
            index_conditions: leading
                .iter()
                .map(|i| filter.conditions[*i].clone())
                .collect(),
            residual,
            estimate: None,
            covering: covering.clone(),
        }
    }

    /// The number of records that meet every condition of `filter`. When the chosen index
    /// answers every condition it is counted there without fetching a record: one read when
    /// the index is counted and every one of its fields has an equality, a walk over the
    /// entries in range otherwise. Else the records in range are fetched and checked.
    pub fn count(&self, filter: &Filter) -> Result<u64> {
        let plan = self.plan(filter)?;
        if plan.residual.is_empty() {
            return lookup::scoped_count(self.inner(), &plan.index, &plan.scope());
        }
        // Only the residual's fields are read (none of the record when the index covers them).
        let mut needed: Vec<String> = Vec::new();
        for (field, _) in &plan.residual {
            if !needed.contains(field) {
                needed.push(field.clone());
            }
        }
        let mut n = 0u64;
        let mut options = QueryOptions::new().limit(4096).fields(needed.clone());
        loop {
            let page = self.query(filter, &options)?;
            n += page.rows.len() as u64;
            match page.next {
                Some(next) => {
                    options = QueryOptions::new()
                        .limit(4096)
                        .fields(needed.clone())
                        .start_after(next)
                }
                None => return Ok(n),
            }
        }
    }

    /// The records that meet every condition of `filter`, a page at a time, from the best ready
    /// index (see [`FieldDb::explain`]), in its (values, key) order.
    pub fn query(
        &self,
        filter: &Filter,
        options: &QueryOptions,
    ) -> Result<Page<(Vec<u8>, Record)>> {
        options.check_fields()?;
        let plan = self.plan(filter)?;
        let scope = plan.scope();
        let wanted = options.fields.as_deref();
        // The fields read: those wanted and those the residual checks.
        let needed: Option<Vec<String>> = wanted.map(|wanted| {
            let mut needed = wanted.to_vec();
            for (field, _) in &plan.residual {
                if !needed.contains(field) {
                    needed.push(field.clone());
                }
            }
            needed
        });
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
        if plan.residual.is_empty() {
            // The index answers every condition: one read of exactly the page, and only the
            // last row's position is needed.
            let mut walk = QueryOptions::new().reverse(options.reverse).limit(limit);
            if let Some(c) = &cursor {
                walk = walk.start_after(c.clone());
            }
            let mut found =
                lookup::scoped_records(self.inner(), &plan.index, &scope, &walk, wanted, false)?;
            return Ok(Page {
                rows: found.rows,
                next: if found.more {
                    found.positions.pop()
                } else {
                    None
                },
            });
        }
        loop {
            let mut walk = QueryOptions::new().reverse(options.reverse).limit(chunk);
            if let Some(c) = &cursor {
                walk = walk.start_after(c.clone());
            }
            let found = lookup::scoped_records(
                self.inner(),
                &plan.index,
                &scope,
                &walk,
                needed.as_deref(),
                true,
            )?;
            for ((key, record), position) in found.rows.into_iter().zip(found.positions) {
                if meets(&record) {
                    let record = match wanted {
                        Some(wanted) if needed.as_ref().is_some_and(|n| n.len() > wanted.len()) => {
                            record.project(wanted)
                        }
                        _ => record,
                    };
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
            if !found.more {
                return Ok(Page { rows, next: None });
            }
        }
    }
}

/// The refusal of a filter no ready index serves: it names the indexes that exist and the one
/// to create.
fn refusal(filter: &Filter, indexes: &[IndexInfo]) -> Error {
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
    // The index to suggest: the fields with equalities first, then one other condition's.
    let mut suggested: Vec<&str> = Vec::new();
    for (field, query) in &filter.conditions {
        if matches!(query, Query::Eq(_)) && !suggested.contains(&field.as_str()) {
            suggested.push(field);
        }
    }
    if let Some((field, _)) = filter
        .conditions
        .iter()
        .find(|(f, q)| !matches!(q, Query::Eq(_)) && !suggested.contains(&f.as_str()))
    {
        suggested.push(field);
    }
    suggested.truncate(crate::encoding::index_def::MAX_INDEX_FIELDS);
    Error::NoSuchIndex {
        field: fields.join("` or `"),
        indexes: format!(
            "{}; a ready index whose first field has one of these conditions serves the query \
             (`create index {}` serves it best), or scan with the conditions as a filter",
            if listed.is_empty() {
                "none".to_owned()
            } else {
                listed.join(", ")
            },
            suggested.join(",")
        ),
    }
}
