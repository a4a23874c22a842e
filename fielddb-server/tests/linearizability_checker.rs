//! The linearizability checker of the cluster tests (tests/cluster_support/linearizability.rs),
//! checked on small hand-written histories whose verdict is known, and on long histories
//! recorded from an atomic register under five threads (linearizable by construction), then
//! corrupted.

mod cluster_support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use cluster_support::linearizability::*;

// ---------------------------------------------------------------------------------------------
// Hand-written histories on key "k"; times are plain numbers.

fn event(client: usize, op: Op, outcome: Outcome, invoked: u128, returned: u128) -> Event {
    Event {
        client,
        key: "k".to_string(),
        op,
        outcome,
        invoked,
        returned: Some(returned),
    }
}

fn put(client: usize, value: &str, invoked: u128, returned: u128) -> Event {
    let op = Op::Put(value.to_string());
    event(client, op, Outcome::Put, invoked, returned)
}

fn get(client: usize, seen: Option<&str>, invoked: u128, returned: u128) -> Event {
    let outcome = Outcome::Get(seen.map(str::to_string));
    event(client, Op::Get, outcome, invoked, returned)
}

fn append(client: usize, arg: &str, result: &str, invoked: u128, returned: u128) -> Event {
    let op = Op::Append(arg.to_string());
    event(
        client,
        op,
        Outcome::Append(result.to_string()),
        invoked,
        returned,
    )
}

/// An operation that timed out: sent at `invoked`, its effect unknown.
fn timed_out(client: usize, op: Op, invoked: u128) -> Event {
    Event {
        client,
        key: "k".to_string(),
        op,
        outcome: Outcome::Unknown,
        invoked,
        returned: None,
    }
}

fn on_key(key: &str, mut events: Vec<Event>) -> Vec<Event> {
    for e in &mut events {
        e.key = key.to_string();
    }
    events
}

#[track_caller]
fn assert_linearizable(history: &[Event]) {
    if let Err(message) = check(history) {
        panic!("expected a linearizable history, got:\n{message}");
    }
}

#[track_caller]
fn assert_not_linearizable(history: &[Event]) -> String {
    match check(history) {
        Ok(()) => panic!("expected a history that is not linearizable: {history:#?}"),
        Err(message) => {
            assert!(message.contains("\"k\""), "the key is named: {message}");
            assert!(!message.contains("search too large"), "{message}");
            message
        }
    }
}

#[test]
fn an_empty_history_is_linearizable() {
    assert_linearizable(&[]);
    assert_eq!(check_key(&[]), Ok(()));
}

#[test]
fn a_get_before_any_write_sees_the_key_absent() {
    assert_linearizable(&[get(1, None, 0, 10)]);
    assert_not_linearizable(&[get(1, Some("a"), 0, 10)]);
    assert_not_linearizable(&[get(1, Some(""), 0, 10)]);
}

#[test]
fn a_sequential_put_then_get_is_linearizable() {
    assert_linearizable(&[
        put(1, "a", 0, 10),
        get(1, Some("a"), 20, 30),
        put(2, "b", 40, 50),
        get(3, Some("b"), 60, 70),
    ]);
}

#[test]
fn sequential_appends_accumulate() {
    let history = [
        append(1, "a", "a", 0, 10),
        append(2, "b", "ab", 20, 30),
        get(3, Some("ab"), 40, 50),
        put(1, "x", 60, 70),
        append(2, "c", "xc", 80, 90),
        get(1, Some("xc"), 100, 110),
    ];
    assert_linearizable(&history);
    assert_eq!(check_key(&history), Ok(()));
}

#[test]
fn an_append_returning_a_value_other_than_old_plus_argument_is_not_linearizable() {
    assert_not_linearizable(&[put(1, "a", 0, 10), append(1, "b", "ba", 20, 30)]);
    assert_not_linearizable(&[append(1, "b", "xb", 0, 10)]);
}

#[test]
fn a_stale_read_after_a_completed_put_is_not_linearizable() {
    // The key is absent again after the put returned.
    assert_not_linearizable(&[put(1, "a", 0, 10), get(2, None, 20, 30)]);
    // An old value comes back after a newer put returned.
    let message = assert_not_linearizable(&[
        put(1, "a", 0, 10),
        put(1, "b", 20, 30),
        get(2, Some("a"), 40, 50),
    ]);
    assert!(message.contains("3 operations"), "{message}");
    assert!(
        message.contains("get() -> \"a\""),
        "the stuck get is shown: {message}"
    );
}

