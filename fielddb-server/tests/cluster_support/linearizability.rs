//! A linearizability checker for histories of a key-value register with put, get and append.
//!
//! Every key is its own register, initially absent. Linearizability is compositional (a history
//! is linearizable iff every key's sub-history is), so [`check`] checks each key on its own.
//!
//! One key is checked as by Wing & Gong and Lowe ("just-in-time linearization"), with the
//! memoization of Porcupine: the calls and returns of the operations, ordered by time (a call
//! before a return at the same instant, so touching intervals overlap), form a doubly-linked
//! list. The operations that may be linearized next are the calls that come before the first
//! return still in the list. A depth-first search linearizes one of them (its call and return
//! are unlinked), steps the model, and goes on; when no candidate leads anywhere it backtracks
//! (the entries are linked back). Each configuration reached (the bitset of linearized
//! operations, and the register's value) is remembered, and one seen before is not searched
//! again.
//!
//! An operation whose outcome is unknown (a timeout, a 503) may have taken effect at any one
//! instant after it was sent, with no upper bound, or never. It has no return entry (its return
//! is at +infinity, so it never keeps another operation from being linearized before it), its
//! output is unconstrained, and it may stay unlinearized: the search succeeds once every
//! operation with a known outcome is linearized.
//!
//! Before any search, a known get of a value that no sequence of the key's writes makes (a
//! put's value or the absent register, then appended values, in any order) is reported at once,
//! naming that get: no linearization exists, and the search would only report the furthest
//! point it reached, which may lie on another branch.
//!
//! Refinements, each of which only removes branches that cannot lead to a linearization (and a
//! test compares the verdicts with a brute-force search over every order):
//!
//! * an unknown get constrains nothing and is left out; so is an unknown put or append whose
//!   value occurs in no known output of the key: had it taken effect, every known get or append
//!   until the next put would return a value containing it, so there is none, and the
//!   linearization stays valid without it;
//! * register values that no known output starts with are one state (from any of them only a
//!   put can lead on), so the values of writes nobody saw do not multiply the configurations;
//! * a candidate get that fits the current value is linearized at once, without alternatives
//!   (a get changes nothing, so any linearization can be reordered to take it first);
//! * a step that changes the value is not taken while a pending known operation needs the
//!   current value (a get that returned it, an append whose result extends it) and no pending
//!   operation could bring that value back;
//! * unknown operations are tried after the known ones; of pending unknown ones with the same
//!   effect only the first invoked is tried; and a configuration is not searched when one with
//!   the same linearized known operations and value but a subset of its linearized unknown
//!   operations was (that one can do everything this one can).
//!
//! With distinct written values most histories are then searched with almost no backtracking.
//! The search is still exponential in the worst case: it stops with an error naming "search too
//! large" after visiting [`DEFAULT_MAX_STATES`] configurations of one key (or the limit given to
//! the `_with_limit` variants) rather than running on.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::hash::{BuildHasherDefault, Hasher};

/// How many configurations the search of one key may visit before it gives up.
pub const DEFAULT_MAX_STATES: u64 = 5_000_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Put(String),
    Get,
    Append(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Put,
    Get(Option<String>),
    Append(String),
    Unknown,
}

#[derive(Debug, Clone)]
pub struct Event {
    pub client: usize,
    pub key: String,
    pub op: Op,
    pub outcome: Outcome,
    /// Nanoseconds since the test's start when the request was sent.
    pub invoked: u128,
    /// When the answer came; `None` when the outcome is Unknown (treated as never returning).
    pub returned: Option<u128>,
}

/// Checks every key's sub-history (linearizability is compositional per key). Ok(()) if
/// linearizable; Err(message naming the key and the number of operations, plus a short excerpt)
/// otherwise.
pub fn check(history: &[Event]) -> Result<(), String> {
    check_with_limit(history, DEFAULT_MAX_STATES)
}

/// [`check`] with another bound on the configurations each key's search may visit.
pub fn check_with_limit(history: &[Event], max_states: u64) -> Result<(), String> {
    let mut by_key: BTreeMap<&str, Vec<&Event>> = BTreeMap::new();
    for event in history {
        by_key.entry(event.key.as_str()).or_default().push(event);
    }
    let mut failures: Vec<String> = by_key
        .iter()
        .filter_map(|(key, events)| check_one_key(key, events, max_states).err())
        .collect();
    match failures.len() {
        0 => Ok(()),
        1 => Err(failures.pop().unwrap_or_default()),
        n => Err(format!(
            "{n} of {} keys fail the check:\n\n{}",
            by_key.len(),
            failures.join("\n\n")
        )),
    }
}

