//! Request metrics (counts by route and status, latency histograms by route), collected by the
//! `track` middleware, and their rendering with the database's gauges as Prometheus text.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use fielddb::{IndexInfo, IndexState, StorageStats};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 13] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

#[derive(Default)]
struct RouteStats {
    by_status: BTreeMap<u16, u64>,
    /// Cumulative counts per bucket of `BUCKETS`.
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum_seconds: f64,
}

/// Request counters and histograms, keyed by (method, route template), and the connection
/// counters of the accept loop and the request guard.
#[derive(Default)]
pub(crate) struct Metrics {
    routes: Mutex<BTreeMap<(String, String), RouteStats>>,
    connections_open: AtomicU64,
    connections_refused: AtomicU64,
    headers_timed_out: AtomicU64,
    bodies_timed_out: AtomicU64,
    bodies_refused: AtomicU64,
    requests_shed: AtomicU64,
    handshakes_failed: AtomicU64,
    requests_timed_out: AtomicU64,
}

impl Metrics {
    pub(crate) fn connection_opened(&self) {
        self.connections_open.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn connection_closed(&self) {
        self.connections_open.fetch_sub(1, Ordering::Relaxed);
    }
    pub(crate) fn connection_refused(&self) {
        self.connections_refused.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn header_timed_out(&self) {
        self.headers_timed_out.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn body_timed_out(&self) {
        self.bodies_timed_out.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn body_refused(&self) {
        self.bodies_refused.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn request_shed(&self) {
        self.requests_shed.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn handshake_failed(&self) {
        self.handshakes_failed.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn request_timed_out(&self) {
        self.requests_timed_out.fetch_add(1, Ordering::Relaxed);
    }

    fn render_connections(&self, out: &mut String) {
        let metric = |out: &mut String, name: &str, help: &str, kind: &str, value: &AtomicU64| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            let _ = writeln!(out, "{name} {}", value.load(Ordering::Relaxed));
        };
        metric(
            out,
            "fielddb_connections_open",
            "Connections being served.",
            "gauge",
            &self.connections_open,
        );
        metric(
            out,
            "fielddb_connections_refused_total",
            "Connections answered 503 at once: over --max-connections.",
            "counter",
            &self.connections_refused,
        );
        metric(
            out,
            "fielddb_headers_timed_out_total",
            "Connections closed because request headers did not arrive within --header-timeout.",
            "counter",
            &self.headers_timed_out,
        );
        metric(
            out,
            "fielddb_bodies_timed_out_total",
            "Requests answered 408: the body did not arrive within its deadline.",
            "counter",
            &self.bodies_timed_out,
        );
        metric(
            out,
            "fielddb_bodies_refused_total",
            "Requests answered 413: the body was over the limit.",
            "counter",
            &self.bodies_refused,
        );
        metric(
            out,
            "fielddb_requests_shed_total",
            "Requests answered 503 at once: over --max-in-flight.",
            "counter",
            &self.requests_shed,
        );
        metric(
            out,
            "fielddb_tls_handshakes_failed_total",
            "TLS handshakes refused or broken (a peer without a certificate signed by --peer-ca, \
             a client that does not trust the server).",
            "counter",
            &self.handshakes_failed,
        );
        metric(
            out,
            "fielddb_requests_timed_out_total",
            "Requests answered 408: not finished within --request-timeout.",
            "counter",
            &self.requests_timed_out,
        );
    }

    fn record(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        let stats = routes
            .entry((method.to_string(), route.to_string()))
            .or_default();
        *stats.by_status.entry(status).or_default() += 1;
        for (bound, slot) in BUCKETS.iter().zip(stats.buckets.iter_mut()) {
            if seconds <= *bound {
                *slot += 1;
            }
        }
        stats.count += 1;
        stats.sum_seconds += seconds;
    }

    /// The Prometheus text exposition of the request metrics and the database gauges.
    pub(crate) fn render(&self, indexes: &[IndexInfo], storage: Option<&StorageStats>) -> String {
        let mut out = String::new();
        self.render_connections(&mut out);
        let routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        out.push_str("# HELP fielddb_http_requests_total HTTP requests by route and status.\n");
        out.push_str("# TYPE fielddb_http_requests_total counter\n");
        for ((method, route), stats) in routes.iter() {
            for (status, n) in &stats.by_status {
                let _ = writeln!(
                    out,
                    "fielddb_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {n}",
                    escape(method),
                    escape(route)
                );
            }
        }
        out.push_str("# HELP fielddb_http_request_duration_seconds Request latency by route.\n");
        out.push_str("# TYPE fielddb_http_request_duration_seconds histogram\n");
        for ((method, route), stats) in routes.iter() {
            let labels = format!("method=\"{}\",route=\"{}\"", escape(method), escape(route));
            for (bound, n) in BUCKETS.iter().zip(stats.buckets.iter()) {
                let _ = writeln!(
                    out,
                    "fielddb_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "fielddb_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                stats.count
            );
            let _ = writeln!(
                out,
                "fielddb_http_request_duration_seconds_sum{{{labels}}} {}",
                stats.sum_seconds
            );
            let _ = writeln!(
                out,
                "fielddb_http_request_duration_seconds_count{{{labels}}} {}",
                stats.count
            );
        }
        drop(routes);
        if let Some(s) = storage {
            out.push_str(
                "# HELP fielddb_records_estimate Estimated number of records (RocksDB estimate).\n",
            );
            out.push_str("# TYPE fielddb_records_estimate gauge\n");
            let _ = writeln!(out, "fielddb_records_estimate {}", s.estimated_records);
            out.push_str("# HELP fielddb_storage_bytes Bytes used, by part (from RocksDB).\n");
            out.push_str("# TYPE fielddb_storage_bytes gauge\n");
            for (part, n) in [
                ("records", s.kv_file_bytes),
                ("indexes", s.index_file_bytes),
                ("catalog", s.meta_file_bytes),
                ("memtables", s.memtable_bytes),
            ] {
                let _ = writeln!(out, "fielddb_storage_bytes{{part=\"{part}\"}} {n}");
            }
        }
        out.push_str("# HELP fielddb_index_state 1 for each index in its current state.\n");
        out.push_str("# TYPE fielddb_index_state gauge\n");
        for info in indexes {
            let _ = writeln!(
                out,
                "fielddb_index_state{{field=\"{}\",state=\"{}\",unique=\"{}\"}} 1",
                escape(&info.field),
                state_name(&info.state),
                info.unique
            );
        }
        out.push_str("# HELP fielddb_index_build_progress Build progress from 0 to 1.\n");
        out.push_str("# TYPE fielddb_index_build_progress gauge\n");
        for info in indexes {
            let _ = writeln!(
                out,
                "fielddb_index_build_progress{{field=\"{}\"}} {}",
                escape(&info.field),
                info.progress()
            );
        }
        out
    }
}

/// The name of an index state in JSON and metrics.
pub(crate) fn state_name(state: &IndexState) -> &'static str {
    match state {
        IndexState::Building { .. } => "building",
        IndexState::Ready => "ready",
        IndexState::Dropping => "dropping",
    }
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Middleware: times every request and counts it under its route template.
pub(crate) async fn track(
    State(metrics): State<Arc<Metrics>>,
    req: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = req.method().as_str().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let response = next.run(req).await;
    metrics.record(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_lands_in_its_buckets_and_counts() {
        let m = Metrics::default();
        m.record("GET", "/v1/records/{key}", 200, 0.003);
        let text = m.render(&[], None);
        assert!(text.contains(
            "fielddb_http_requests_total{method=\"GET\",route=\"/v1/records/{key}\",status=\"200\"} 1"
        ));
        assert!(text.contains("le=\"0.0025\"} 0"));
        assert!(text.contains("le=\"0.005\"} 1"));
        assert!(text.contains("_count{method=\"GET\",route=\"/v1/records/{key}\"} 1"));
    }
}