#[test]
fn a_get_concurrent_with_a_put_may_see_either_value() {
    for seen in [Some("a"), Some("b")] {
        assert_linearizable(&[
            put(1, "a", 0, 10),
            put(1, "b", 20, 60),
            get(2, seen, 30, 50),
        ]);
    }
    // The same with a get that starts before the put and ends after it.
    for seen in [None, Some("a")] {
        assert_linearizable(&[put(1, "a", 10, 20), get(2, seen, 0, 30)]);
    }
    // Intervals that only touch count as concurrent.
    assert_linearizable(&[put(1, "a", 0, 10), get(2, None, 10, 20)]);
}

#[test]
fn concurrent_gets_may_not_see_the_new_value_then_the_old_one() {
    // While a put of "b" runs, client 2 sees "b", and afterwards client 3 sees "a" again.
    assert_not_linearizable(&[
        put(1, "a", 0, 10),
        put(1, "b", 20, 100),
        get(2, Some("b"), 30, 40),
        get(3, Some("a"), 50, 60),
    ]);
    // In the other order it is fine.
    assert_linearizable(&[
        put(1, "a", 0, 10),
        put(1, "b", 20, 100),
        get(2, Some("a"), 30, 40),
        get(3, Some("b"), 50, 60),
    ]);
}

#[test]
fn concurrent_appends_may_apply_in_either_order() {
    for (first, second, after) in [("a", "ab", "ab"), ("ba", "b", "ba")] {
        assert_linearizable(&[
            append(1, "a", first, 0, 50),
            append(2, "b", second, 10, 40),
            get(3, Some(after), 60, 70),
        ]);
    }
}

#[test]
fn a_lost_append_is_not_linearizable() {
    let message = assert_not_linearizable(&[
        append(1, "a", "a", 0, 30),
        append(2, "b", "b", 10, 40),
        get(3, Some("b"), 50, 60),
    ]);
    assert!(message.contains("append(\"b\") -> \"b\""), "{message}");
    // Also when the appends do not overlap: the second one forgot the first.
    assert_not_linearizable(&[
        append(1, "a", "a", 0, 10),
        append(2, "b", "ab", 20, 30),
        get(3, Some("a"), 40, 50),
    ]);
}

#[test]
fn an_append_whose_result_skips_a_completed_append_is_not_linearizable() {
    assert_not_linearizable(&[
        append(1, "a", "a", 0, 10),
        append(2, "b", "ab", 20, 30),
        append(3, "c", "ac", 40, 50),
    ]);
}

#[test]
fn a_timed_out_put_may_or_may_not_take_effect() {
    let start = [put(1, "a", 0, 10), timed_out(1, Op::Put("b".into()), 20)];
    for seen in ["a", "b"] {
        let mut history = start.to_vec();
        history.push(get(2, Some(seen), 100, 110));
        assert_linearizable(&history);
    }
}

#[test]
fn a_timed_out_put_once_seen_cannot_disappear() {
    let history = [
        put(1, "a", 0, 10),
        timed_out(1, Op::Put("b".into()), 20),
        get(2, Some("b"), 100, 110),
        get(3, Some("a"), 120, 130),
    ];
    assert_not_linearizable(&history);
    // Seen "a" first and then "b" is fine: it took effect late.
    let later = [
        history[0].clone(),
        history[1].clone(),
        get(3, Some("a"), 100, 110),
        get(2, Some("b"), 120, 130),
    ];
    assert_linearizable(&later);
}

#[test]
fn a_timed_out_append_may_take_effect_long_after_it_was_sent() {
    assert_linearizable(&[
        put(1, "a", 0, 10),
        timed_out(1, Op::Append("b".into()), 20),
        get(1, Some("a"), 1_000, 1_010),
        get(2, Some("a"), 2_000, 2_010),
        append(3, "c", "ac", 3_000, 3_010),
        get(1, Some("acb"), 1_000_000, 1_000_010),
    ]);
}

#[test]
fn a_timed_out_write_cannot_take_effect_before_it_was_sent() {
    assert_not_linearizable(&[
        get(2, Some("b"), 0, 10),
        timed_out(1, Op::Put("b".into()), 20),
    ]);
    assert_not_linearizable(&[
        put(1, "a", 0, 10),
        get(2, Some("ab"), 20, 30),
        timed_out(1, Op::Append("b".into()), 40),
    ]);
}