/// Same for one key's events.
pub fn check_key(events: &[Event]) -> Result<(), String> {
    check_key_with_limit(events, DEFAULT_MAX_STATES)
}

/// [`check_key`] with another bound on the configurations the search may visit.
pub fn check_key_with_limit(events: &[Event], max_states: u64) -> Result<(), String> {
    let Some(first) = events.first() else {
        return Ok(());
    };
    if let Some(other) = events.iter().find(|e| e.key != first.key) {
        return Err(format!(
            "check_key was given events of two keys ({:?} and {:?}); use check for a whole history",
            first.key, other.key
        ));
    }
    let refs: Vec<&Event> = events.iter().collect();
    check_one_key(&first.key, &refs, max_states)
}

// ---------------------------------------------------------------------------------------------
// One key.

/// The operations of one key as the search sees them, register values interned as state ids.
#[derive(PartialEq, Eq, Hash)]
enum Model {
    /// A put with a known outcome, or an unknown one: the state it sets.
    Put(u32),
    /// A get that returned this state.
    Get(u32),
    /// An append of `arg` that returned state `out`.
    Append { arg: String, out: u32 },
    /// An append with unknown outcome.
    UnknownAppend(String),
}

/// Register values (`None` is absent), each given a small id, so that states compare and hash
/// as integers.
///
/// Every value that no known output starts with is the one state [`DEAD`]: from such a value
/// no known get or append can succeed (its output would start with the value, perhaps after
/// unknown appends), only a put can lead on, so all of them have the same futures, and the
/// search need not tell them apart. This collapses the values of writes nobody saw.
struct States {
    ids: HashMap<Option<String>, u32>,
    values: Vec<Option<String>>,
    /// The known outputs (gets that saw a value, appends), sorted.
    outputs: Vec<String>,
    /// (state, unknown append) -> state after it: the only step that builds a new string.
    appended: HashMap<(u32, u32), u32, FxBuild>,
}

/// The state id of the absent register.
const ABSENT: u32 = 0;
/// The state id of every value that no known output starts with.
const DEAD: u32 = 1;

impl States {
    fn new(mut outputs: Vec<String>) -> Self {
        outputs.sort_unstable();
        outputs.dedup();
        let mut states = States {
            ids: HashMap::new(),
            values: vec![None, None],
            outputs,
            appended: HashMap::default(),
        };
        states.ids.insert(None, ABSENT);
        states
    }

    fn intern(&mut self, value: Option<String>) -> u32 {
        if let Some(&id) = self.ids.get(&value) {
            return id;
        }
        let id = match &value {
            Some(v) if !self.starts_an_output(v) => DEAD,
            _ => {
                self.values.push(value.clone());
                self.values.len() as u32 - 1
            }
        };
        self.ids.insert(value, id);
        id
    }

    fn starts_an_output(&self, v: &str) -> bool {
        // The outputs that start with v come first among those not below v.
        let i = self.outputs.partition_point(|o| o.as_str() < v);
        self.outputs.get(i).is_some_and(|o| o.starts_with(v))
    }

    /// The value of a state other than `DEAD`.
    fn get(&self, id: u32) -> Option<&str> {
        self.values[id as usize].as_deref()
    }

    fn describe(&self, id: u32) -> String {
        match (id, self.get(id)) {
            (DEAD, _) => "a value no later known output starts with".to_string(),
            (_, None) => "nothing (absent)".to_string(),
            (_, Some(v)) => show(v),
        }
    }
}

/// The state after `op` from `state`, or `None` when the op's known output rules it out there.
fn step(model: &[Model], states: &mut States, state: u32, op: usize) -> Option<u32> {
    match &model[op] {
        Model::Put(to) => Some(*to),
        Model::Get(seen) => (state == *seen).then_some(state),
        Model::Append { .. } if state == DEAD => None,
        Model::Append { arg, out } => {
            let current = states.get(state).unwrap_or("");
            let result = states.get(*out).unwrap_or("");
            let fits = result.len() == current.len() + arg.len()
                && result.starts_with(current)
                && result.ends_with(arg.as_str());
            fits.then_some(*out)
        }
        Model::UnknownAppend(_) if state == DEAD => Some(DEAD),
        Model::UnknownAppend(arg) => {
            if let Some(&to) = states.appended.get(&(state, op as u32)) {
                return Some(to);
            }
            let value = format!("{}{arg}", states.get(state).unwrap_or(""));
            let to = states.intern(Some(value));
            states.appended.insert((state, op as u32), to);
            Some(to)
        }
    }
}

