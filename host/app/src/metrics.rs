//! Prometheus metrics: HTTP requests, hook calls by outcome, hook latency.
//!
//! A small registry rendering the text exposition format at `/metrics`;
//! counters are keyed by their labels.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the hook latency histogram, in seconds.
const BUCKETS: [f64; 10] = [0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.005, 0.025, 0.1];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// The service's metrics.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    hook_calls: Mutex<BTreeMap<(String, String, String), u64>>,
    hook_latency: Mutex<BTreeMap<String, Histogram>>,
}

impl Metrics {
    /// Counts one HTTP request.
    pub fn request(&self, method: &str, route: &str, status: u16) {
        *self.requests.lock().expect("metrics").entry((method.into(), route.into(), status)).or_default() += 1;
    }

    /// Counts one hook call and its latency.
    pub fn hook_call(&self, tenant: &str, hook: &str, outcome: &str, duration: Duration) {
        *self.hook_calls.lock().expect("metrics").entry((tenant.into(), hook.into(), outcome.into())).or_default() += 1;
        let mut latency = self.hook_latency.lock().expect("metrics");
        let h = latency.entry(hook.into()).or_default();
        let secs = duration.as_secs_f64();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += secs;
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP pactum_http_requests_total HTTP requests by method, route and status.\n");
        out.push_str("# TYPE pactum_http_requests_total counter\n");
        for ((method, route, status), n) in self.requests.lock().expect("metrics").iter() {
            let _ = writeln!(
                out,
                "pactum_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        out.push_str("# HELP pactum_hook_calls_total Hook calls by tenant, hook and outcome (ok or the error kind).\n");
        out.push_str("# TYPE pactum_hook_calls_total counter\n");
        for ((tenant, hook, outcome), n) in self.hook_calls.lock().expect("metrics").iter() {
            let _ = writeln!(
                out,
                "pactum_hook_calls_total{{tenant=\"{tenant}\",hook=\"{hook}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        out.push_str("# HELP pactum_hook_call_seconds Hook call latency (isolated instance, call, validation).\n");
        out.push_str("# TYPE pactum_hook_call_seconds histogram\n");
        for (hook, h) in self.hook_latency.lock().expect("metrics").iter() {
            for (bound, n) in BUCKETS.iter().zip(h.counts) {
                let _ = writeln!(out, "pactum_hook_call_seconds_bucket{{hook=\"{hook}\",le=\"{bound}\"}} {n}");
            }
            let _ = writeln!(out, "pactum_hook_call_seconds_bucket{{hook=\"{hook}\",le=\"+Inf\"}} {}", h.count);
            let _ = writeln!(out, "pactum_hook_call_seconds_sum{{hook=\"{hook}\"}} {}", h.sum);
            let _ = writeln!(out, "pactum_hook_call_seconds_count{{hook=\"{hook}\"}} {}", h.count);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_cumulative_buckets() {
        let m = Metrics::default();
        m.request("POST", "/v1/decisions/{hook}", 201);
        m.hook_call("acme", "commission", "ok", Duration::from_micros(30));
        m.hook_call("acme", "commission", "timeout", Duration::from_millis(50));
        let text = m.render();
        assert!(
            text.contains(
                "pactum_http_requests_total{method=\"POST\",route=\"/v1/decisions/{hook}\",status=\"201\"} 1"
            )
        );
        assert!(text.contains("pactum_hook_calls_total{tenant=\"acme\",hook=\"commission\",outcome=\"timeout\"} 1"));
        assert!(text.contains("pactum_hook_call_seconds_bucket{hook=\"commission\",le=\"0.00005\"} 1"));
        assert!(text.contains("pactum_hook_call_seconds_bucket{hook=\"commission\",le=\"0.1\"} 2"));
        assert!(text.contains("pactum_hook_call_seconds_count{hook=\"commission\"} 2"));
    }
}