#[test]
fn a_timed_out_append_applies_once_at_most() {
    let history = [
        put(1, "a", 0, 10),
        timed_out(1, Op::Append("b".into()), 20),
        get(2, Some("ab"), 30, 40),
        get(2, Some("abb"), 50, 60),
    ];
    assert_not_linearizable(&history);
}

#[test]
fn timed_out_gets_are_ignored() {
    assert_linearizable(&[
        put(1, "a", 0, 10),
        timed_out(2, Op::Get, 20),
        get(2, Some("a"), 30, 40),
    ]);
}

#[test]
fn a_read_your_writes_violation_across_clients_is_not_linearizable() {
    // Client 1's put returned; client 2, started after it, appends to a register without it.
    assert_not_linearizable(&[put(1, "a", 0, 10), append(2, "b", "b", 20, 30)]);
    // Client 2's put returned; client 1, started after it, still reads its own older write.
    assert_not_linearizable(&[
        put(1, "a", 0, 10),
        get(1, Some("a"), 20, 30),
        put(2, "b", 40, 50),
        get(1, Some("a"), 60, 70),
    ]);
    // Client 2 read client 1's write, then client 1 reads the value from before it.
    assert_not_linearizable(&[
        put(1, "a", 0, 10),
        append(1, "b", "ab", 20, 100),
        get(2, Some("ab"), 30, 40),
        get(1, Some("a"), 110, 120),
    ]);
}

#[test]
fn a_violation_on_one_key_is_reported_naming_that_key() {
    let good = on_key("good", vec![put(1, "a", 0, 10), get(2, Some("a"), 20, 30)]);
    let bad = on_key(
        "bad-key",
        vec![put(1, "a", 0, 10), get(2, Some("z"), 20, 30)],
    );
    // The good keys pass together; with the bad one, only it is reported.
    let mut history = good.clone();
    history.extend(on_key(
        "other",
        vec![put(3, "z", 0, 10), get(3, Some("z"), 40, 50)],
    ));
    assert_linearizable(&history);
    history.extend(bad.clone());
    let message = check(&history).unwrap_err();
    assert!(message.contains("\"bad-key\""), "{message}");
    assert!(
        !message.contains("\"good\"") && !message.contains("\"other\""),
        "{message}"
    );
    assert!(message.contains("2 operations"), "{message}");
    assert_eq!(check_key(&good), Ok(()));
    assert!(check_key(&bad).unwrap_err().contains("\"bad-key\""));
    // check_key wants one key only.
    assert!(check_key(&history).is_err());
}

#[test]
fn malformed_events_are_rejected() {
    let mut wrong_kind = put(1, "a", 0, 10);
    wrong_kind.outcome = Outcome::Get(None);
    let mut backwards = get(1, None, 10, 0);
    backwards.returned = Some(0);
    let mut no_return = get(1, None, 0, 10);
    no_return.returned = None;
    for e in [wrong_kind, backwards, no_return] {
        let message = check(&[e]).unwrap_err();
        assert!(message.contains("malformed"), "{message}");
    }
}

#[test]
fn the_search_gives_up_with_search_too_large_past_its_limit() {
    // 300 operations, one after another: each one is a configuration the search visits.
    let history: Vec<Event> = (0..300u128)
        .map(|i| match i % 2 {
            0 => put(1, &format!("v{i}"), 10 * i, 10 * i + 5),
            _ => get(2, Some(&format!("v{}", i - 1)), 10 * i, 10 * i + 5),
        })
        .collect();
    let message = check_key_with_limit(&history, 100).unwrap_err();
    assert!(message.contains("search too large"), "{message}");
    assert!(
        message.contains("\"k\"") && message.contains("300 operations"),
        "{message}"
    );
    assert_eq!(check_with_limit(&history, 1_000), Ok(()));
    assert_eq!(check(&history), Ok(()));
}

// ---------------------------------------------------------------------------------------------
// Small random histories, against a brute-force search over every order.