/// The call and return entries of the operations in time order, as a circular doubly-linked
/// list with a sentinel at 0, from which operations are lifted and put back in reverse order.
struct Entries {
    next: Vec<usize>,
    prev: Vec<usize>,
    /// The operation of each entry, and whether the entry is its call.
    op: Vec<usize>,
    is_call: Vec<bool>,
    call_of: Vec<usize>,
    /// `HEAD` for an operation without a return (unknown outcome).
    return_of: Vec<usize>,
}

const HEAD: usize = 0;

impl Entries {
    /// `times[i]` is operation i's (invoked, returned) with `None` for no return.
    fn new(times: &[(u128, Option<u128>)]) -> Self {
        // (time, calls before returns at equal times so that touching intervals overlap, op)
        let mut order: Vec<(u128, u8, usize)> = Vec::with_capacity(times.len() * 2);
        for (i, &(invoked, returned)) in times.iter().enumerate() {
            order.push((invoked, 0, i));
            if let Some(returned) = returned {
                order.push((returned, 1, i));
            }
        }
        order.sort_unstable();
        let n = order.len() + 1;
        let mut entries = Entries {
            next: (1..=n).map(|e| e % n).collect(),
            prev: (0..n).map(|e| (e + n - 1) % n).collect(),
            op: vec![usize::MAX; n],
            is_call: vec![false; n],
            call_of: vec![HEAD; times.len()],
            return_of: vec![HEAD; times.len()],
        };
        for (slot, &(_, kind, i)) in order.iter().enumerate() {
            let e = slot + 1;
            entries.op[e] = i;
            if kind == 0 {
                entries.is_call[e] = true;
                entries.call_of[i] = e;
            } else {
                entries.return_of[i] = e;
            }
        }
        entries
    }

    fn unlink(&mut self, e: usize) {
        let (p, n) = (self.prev[e], self.next[e]);
        self.next[p] = n;
        self.prev[n] = p;
    }

    fn relink(&mut self, e: usize) {
        let (p, n) = (self.prev[e], self.next[e]);
        self.next[p] = e;
        self.prev[n] = e;
    }

    fn lift(&mut self, op: usize) {
        self.unlink(self.call_of[op]);
        if self.return_of[op] != HEAD {
            self.unlink(self.return_of[op]);
        }
    }

    fn unlift(&mut self, op: usize) {
        if self.return_of[op] != HEAD {
            self.relink(self.return_of[op]);
        }
        self.relink(self.call_of[op]);
    }

    /// The operations that may be linearized next (calls before the first return), those with
    /// a known outcome first.
    fn candidates(&self, known: &[bool], into: &mut Vec<usize>, scratch: &mut Vec<usize>) {
        into.clear();
        scratch.clear();
        let mut e = self.next[HEAD];
        while e != HEAD && self.is_call[e] {
            let op = self.op[e];
            if known[op] {
                into.push(op);
            } else {
                scratch.push(op);
            }
            e = self.next[e];
        }
        into.append(scratch);
    }
}

/// The configurations searched: (linearized known ops, state) -> the sets of linearized unknown
/// ops they were searched with (an antichain: no set holds another). Past `ANTICHAIN` sets for
/// one (known ops, state), further ones are remembered exactly in `exact`.
struct Seen {
    map: HashMap<Vec<u64>, Vec<Box<[u64]>>, FxBuild>,
    exact: HashSet<Vec<u64>, FxBuild>,
    key: Vec<u64>,
}

const ANTICHAIN: usize = 64;

impl Seen {
    fn new() -> Self {
        Seen {
            map: HashMap::default(),
            exact: HashSet::default(),
            key: Vec::new(),
        }
    }

