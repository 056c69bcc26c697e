//! `tether watch`: the plan run periodically, one JSON line per alert on stdout,
//! and Prometheus metrics over HTTP.

use super::args::{ConnectArgs, PlanArgs};
use crate::alerts::{Alert, Watcher};
use crate::baseline::Baseline;
use crate::report::prometheus::Exposition;
use crate::runner::{self, Estimates, RunOptions};
use clap::Args;
use color_eyre::eyre::{Result, WrapErr, eyre};
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

#[derive(Args, Clone, Debug)]
pub struct WatchArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(flatten)]
    pub plan: PlanArgs,
    /// Seconds between runs, above 0, at most 86400.
    #[arg(long, default_value_t = 60.0, value_name = "SECS", value_parser = super::args::seconds, allow_hyphen_values = true)]
    pub interval: f64,
    /// Run once and exit (for cron).
    #[arg(long)]
    pub once: bool,
    /// Serve Prometheus metrics at http://ADDR/metrics (e.g. 127.0.0.1:9187; port 0 picks one).
    #[arg(long, value_name = "ADDR", value_parser = super::args::listen_address)]
    pub metrics_addr: Option<String>,
    /// Alert only on findings that are new or worse than in this baseline file.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
}

const PING_LIMIT: Duration = Duration::from_secs(5);
/// How often a run in flight checks that the server still answers.
const WATCHDOG: Duration = Duration::from_secs(3);

fn emit(alert: &Alert) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{}",
        serde_json::to_string(alert).expect("alerts serialise")
    );
    let _ = out.flush();
}