/// Linearizable by the definition: some order of the operations with a known outcome and of a
/// subset of the others, respecting real time (an operation that returned before another was
/// invoked comes first), in which every known output is the register's.
fn brute_force(events: &[Event]) -> bool {
    fn search(ops: &[&Event], done: &mut [bool], state: Option<String>) -> bool {
        let known_left = ops
            .iter()
            .zip(done.iter())
            .any(|(o, d)| !d && o.outcome != Outcome::Unknown);
        if !known_left {
            return true;
        }
        for i in 0..ops.len() {
            let blocked = |j: usize| {
                !done[j]
                    && ops[j].outcome != Outcome::Unknown
                    && ops[j].returned.unwrap() < ops[i].invoked
            };
            if done[i] || (0..ops.len()).any(blocked) {
                continue;
            }
            let current = state.clone().unwrap_or_default();
            let next = match (&ops[i].op, &ops[i].outcome) {
                (Op::Put(v), _) => Some(Some(v.clone())),
                (Op::Get, Outcome::Get(seen)) => (*seen == state).then(|| state.clone()),
                (Op::Get, _) => Some(state.clone()),
                (Op::Append(v), Outcome::Append(out)) => {
                    (*out == current.clone() + v).then(|| Some(out.clone()))
                }
                (Op::Append(v), _) => Some(Some(current + v)),
            };
            if let Some(next) = next {
                done[i] = true;
                let found = search(ops, done, next);
                done[i] = false;
                if found {
                    return true;
                }
            }
        }
        false
    }
    let ops: Vec<&Event> = events.iter().collect();
    search(&ops, &mut vec![false; ops.len()], None)
}

/// Up to `n` operations with overlapping values on one key: half of them true outputs of an
/// atomic run (each op taking effect at a random instant of its interval, or, when timed out,
/// at a random later one or never), the other half with one output replaced at random.
fn small_history(rng: &mut Rng, n: usize) -> Vec<Event> {
    const VALUES: [&str; 4] = ["a", "b", "ab", ""];
    const SEEN: [Option<&str>; 6] = [None, Some(""), Some("a"), Some("b"), Some("ab"), Some("ba")];
    let mut events = Vec::new();
    // (effect time or None, index)
    let mut effects = Vec::new();
    for i in 0..1 + rng.below(n as u64) as usize {
        let invoked = u128::from(rng.below(20));
        let returned = invoked + u128::from(rng.below(10));
        let value = VALUES[rng.below(4) as usize].to_string();
        let op = match rng.below(3) {
            0 => Op::Get,
            1 => Op::Put(value),
            _ => Op::Append(value),
        };
        let unknown = rng.below(4) == 0;
        let effect = if unknown && rng.below(3) == 0 {
            None
        } else if unknown {
            Some(invoked + u128::from(rng.below(30)))
        } else {
            Some(invoked + u128::from(rng.below((returned - invoked + 1) as u64)))
        };
        effects.push((effect, i));
        let returned = (!unknown).then_some(returned);
        let outcome = if unknown {
            Outcome::Unknown
        } else {
            Outcome::Put
        };
        events.push(Event {
            client: i,
            key: "k".to_string(),
            op,
            outcome,
            invoked,
            returned,
        });
    }
    effects.sort();
    let register = Mutex::new(HashMap::new());
    for (effect, i) in effects {
        if effect.is_some() {
            let outcome = apply(&register, "k", &events[i].op);
            if events[i].outcome != Outcome::Unknown {
                events[i].outcome = outcome;
            }
        }
    }
    if rng.below(2) == 0 {
        let i = rng.below(events.len() as u64) as usize;
        match &events[i].op {
            Op::Get if events[i].outcome != Outcome::Unknown => {
                events[i].outcome = Outcome::Get(SEEN[rng.below(6) as usize].map(str::to_string));
            }
            Op::Append(v) if events[i].outcome != Outcome::Unknown => {
                let before = SEEN[rng.below(6) as usize].unwrap_or_default();
                events[i].outcome = Outcome::Append(format!("{before}{v}"));
            }
            _ => {}
        }
    }
    events
}

#[test]
fn small_random_histories_get_the_verdict_of_a_brute_force_search() {
    let mut rng = Rng(42);
    let (mut linearizable, mut not) = (0, 0);
    for case in 0..30_000 {
        let history = small_history(&mut rng, 7);
        let expected = brute_force(&history);
        let got = check(&history);
        assert_eq!(got.is_ok(), expected, "case {case}: {got:?}\n{history:#?}");
        if expected {
            linearizable += 1;
        } else {
            not += 1;
        }
    }
    println!("{linearizable} linearizable, {not} not");
    assert!(
        linearizable > 5_000 && not > 5_000,
        "{linearizable} linearizable, {not} not"
    );
}

// ---------------------------------------------------------------------------------------------
// Recorded histories.