    /// Records the configuration and tells whether it is worth searching: false when it, or
    /// one with fewer unknown operations linearized, was seen.
    fn insert(&mut self, known: &[u64], state: u32, unknown: &[u64]) -> bool {
        self.key.clear();
        self.key.extend_from_slice(known);
        self.key.push(u64::from(state));
        let subset = |small: &[u64], big: &[u64]| small.iter().zip(big).all(|(s, b)| s & !b == 0);
        let Some(sets) = self.map.get_mut(self.key.as_slice()) else {
            self.map.insert(self.key.clone(), vec![unknown.into()]);
            return true;
        };
        if sets.iter().any(|seen| subset(seen, unknown)) {
            return false;
        }
        if sets.len() < ANTICHAIN {
            sets.retain(|seen| !subset(unknown, seen));
            sets.push(unknown.into());
            return true;
        }
        self.key.extend_from_slice(unknown);
        self.exact.insert(self.key.clone())
    }
}

/// For the pruning of steps that strand an operation: which state each pending known operation
/// needs, and which pending operations could bring a state about.
struct Needs {
    /// The state a known op needs just before it, when that is a single state: the value a get
    /// saw; an append's result without its argument (unless that is empty, as both the absent
    /// register and "" fit then).
    need_of: Vec<Option<u32>>,
    /// The needed states each op could produce: a put's value, an append's result, and for an
    /// unknown append every needed value that ends with its argument.
    produces: Vec<Vec<u32>>,
    /// By state id (ids past the end are needed by nothing): how many pending ops need the
    /// state, and how many pending ops could produce it.
    needed: Vec<u32>,
    producers: Vec<u32>,
}

impl Needs {
    fn new(model: &[Model], states: &mut States) -> Self {
        let need_of: Vec<Option<u32>> = model
            .iter()
            .map(|m| match m {
                Model::Get(seen) => Some(*seen),
                Model::Append { arg, out } => {
                    let before = states.get(*out).unwrap_or("").strip_suffix(arg.as_str())?;
                    let before = (!before.is_empty()).then(|| before.to_string())?;
                    Some(states.intern(Some(before)))
                }
                Model::Put(_) | Model::UnknownAppend(_) => None,
            })
            .collect();
        let mut needed = vec![0u32; states.values.len()];
        for &s in need_of.iter().flatten() {
            needed[s as usize] += 1;
        }
        let needed_values: Vec<(u32, &str)> = (0..needed.len())
            .filter(|&s| needed[s] > 0)
            .filter_map(|s| Some((s as u32, states.get(s as u32)?)))
            .collect();
        let produces: Vec<Vec<u32>> = model
            .iter()
            .map(|m| match m {
                Model::Put(to) | Model::Append { out: to, .. } => [*to]
                    .into_iter()
                    .filter(|&s| needed[s as usize] > 0)
                    .collect(),
                Model::UnknownAppend(arg) => needed_values
                    .iter()
                    .filter(|(_, v)| v.ends_with(arg.as_str()))
                    .map(|&(s, _)| s)
                    .collect(),
                Model::Get(_) => Vec::new(),
            })
            .collect();
        let mut producers = vec![0u32; needed.len()];
        for &s in produces.iter().flatten() {
            producers[s as usize] += 1;
        }
        Needs {
            need_of,
            produces,
            needed,
            producers,
        }
    }

    /// Whether `op`, taking the register from `state` to `after`, leaves behind a pending op
    /// that needs `state` while nothing pending could bring `state` back.
    fn strands(&self, op: usize, state: u32, after: u32) -> bool {
        let s = state as usize;
        if after == state || s >= self.needed.len() || self.needed[s] == 0 {
            return false;
        }
        let needed = self.needed[s] - u32::from(self.need_of[op] == Some(state));
        let producers = self.producers[s] - u32::from(self.produces[op].contains(&state));
        needed > 0 && producers == 0
    }

    fn take(&mut self, op: usize) {
        if let Some(s) = self.need_of[op] {
            self.needed[s as usize] -= 1;
        }
        for &s in &self.produces[op] {
            self.producers[s as usize] -= 1;
        }
    }

    fn put_back(&mut self, op: usize) {
        if let Some(s) = self.need_of[op] {
            self.needed[s as usize] += 1;
        }
        for &s in &self.produces[op] {
            self.producers[s as usize] += 1;
        }
    }
}

struct Frame {
    /// The operation linearized to get here (`usize::MAX` at the root) and the state before it.
    op: usize,
    before: u32,
    candidates: Vec<usize>,
    tried: usize,
}