/// Serves `GET /metrics` (the exposition) over HTTP/1.1 with keep-alive;
/// any other path is 404. hyper handles the protocol; this loop only takes
/// connections.
async fn serve(listener: TcpListener, exposition: Arc<Mutex<Exposition>>) {
    loop {
        let socket = match listener.accept().await {
            Ok((socket, _)) => socket,
            // Out of file descriptors, or a connection reset before it was
            // taken: the error repeats at once, so wait before the next try
            // rather than spin.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let exposition = exposition.clone();
        tokio::spawn(async move {
            let answer = hyper::service::service_fn(move |request| {
                let exposition = exposition.clone();
                async move { Ok::<_, std::convert::Infallible>(metrics_response(&request, &exposition)) }
            });
            // A client that sends no complete request in time is dropped.
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(Duration::from_secs(5))
                .serve_connection(hyper_util::rt::TokioIo::new(socket), answer)
                .await;
        });
    }
}

/// The answer to one request to the metrics endpoint.
fn metrics_response<B>(
    request: &hyper::Request<B>,
    exposition: &Mutex<Exposition>,
) -> hyper::Response<http_body_util::Full<hyper::body::Bytes>> {
    use hyper::{Method, StatusCode, header};
    let (status, body) = match (request.method(), request.uri().path()) {
        (&Method::GET | &Method::HEAD, "/metrics") => (
            StatusCode::OK,
            exposition.lock().map(|e| e.render()).unwrap_or_default(),
        ),
        (_, "/metrics") => (
            StatusCode::METHOD_NOT_ALLOWED,
            "only GET: try GET /metrics\n".to_string(),
        ),
        _ => (
            StatusCode::NOT_FOUND,
            "not found: try /metrics\n".to_string(),
        ),
    };
    let mut response = hyper::Response::new(http_body_util::Full::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(crate::report::prometheus::CONTENT_TYPE),
    );
    response
}

pub async fn run(args: WatchArgs) -> Result<u8> {
    // SIGINT or SIGTERM stops it, cancelling the queries in flight; a second
    // one leaves at once. Listened to from the start: a signal while it
    // connects or reads the catalog stops it as well.
    let stop = CancellationToken::new();
    super::stop_on_signals(stop.clone(), true, Arc::default());
    let (url, is_demo) = super::resolve_url(&args.connect).await?;
    let profile = super::load_profile(&args.plan, is_demo)?;
    let baseline = match &args.baseline {
        Some(path) => Some(Baseline::load(path).map_err(|e| eyre!(e))?),
        None => None,
    };
    let db = super::open(&url, &args.connect).await?;
    let plan = Arc::new(super::plan(&db, &args.plan, profile.as_ref()).await?);
    let exposition = Arc::new(Mutex::new(Exposition::default()));
    if let Some(addr) = &args.metrics_addr {
        let listener = TcpListener::bind(addr)
            .await
            .wrap_err_with(|| format!("listening on {addr}"))?;
        eprintln!(
            "tether: metrics on http://{}/metrics",
            listener.local_addr()?
        );
        tokio::spawn(serve(listener, exposition.clone()));
    }
    let interval = Duration::from_secs_f64(args.interval);
    let mut watching = Watching {
        db,
        plan,
        baseline,
        exposition,
        stop,
        watcher: Watcher::default(),
        counted: false,
    };
    loop {
        if !watching.once(&args, interval).await || args.once {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = watching.stop.cancelled() => break,
        }
    }
    watching.db.close().await;
    Ok(0)
}

/// What `watch` keeps from one run to the next.
struct Watching {
    db: crate::db::Db,
    plan: Arc<crate::checks::plan::Plan>,
    baseline: Option<Baseline>,
    exposition: Arc<Mutex<Exposition>>,
    /// SIGINT or SIGTERM.
    stop: CancellationToken,
    watcher: Watcher,
    /// Until a run has counted exactly, a large table is estimated first
    /// from a sample (an `estimate` line per finding), then counted.
    counted: bool,
}

impl Watching {
    /// One run, its alerts printed and its metrics kept; false when it was
    /// stopped.
    async fn once(&mut self, args: &WatchArgs, interval: Duration) -> bool {
        let reachable = self.db.ping(PING_LIMIT).await;
        let unreachable = reachable.is_err();
        self.unreachable(reachable);
        if unreachable {
            return true;
        }
        let options = RunOptions {
            jobs: usize::from(args.connect.jobs),
            timeout: Duration::from_secs_f64(args.connect.timeout),
            cancel: self.stop.child_token(),
            estimates: if self.counted {
                Estimates::Off
            } else {
                Estimates::first_within(self.plan.engine, interval)
            },
            ..RunOptions::default()
        };
        let baseline = &self.baseline;
        let cancel = options.cancel.clone();
        let run = runner::run_to_end(&self.db, self.plan.clone(), &options, |event| {
            if let runner::Event::Estimated { checks, .. } = event {
                let now = SystemTime::now();
                for finding in checks.iter().flat_map(|(_, o)| &o.findings) {
                    if baseline.as_ref().is_none_or(|b| !b.accepts(finding)) {
                        emit(&Alert::estimate(finding, now));
                    }
                }
            }
        });
        // A run whose statements wait on a database that went away says so
        // as soon as a ping does, not at the connect timeout.
        let result = tokio::select! {
            result = run => result,
            e = self.db.until_unreachable(WATCHDOG, PING_LIMIT) => {
                cancel.cancel();
                self.unreachable(Err(e));
                return true;
            }
        };
        if self.stop.is_cancelled() {
            return false;
        }
        self.after_run(result).await;
        true
    }

    /// Says the connection's state: `tether_up`, then an alert when it
    /// changed (so that whoever reacts to the alert reads the same state).
    fn unreachable(&mut self, state: Result<(), String>) {
        if let Ok(mut e) = self.exposition.lock() {
            e.set_up(state.is_ok());
        }
        if let Some(alert) = self.watcher.connection(&state, SystemTime::now()) {
            emit(&alert);
        }
    }

    /// Alerts and metrics of a finished run, unless the database went away
    /// mid-run: then the run says nothing about the data.
    async fn after_run(&mut self, mut result: runner::RunResult) {
        let failed = result.outcomes.iter().flatten().any(|o| o.error.is_some());
        let still_there = if failed {
            self.db.ping(PING_LIMIT).await
        } else {
            Ok(())
        };
        let lost = still_there.is_err();
        self.unreachable(still_there);
        if lost {
            return;
        }
        self.counted = true;
        super::read_facts_apart(&self.db, &self.plan, &mut result).await;
        if let Some(baseline) = &self.baseline {
            result.findings = baseline
                .compare(std::mem::take(&mut result.findings))
                .reported;
        }
        let now = SystemTime::now();
        for alert in self.watcher.after_run(&result.findings, now) {
            emit(&alert);
        }
        if let Ok(mut e) = self.exposition.lock() {
            e.record(&self.plan, &result, now);
        }
    }
}