/// SplitMix64: small, seedable, good enough to pick operations and pauses.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

type Register = Mutex<HashMap<String, String>>;

/// Applies an operation atomically, with its true outcome.
fn apply(register: &Register, key: &str, op: &Op) -> Outcome {
    let mut map = register.lock().unwrap();
    match op {
        Op::Put(v) => {
            map.insert(key.to_string(), v.clone());
            Outcome::Put
        }
        Op::Get => Outcome::Get(map.get(key).cloned()),
        Op::Append(v) => {
            let value = map.entry(key.to_string()).or_default();
            value.push_str(v);
            Outcome::Append(value.clone())
        }
    }
}

fn pause(rng: &mut Rng) {
    match rng.below(4) {
        0 => {}
        1 => thread::yield_now(),
        _ => thread::sleep(Duration::from_micros(rng.below(30))),
    }
}

/// Which values the recorded operations write.
#[derive(Clone, Copy)]
enum Values {
    /// All different, none a substring of another.
    Distinct,
    /// "0", "1" or "2": many orders fit, the search has more to try.
    Few,
}

/// `total` operations from `clients` threads over `keys`, each applied atomically to a shared
/// register between the times recorded as its invocation and return, so the history is
/// linearizable. About `unknown_percent` of them time out: of those, some take effect in their
/// interval, some never, and some later (while the same client runs its next operation, or
/// when it is done).
fn record(
    seed: u64,
    clients: usize,
    total: usize,
    keys: &[&str],
    unknown_percent: u64,
    values: Values,
) -> Vec<Event> {
    let register: Arc<Register> = Arc::new(Mutex::new(HashMap::new()));
    let start = Instant::now();
    let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    let threads: Vec<_> = (0..clients)
        .map(|client| {
            let register = Arc::clone(&register);
            let keys = keys.clone();
            thread::spawn(move || {
                let mut rng = Rng(seed.wrapping_mul(1000).wrapping_add(client as u64));
                let mut events = Vec::new();
                let mut late: Vec<(String, Op)> = Vec::new();
                for seq in 0..total / clients {
                    let key = keys[rng.below(keys.len() as u64) as usize].clone();
                    let value = match values {
                        Values::Distinct => format!("<{client}.{seq}>"),
                        Values::Few => rng.below(3).to_string(),
                    };
                    let op = match rng.below(10) {
                        0..=3 => Op::Get,
                        4..=6 => Op::Put(value),
                        _ => Op::Append(value),
                    };
                    let invoked = start.elapsed().as_nanos();
                    for (key, op) in late.drain(..) {
                        apply(&register, &key, &op);
                    }
                    pause(&mut rng);
                    let unknown = rng.below(100) < unknown_percent;
                    let mut outcome = Outcome::Unknown;
                    match (unknown, rng.below(3)) {
                        (false, _) | (true, 0) => outcome = apply(&register, &key, &op),
                        (true, 1) => {}
                        (true, _) => late.push((key.clone(), op.clone())),
                    }
                    pause(&mut rng);
                    let returned = start.elapsed().as_nanos();
                    let (outcome, returned) = if unknown {
                        (Outcome::Unknown, None)
                    } else {
                        (outcome, Some(returned))
                    };
                    events.push(Event {
                        client,
                        key,
                        op,
                        outcome,
                        invoked,
                        returned,
                    });
                }
                pause(&mut rng);
                for (key, op) in late.drain(..) {
                    apply(&register, &key, &op);
                }
                events
            })
        })
        .collect();
    let mut history: Vec<Event> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    history.sort_by_key(|e| e.invoked);
    history
}

#[track_caller]
fn check_timed(history: &[Event]) -> (Result<(), String>, Duration) {
    let started = Instant::now();
    let verdict = check(history);
    (verdict, started.elapsed())
}