/// The operations of one key that the search works on, and its state.
struct Search {
    model: Vec<Model>,
    known: Vec<bool>,
    /// Each op's bit in the bitset of its kind (known or unknown outcome).
    slot: Vec<usize>,
    n_known: usize,
    n_unknown: usize,
    states: States,
    entries: Entries,
    needs: Needs,
    /// Unknown ops with the same effect share a class (from 1; known ops are in class 0).
    class_of: Vec<usize>,
    class_tried: Vec<bool>,
    known_bits: Vec<u64>,
    unknown_bits: Vec<u64>,
    seen: Seen,
    state: u32,
    known_left: usize,
}

/// How the search of one key ended.
enum Verdict {
    Linearizable,
    NotLinearizable(Best),
    TooLarge(Best),
}

impl Search {
    fn new(ops: &[&Event]) -> Self {
        let outputs: Vec<String> = ops
            .iter()
            .filter_map(|e| match &e.outcome {
                Outcome::Get(Some(v)) | Outcome::Append(v) => Some(v.clone()),
                _ => None,
            })
            .collect();
        let mut states = States::new(outputs);
        let known: Vec<bool> = ops.iter().map(|e| e.outcome != Outcome::Unknown).collect();
        let model: Vec<Model> = ops
            .iter()
            .map(|e| match (&e.op, &e.outcome) {
                (Op::Put(v), _) => Model::Put(states.intern(Some(v.clone()))),
                (Op::Get, Outcome::Get(v)) => Model::Get(states.intern(v.clone())),
                (Op::Append(arg), Outcome::Append(out)) => Model::Append {
                    arg: arg.clone(),
                    out: states.intern(Some(out.clone())),
                },
                (Op::Append(arg), _) => Model::UnknownAppend(arg.clone()),
                (Op::Get, _) => unreachable!("unknown gets are dropped, outcomes validated"),
            })
            .collect();
        let mut slot = vec![0usize; ops.len()];
        let (mut n_known, mut n_unknown) = (0usize, 0usize);
        for (i, &k) in known.iter().enumerate() {
            let counter = if k { &mut n_known } else { &mut n_unknown };
            slot[i] = *counter;
            *counter += 1;
        }
        let times: Vec<(u128, Option<u128>)> = ops
            .iter()
            .zip(&known)
            .map(|(e, &k)| (e.invoked, if k { e.returned } else { None }))
            .collect();
        let needs = Needs::new(&model, &mut states);
        let mut classes: HashMap<&Model, usize> = HashMap::new();
        let class_of: Vec<usize> = model
            .iter()
            .zip(&known)
            .map(|(m, &k)| {
                let fresh = classes.len() + 1;
                if k {
                    0
                } else {
                    *classes.entry(m).or_insert(fresh)
                }
            })
            .collect();
        let class_tried = vec![false; classes.len() + 1];
        Search {
            class_of,
            class_tried,
            entries: Entries::new(&times),
            needs,
            model,
            known,
            slot,
            n_known,
            n_unknown,
            states,
            known_bits: vec![0; n_known.div_ceil(64)],
            unknown_bits: vec![0; n_unknown.div_ceil(64)],
            seen: Seen::new(),
            state: ABSENT,
            known_left: n_known,
        }
    }

    fn flip(&mut self, op: usize) {
        let bits = if self.known[op] {
            &mut self.known_bits
        } else {
            &mut self.unknown_bits
        };
        bits[self.slot[op] / 64] ^= 1 << (self.slot[op] % 64);
    }

    /// The state after `op` when it may come next and leads to a configuration not yet seen
    /// (then recorded), or `None`.
    fn try_step(&mut self, op: usize) -> Option<u32> {
        let after = step(&self.model, &mut self.states, self.state, op)?;
        if self.needs.strands(op, self.state, after) {
            return None;
        }
        self.flip(op);
        if self
            .seen
            .insert(&self.known_bits, after, &self.unknown_bits)
        {
            Some(after)
        } else {
            self.flip(op);
            None
        }
    }

    /// Linearizes `op` (whose bit `try_step` set), leading to state `after`.
    fn linearize(&mut self, op: usize, after: u32) {
        self.entries.lift(op);
        self.needs.take(op);
        self.known_left -= usize::from(self.known[op]);
        self.state = after;
    }

    fn undo(&mut self, op: usize, before: u32) {
        self.entries.unlift(op);
        self.needs.put_back(op);
        self.known_left += usize::from(self.known[op]);
        self.flip(op);
        self.state = before;
    }

