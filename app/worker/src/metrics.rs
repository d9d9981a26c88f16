//! Prometheus metrics: counters in atomics, served as text on `GET /metrics`.
use std::sync::{
    atomic::{AtomicU64, Ordering},
    Arc,
};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Default, Debug)]
pub struct Metrics {
    pub jobs_claimed: AtomicU64,
    pub results_submitted: AtomicU64,
    pub jobs_finalized: AtomicU64,
    pub jobs_refused: AtomicU64,
    pub inferences: AtomicU64,
    pub inference_ms_total: AtomicU64,
    pub results_verified: AtomicU64,
    pub challenges: AtomicU64,
    pub votes: AtomicU64,
    pub tx_errors: AtomicU64,
    /// Re-executions running now, and the most that ever ran at once (gauges).
    pub verifications_in_flight: AtomicU64,
    pub verifications_in_flight_peak: AtomicU64,
}

impl Metrics {
    pub fn inc(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }

    pub fn render(&self) -> String {
        let rows = [
            ("cinder_worker_jobs_claimed_total", &self.jobs_claimed, "Jobs claimed"),
            ("cinder_worker_results_submitted_total", &self.results_submitted, "Result commitments submitted"),
            ("cinder_worker_jobs_finalized_total", &self.jobs_finalized, "Jobs finalized"),
            ("cinder_worker_jobs_refused_total", &self.jobs_refused, "Jobs refused (bad input)"),
            ("cinder_worker_inferences_total", &self.inferences, "Inference runs"),
            ("cinder_worker_inference_milliseconds_total", &self.inference_ms_total, "Time spent in inference"),
            ("cinder_worker_results_verified_total", &self.results_verified, "Results re-executed"),
            ("cinder_worker_challenges_total", &self.challenges, "Challenges opened"),
            ("cinder_worker_votes_total", &self.votes, "Votes committed or revealed"),
            ("cinder_worker_transaction_errors_total", &self.tx_errors, "Failed transactions"),
        ];
        let gauges = [
            ("cinder_worker_verifications_in_flight", &self.verifications_in_flight, "Re-executions running now"),
            (
                "cinder_worker_verifications_in_flight_peak",
                &self.verifications_in_flight_peak,
                "Most re-executions that ran at once",
            ),
        ];
        let mut out: String = rows
            .iter()
            .map(|(n, c, h)| format!("# HELP {n} {h}\n# TYPE {n} counter\n{n} {}\n", c.load(Ordering::Relaxed)))
            .collect();
        for (n, g, h) in gauges {
            out.push_str(&format!("# HELP {n} {h}\n# TYPE {n} gauge\n{n} {}\n", g.load(Ordering::Relaxed)));
        }
        out
    }

    /// Counts one re-execution in flight until the guard drops.
    pub fn verification_started(&self) -> InFlight<'_> {
        let now = self.verifications_in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.verifications_in_flight_peak.fetch_max(now, Ordering::SeqCst);
        InFlight(self)
    }
}

pub struct InFlight<'a>(&'a Metrics);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.verifications_in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Serves `/metrics` on `addr` until `shutdown` fires.
pub async fn serve(
    addr: String,
    metrics: Arc<Metrics>,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    tracing::info!(%addr, "metrics endpoint listening");
    serve_on(listener, metrics, shutdown).await
}

/// Serves `/metrics` on a bound listener until `shutdown` fires.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    metrics: Arc<Metrics>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    loop {
        tokio::select! {
            _ = shutdown.changed() => return Ok(()),
            accepted = listener.accept() => {
                let (mut sock, _) = accepted?;
                let m = metrics.clone();
                tokio::spawn(async move {
                    let mut buf = [0u8; 1024];
                    let n = sock.read(&mut buf).await.unwrap_or(0);
                    let ok = buf[..n].starts_with(b"GET /metrics");
                    let body = if ok { m.render() } else { "not found\n".into() };
                    let status = if ok { "200 OK" } else { "404 Not Found" };
                    let resp = format!(
                        "HTTP/1.1 {status}\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = sock.write_all(resp.as_bytes()).await;
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn serves_prometheus_text_and_stops_on_shutdown() {
        let m = Arc::new(Metrics::default());
        Metrics::inc(&m.jobs_claimed);
        Metrics::inc(&m.jobs_claimed);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::watch::channel(false);
        let server = tokio::spawn(serve_on(listener, m, rx));
        let mut sock = tokio::net::TcpStream::connect(addr).await.unwrap();
        sock.write_all(b"GET /metrics HTTP/1.1\r\nhost: x\r\n\r\n").await.unwrap();
        let mut body = String::new();
        sock.read_to_string(&mut body).await.unwrap();
        assert!(body.starts_with("HTTP/1.1 200 OK"), "{body}");
        assert!(body.contains("cinder_worker_jobs_claimed_total 2"), "{body}");
        tx.send(true).unwrap();
        server.await.unwrap().unwrap();
    }
}