#[test]
fn recorded_histories_of_an_atomic_register_pass_quickly_and_fail_once_a_get_is_corrupted() {
    let keys = ["x", "y", "z"];
    for seed in 1..=3 {
        let history = record(seed, 5, 2_000, &keys, 5, Values::Distinct);
        assert_eq!(history.len(), 2_000);
        let unknown = history
            .iter()
            .filter(|e| e.outcome == Outcome::Unknown)
            .count();
        assert!(unknown > 0, "some operations time out");

        let (verdict, took) = check_timed(&history);
        assert_eq!(verdict, Ok(()), "seed {seed}");
        println!("seed {seed}: 2,000 operations ({unknown} unknown) checked in {took:?}");
        assert!(took < Duration::from_secs(2), "seed {seed}: {took:?}");

        // A get that read a value never written.
        let mut corrupted = history.clone();
        let i = corrupted
            .iter()
            .position(|e| {
                e.op == Op::Get
                    && e.outcome != Outcome::Unknown
                    && e.invoked > history[history.len() / 2].invoked
            })
            .expect("a get in the second half");
        corrupted[i].outcome = Outcome::Get(Some("zzz".to_string()));
        let (verdict, took) = check_timed(&corrupted);
        let message = verdict.expect_err("a get of a value never written");
        assert!(
            message.contains(&format!("{:?}", corrupted[i].key)),
            "{message}"
        );
        assert!(
            message.contains("\"zzz\""),
            "the corrupted get is shown: {message}"
        );
        assert!(!message.contains("search too large"), "{message}");
        assert!(took < Duration::from_secs(2), "seed {seed}: {took:?}");

        // A get that saw the key absent after a write to it had returned.
        let mut corrupted = history.clone();
        let written = |key: &str| {
            history
                .iter()
                .filter(|e| e.key == key && matches!(e.outcome, Outcome::Put | Outcome::Append(_)))
                .filter_map(|e| e.returned)
                .min()
                .unwrap_or(u128::MAX)
        };
        let i = corrupted
            .iter()
            .rposition(|e| {
                matches!(e.outcome, Outcome::Get(Some(_))) && e.invoked > written(&e.key)
            })
            .expect("a get after a write");
        corrupted[i].outcome = Outcome::Get(None);
        let (verdict, took) = check_timed(&corrupted);
        let message = verdict.expect_err("a get of nothing after a write");
        assert!(
            message.contains(&format!("{:?}", corrupted[i].key)),
            "{message}"
        );
        assert!(!message.contains("search too large"), "{message}");
        assert!(took < Duration::from_secs(2), "seed {seed}: {took:?}");
    }
}

#[test]
fn recorded_histories_with_many_timeouts_still_pass_quickly() {
    let history = record(7, 5, 2_000, &["x", "y", "z"], 25, Values::Distinct);
    let (verdict, took) = check_timed(&history);
    assert_eq!(verdict, Ok(()));
    println!("2,000 operations, a quarter timed out, checked in {took:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
}

#[test]
fn recorded_histories_writing_few_distinct_values_pass_quickly() {
    let history = record(13, 5, 2_000, &["x", "y", "z"], 10, Values::Few);
    let (verdict, took) = check_timed(&history);
    assert_eq!(verdict, Ok(()));
    println!("2,000 operations writing \"0\", \"1\" or \"2\" checked in {took:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
}

#[test]
fn a_long_history_on_one_key_passes_quickly() {
    let history = record(11, 5, 1_000, &["only"], 5, Values::Distinct);
    let (verdict, took) = check_timed(&history);
    assert_eq!(verdict, Ok(()));
    println!("1,000 operations on one key checked in {took:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
}

#[test]
fn a_get_of_a_value_no_writes_can_make_is_named_without_a_search() {
    let event = |client, op, outcome, invoked, returned| Event {
        client,
        key: "k".to_string(),
        op,
        outcome,
        invoked,
        returned,
    };
    // "ab" is the put's value and then the unknown append's; "ba" is no order of them.
    let possible = vec![
        event(0, Op::Put("a".into()), Outcome::Put, 0, Some(1)),
        event(1, Op::Append("b".into()), Outcome::Unknown, 2, None),
        event(2, Op::Get, Outcome::Get(Some("ab".into())), 3, Some(4)),
    ];
    assert_eq!(check(&possible), Ok(()));
    // "b" can be made (the append onto the absent register), but not before the put returned
    // and the append was sent: that takes the search, which reports where it stopped.
    let mut too_early = possible.clone();
    too_early.push(event(
        3,
        Op::Get,
        Outcome::Get(Some("b".into())),
        1,
        Some(2),
    ));
    let message = check(&too_early).unwrap_err();
    assert!(message.contains("longest linearizable prefix"), "{message}");
    let mut impossible = possible.clone();
    impossible[2].outcome = Outcome::Get(Some("ba".into()));
    let message = check(&impossible).unwrap_err();
    assert!(
        message.contains("no sequence of the key's writes makes")
            && message.contains("get() -> \"ba\""),
        "{message}"
    );
}