    /// The operations to try next: the candidates, or only a get that fits the state.
    ///
    /// Of pending unknown operations with the same effect, only the one invoked first is tried:
    /// whatever a later one does, the first one can do in its place (once an operation may be
    /// linearized it stays so, and an unknown one has no return to respect).
    fn candidates(&mut self, into: &mut Vec<usize>, scratch: &mut Vec<usize>) {
        self.entries.candidates(&self.known, into, scratch);
        if force_a_fitting_get(&self.model, self.state, into) {
            return;
        }
        let Some(first) = into.iter().position(|&op| !self.known[op]) else {
            return;
        };
        let mut kept = first;
        for i in first..into.len() {
            let op = into[i];
            let class = self.class_of[op];
            if !self.class_tried[class] {
                self.class_tried[class] = true;
                into[kept] = op;
                kept += 1;
            }
        }
        into.truncate(kept);
        for &op in &into[first..] {
            self.class_tried[self.class_of[op]] = false;
        }
    }

    /// A pending known op that needs the current value when nothing pending could bring the
    /// value back (so the value must stay until it is linearized), the first invoked.
    fn waiting_for_the_value(&self) -> Option<usize> {
        let s = self.state as usize;
        if s >= self.needs.needed.len() || self.needs.needed[s] == 0 || self.needs.producers[s] > 0
        {
            return None;
        }
        let linearized =
            |op: usize| self.known_bits[self.slot[op] / 64] >> (self.slot[op] % 64) & 1 == 1;
        (0..self.model.len())
            .filter(|&op| {
                self.known[op] && !linearized(op) && self.needs.need_of[op] == Some(self.state)
            })
            .min_by_key(|&op| self.entries.call_of[op])
    }

    fn run(&mut self, max_states: u64) -> Verdict {
        if self.known_left == 0 {
            return Verdict::Linearizable;
        }
        self.seen
            .insert(&self.known_bits, self.state, &self.unknown_bits);
        let (mut pool, mut scratch): (Vec<Vec<usize>>, Vec<usize>) = (Vec::new(), Vec::new());
        let mut root = Vec::new();
        self.candidates(&mut root, &mut scratch);
        let mut best = Best {
            known_done: 0,
            path: Vec::new(),
            state: self.state,
            candidates: root.clone(),
            waiting: self.waiting_for_the_value(),
        };
        let mut frames = vec![Frame {
            op: usize::MAX,
            before: self.state,
            candidates: root,
            tried: 0,
        }];
        let mut visits = 0u64;
        while let Some(top) = frames.last_mut() {
            if top.tried == top.candidates.len() {
                // Every way on from here failed: back one step.
                let frame = frames.pop().expect("a top frame");
                if frames.is_empty() {
                    return Verdict::NotLinearizable(best);
                }
                self.undo(frame.op, frame.before);
                pool.push(frame.candidates);
                continue;
            }
            let op = top.candidates[top.tried];
            top.tried += 1;
            let Some(after) = self.try_step(op) else {
                continue;
            };
            visits += 1;
            if visits > max_states {
                return Verdict::TooLarge(best);
            }
            let before = self.state;
            self.linearize(op, after);
            if self.known_left == 0 {
                return Verdict::Linearizable;
            }
            let mut candidates = pool.pop().unwrap_or_default();
            self.candidates(&mut candidates, &mut scratch);
            let done = self.n_known - self.known_left;
            if done > best.known_done {
                // The last few operations of the prefix, for the report.
                let from = frames.len().saturating_sub(REPORTED).max(1);
                best = Best {
                    known_done: done,
                    path: frames[from..].iter().map(|f| f.op).chain([op]).collect(),
                    state: after,
                    candidates: candidates.clone(),
                    waiting: self.waiting_for_the_value(),
                };
            }
            frames.push(Frame {
                op,
                before,
                candidates,
                tried: 0,
            });
        }
        unreachable!("the root frame returns a verdict")
    }
}

fn check_one_key(key: &str, events: &[&Event], max_states: u64) -> Result<(), String> {
    for (i, e) in events.iter().enumerate() {
        if let Some(problem) = malformed(e) {
            return Err(format!(
                "key {key:?}: event {i} of {} is malformed ({problem}): {}",
                events.len(),
                describe(e)
            ));
        }
    }
    if let Some(e) = impossible_get(events) {
        return Err(format!(
            "key {key:?}: the history of {} operations is not linearizable: a get returned a \
             value that no sequence of the key's writes makes, in any order:\n    {}",
            events.len(),
            describe(e)
        ));
    }
    // Unknown gets, and unknown writes whose value no known output shows, are left out.
    let outputs: Vec<&str> = events
        .iter()
        .filter_map(|e| match &e.outcome {
            Outcome::Get(Some(v)) | Outcome::Append(v) => Some(v.as_str()),
            _ => None,
        })
        .collect();
    let (ops, left_out): (Vec<&Event>, Vec<&Event>) =
        events.iter().partition(|e| match (&e.op, &e.outcome) {
            (Op::Get, Outcome::Unknown) => false,
            (Op::Put(v) | Op::Append(v), Outcome::Unknown) => {
                outputs.iter().any(|o| o.contains(v.as_str()))
            }
            _ => true,
        });
    let mut search = Search::new(&ops);
    let mut counts = format!(
        "{} operations ({} with a known outcome",
        events.len(),
        search.n_known
    );
    let unknown = search.n_unknown + left_out.len();
    if unknown > 0 {
        let _ = write!(counts, ", {unknown} unknown");
    }
    if !left_out.is_empty() {
        let _ = write!(
            counts,
            ", {} of them left out as no known output shows them",
            left_out.len()
        );
    }
    counts.push(')');
    match search.run(max_states) {
        Verdict::Linearizable => Ok(()),
        Verdict::TooLarge(best) => Err(format!(
            "key {key:?}: search too large: visited {max_states} configurations of the \
             history of {counts} without deciding; the furthest point ordered {} of the {} \
             known ones",
            best.known_done, search.n_known
        )),
        Verdict::NotLinearizable(best) => Err(report(key, &counts, &ops, &search, &best)),
    }
}

/// The first known get (in the order given) that returned a value no sequence of the key's
/// writes can make, whatever their order and outcomes: a put's value or the absent register,
/// followed by appended values. Such a get rules out every linearization, and saying so names
/// it, where the search would only report the furthest point it reached (which may lie on
/// another branch, before the get).
fn impossible_get<'e>(events: &[&'e Event]) -> Option<&'e Event> {
    let (mut puts, mut appends) = (HashSet::new(), HashSet::new());
    for e in events {
        match &e.op {
            Op::Put(v) => puts.insert(v.as_str()),
            Op::Append(v) => appends.insert(v.as_str()),
            Op::Get => false,
        };
    }
    let lengths = |values: &HashSet<&str>| -> Vec<usize> {
        let distinct: std::collections::BTreeSet<usize> = values.iter().map(|v| v.len()).collect();
        distinct.into_iter().collect()
    };
    let (put_lengths, append_lengths) = (lengths(&puts), lengths(&appends));
    // Whether `value` is a put's value or an append's (onto the absent register), followed by
    // any appended values: `made[i]` says its first `i` bytes can be made.
    let makeable = |value: &str| {
        let bytes = value.as_bytes();
        let part = |from: usize, len: usize| {
            bytes
                .get(from..from + len)
                .and_then(|b| std::str::from_utf8(b).ok())
        };
        let mut made = vec![false; bytes.len() + 1];
        for (&len, written) in (put_lengths.iter().map(|l| (l, &puts)))
            .chain(append_lengths.iter().map(|l| (l, &appends)))
        {
            if part(0, len).is_some_and(|p| written.contains(p)) {
                made[len] = true;
            }
        }
        for i in 0..bytes.len() {
            if !made[i] {
                continue;
            }
            for &len in &append_lengths {
                if part(i, len).is_some_and(|p| appends.contains(p)) {
                    made[i + len] = true;
                }
            }
        }
        made[bytes.len()]
    };
    let mut checked: HashMap<&str, bool> = HashMap::new();
    events.iter().copied().find(|e| match (&e.op, &e.outcome) {
        (Op::Get, Outcome::Get(Some(v))) => {
            !*checked.entry(v.as_str()).or_insert_with(|| makeable(v))
        }
        _ => false,
    })
}

/// When a candidate get returned the current state, it alone is tried: if any order of the
/// remaining operations works, so does one that starts with it (a get does not change the
/// state, and nothing pending returned before it was invoked, as it is a candidate).
fn force_a_fitting_get(model: &[Model], state: u32, candidates: &mut Vec<usize>) -> bool {
    let fitting = candidates
        .iter()
        .copied()
        .find(|&op| matches!(model[op], Model::Get(seen) if seen == state));
    if let Some(op) = fitting {
        candidates.clear();
        candidates.push(op);
    }
    fitting.is_some()
}

/// How many operations of the longest prefix, and of those stuck after it, a report shows.
const REPORTED: usize = 5;

/// The configuration with the most known operations linearized.
struct Best {
    known_done: usize,
    /// The last operations of the prefix that reached it.
    path: Vec<usize>,
    state: u32,
    candidates: Vec<usize>,
    /// A pending op that needs the value then, which nothing pending could write again.
    waiting: Option<usize>,
}

fn malformed(e: &Event) -> Option<&'static str> {
    let fits = matches!(
        (&e.op, &e.outcome),
        (Op::Put(_), Outcome::Put)
            | (Op::Get, Outcome::Get(_))
            | (Op::Append(_), Outcome::Append(_))
            | (_, Outcome::Unknown)
    );
    if !fits {
        return Some("the outcome is not of the operation's kind");
    }
    match e.returned {
        None if e.outcome != Outcome::Unknown => Some("a known outcome without a return time"),
        Some(r) if r < e.invoked => Some("returned before it was invoked"),
        _ => None,
    }
}

fn report(key: &str, counts: &str, ops: &[&Event], search: &Search, best: &Best) -> String {
    let n_known = search.n_known;
    let mut m = format!(
        "key {key:?}: the history of {counts} is not linearizable.\nThe longest linearizable \
         prefix found orders {} of the {n_known} known operations",
        best.known_done
    );
    if best.path.is_empty() {
        m.push_str(".\n");
    } else {
        let _ = writeln!(m, ", ending with:");
        for &op in &best.path[best.path.len().saturating_sub(REPORTED)..] {
            let _ = writeln!(m, "    {}", describe(ops[op]));
        }
    }
    let _ = write!(
        m,
        "after which the register holds {}",
        search.states.describe(best.state)
    );
    if let Some(op) = best.waiting {
        let _ = write!(
            m,
            ", which this operation still needs (and nothing pending could write it again):\n    \
             {}\nso",
            describe(ops[op])
        );
    } else {
        m.push_str(", and");
    }
    let _ = writeln!(m, " none of these can come next:");
    let stuck: Vec<usize> = best
        .candidates
        .iter()
        .copied()
        .filter(|&op| search.known[op])
        .collect();
    for &op in stuck.iter().take(REPORTED) {
        let _ = writeln!(m, "    {}", describe(ops[op]));
    }
    if stuck.len() > REPORTED {
        let _ = writeln!(m, "    ... and {} more", stuck.len() - REPORTED);
    }
    m.truncate(m.trim_end().len());
    m
}

/// One event on one line.
pub fn describe(e: &Event) -> String {
    let op = match &e.op {
        Op::Put(v) => format!("put({})", show(v)),
        Op::Get => "get()".to_string(),
        Op::Append(v) => format!("append({})", show(v)),
    };
    let out = match &e.outcome {
        Outcome::Put => "ok".to_string(),
        Outcome::Get(None) => "absent".to_string(),
        Outcome::Get(Some(v)) | Outcome::Append(v) => show(v),
        Outcome::Unknown => "unknown".to_string(),
    };
    let returned = match (e.returned, &e.outcome) {
        (Some(r), o) if *o != Outcome::Unknown => ms(r),
        _ => "never".to_string(),
    };
    format!(
        "client {}: {op} -> {out}  [{} .. {returned}]",
        e.client,
        ms(e.invoked)
    )
}

fn ms(ns: u128) -> String {
    format!("{:.3} ms", ns as f64 / 1e6)
}

/// A value quoted, its tail only when long.
fn show(v: &str) -> String {
    const LONG: usize = 60;
    const TAIL: usize = 40;
    let n = v.chars().count();
    if n <= LONG {
        format!("{v:?}")
    } else {
        let tail: String = v.chars().skip(n - TAIL).collect();
        format!("\"...{}\" ({n} chars)", tail.escape_debug())
    }
}

// ---------------------------------------------------------------------------------------------
// A fast hasher for the bitset keys (std only): FxHash.

#[derive(Default)]
struct FxHasher {
    hash: u64,
}

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        for &b in chunks.remainder() {
            self.add(u64::from(b));
        }
    }

    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.hash
    }
}

type FxBuild = BuildHasherDefault<FxHasher>;
