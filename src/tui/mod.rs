//! The terminal UI's shell: terminal events, runner events and the clock become
//! [`Action`]s for the app; the app's [`Command`]s become background tasks. The
//! shell never awaits a query itself: every query runs in a task and reports
//! back over a channel. It draws only after something happened.

pub mod config;
pub mod terminal;
pub mod views;

use crate::app::{Action, App, Command, SessionInfo};
use crate::checks::plan::Plan;
use crate::db::{Backends, Db};
use crate::runner::{self, Estimates, RunOptions};
use config::Config;
use crossterm::event::{
    Event as TermEvent, EventStream, KeyEventKind, MouseButton, MouseEventKind,
};
use futures::StreamExt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How the UI runs its checks.
#[derive(Clone, Debug)]
pub struct Settings {
    pub interval: Duration,
    pub jobs: usize,
    pub timeout: Duration,
    /// Findings accepted until fixed: only new or worse ones are shown.
    pub baseline: Option<Arc<crate::baseline::Baseline>>,
    /// The database URL, for the writable session a fix opens (never shown).
    pub url: String,
    /// Where fixes write their backups.
    pub backup_dir: std::path::PathBuf,
    /// The session a fix writes through (from the command line's flags).
    pub writable: crate::db::SessionOptions,
    /// Whether fixes may be applied (`--allow-writes`), and the word that
    /// confirms one.
    pub writes: crate::app::Writes,
}

/// The run in flight.
struct Running {
    cancel: CancellationToken,
    task: JoinHandle<()>,
}

const PING_LIMIT: Duration = Duration::from_secs(5);
/// How often a run in flight checks that the server still answers.
const WATCHDOG: Duration = Duration::from_secs(3);
const ROOTS: u32 = 50;
/// Root lineages checked at the same time.
const ROOT_CHECKS: usize = 2;

/// What the UI runs on: the session, its plan, who it talks to, and the
/// command line's and the config file's settings.
pub struct Ui {
    pub db: Db,
    pub plan: Arc<Plan>,
    pub info: SessionInfo,
    pub settings: Settings,
    pub config: Config,
}

/// Runs the UI until the user quits. The terminal is restored on every path out.
pub async fn run(ui: Ui) -> std::io::Result<()> {
    let result = run_until_quit(ui).await;
    terminal::restore();
    result
}

async fn run_until_quit(ui: Ui) -> std::io::Result<()> {
    let Ui {
        db,
        plan,
        info,
        settings,
        config,
    } = ui;
    let mut terminal = terminal::init()?;
    let size = terminal.size()?;
    let mut app = App::new(
        info,
        plan.clone(),
        settings.interval,
        (size.width, size.height),
        Instant::now(),
    );
    app.writes = settings.writes.clone();
    let (tx, mut rx) = mpsc::unbounded_channel::<Action>();
    let mut input = EventStream::new();
    let mut runs = Runs::default();
    let mut pending = vec![Action::Tick];

    loop {
        // Drain everything waiting, then draw once; an idle loop draws nothing.
        while let Ok(action) = rx.try_recv() {
            pending.push(action);
        }
        if !pending.is_empty() {
            let now = Instant::now();
            let mut commands = Vec::new();
            for action in pending.drain(..) {
                commands.extend(app.update(action, now));
            }
            let estimates = app.estimates();
            if execute(commands, estimates, &db, &plan, &settings, &tx, &mut runs) {
                break;
            }
            runs.cancelling.retain(|t| !t.is_finished());
            terminal.draw(|frame| views::draw(frame, &app, &config.theme, &config.keymap))?;
        }

        // Wait for the next thing to happen.
        let wake = app.next_wakeup();
        let sleep = async move {
            match wake {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            event = input.next() => match event {
                Some(Ok(event)) => pending.extend(translate(event, &app, &config)),
                Some(Err(_)) | None => pending.push(Action::Quit),
            },
            Some(action) = rx.recv() => pending.push(action),
            _ = sleep => pending.push(Action::Tick),
        }
    }

    // Leave at once, even if a query is stuck: give the terminal back first,
    // then let the cancellations reach the server, for 800 ms at most (a
    // server that does not answer is not waited for; on PostgreSQL 14+ a
    // backend whose cancel was lost ends by itself once it sees its client
    // gone), or until a Ctrl-C, which the terminal now sends as a signal.
    terminal::restore();
    runs.cancel();
    let cancellations = tokio::time::timeout(
        Duration::from_millis(800),
        futures::future::join_all(runs.cancelling),
    );
    tokio::select! {
        _ = cancellations => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(())
}

/// The run in flight, and the runs being cancelled.
#[derive(Default)]
struct Runs {
    running: Option<Running>,
    cancelling: Vec<JoinHandle<()>>,
}

impl Runs {
    /// Cancels the run in flight, if any (on the server too).
    fn cancel(&mut self) {
        if let Some(previous) = self.running.take() {
            previous.cancel.cancel();
            self.cancelling.push(previous.task);
        }
    }
}

/// Carries out the app's commands. Returns true when the app asked to quit.
fn execute(
    commands: Vec<Command>,
    estimates: Estimates,
    db: &Db,
    plan: &Arc<Plan>,
    settings: &Settings,
    tx: &mpsc::UnboundedSender<Action>,
    runs: &mut Runs,
) -> bool {
    let mut quit = false;
    for command in commands {
        match command {
            Command::StartRun(generation) => {
                runs.cancel();
                runs.running = Some(start_run(
                    db,
                    plan,
                    settings,
                    generation,
                    estimates,
                    tx.clone(),
                ));
            }
            Command::CancelRun => runs.cancel(),
            Command::Copy(text) => copy(&text),
            Command::Quit => quit = true,
            other => in_background(other, db, plan, settings, tx),
        }
    }
    quit
}

/// Work of a command that answers later, as an action: pings, lineage,
/// fix previews and applies.
fn in_background(
    command: Command,
    db: &Db,
    plan: &Arc<Plan>,
    settings: &Settings,
    tx: &mpsc::UnboundedSender<Action>,
) {
    let (db, plan, tx) = (db.clone(), plan.clone(), tx.clone());
    match command {
        Command::Ping => {
            tokio::spawn(async move {
                let _ = tx.send(match db.ping(PING_LIMIT).await {
                    Ok(()) => Action::Connected,
                    Err(e) => Action::ConnectionLost(e),
                });
            });
        }
        Command::LoadRoots => {
            tokio::spawn(async move {
                let _ = tx.send(Action::RootsLoaded(
                    crate::lineage::recent(&db, &plan, ROOTS).await,
                ));
            });
        }
        Command::LoadLineage(key) => {
            tokio::spawn(async move {
                let result = crate::lineage::tree(&db, &plan, &key).await;
                let _ = tx.send(Action::LineageLoaded { key, result });
            });
        }
        Command::CheckRoots(keys) => {
            tokio::spawn(async move {
                check_roots(&db, &plan, keys, &tx).await;
            });
        }
        Command::LoadLineageRows { key, position } => {
            tokio::spawn(async move {
                let result = crate::lineage::rows(&db, &plan, &key, &position).await;
                let _ = tx.send(Action::LineageRowsLoaded {
                    key,
                    position,
                    result,
                });
            });
        }
        Command::LoadTimeline { check } => {
            tokio::spawn(async move {
                let result = timelines(&db, &plan, check).await;
                let _ = tx.send(Action::TimelineLoaded { check, result });
            });
        }
        Command::LoadRows { check, after } => {
            tokio::spawn(async move {
                let result = crate::offending::page(
                    &db,
                    &plan,
                    check,
                    after.as_deref(),
                    crate::app::PAGE_ROWS,
                )
                .await;
                let _ = tx.send(Action::RowsLoaded { check, result });
            });
        }
        Command::PreviewFix(check) => {
            tokio::spawn(async move {
                let result = preview_fix(&db, &plan, check).await;
                let _ = tx.send(Action::FixPreviewed { check, result });
            });
        }
        Command::ApplyFix(remedies) => {
            let (url, dir, writable) = (
                settings.url.clone(),
                settings.backup_dir.clone(),
                settings.writable.clone(),
            );
            tokio::spawn(async move {
                let _ = tx.send(Action::FixApplied(
                    apply_fix(&url, writable, &plan, &remedies, dir).await,
                ));
            });
        }
        // Carried out on the loop ([`execute`]).
        Command::StartRun(_) | Command::CancelRun | Command::Copy(_) | Command::Quit => {}
    }
}

/// Checks the lineage of each root, [`ROOT_CHECKS`] at a time, the first
/// listed first, each result sent as it ends.
async fn check_roots(db: &Db, plan: &Plan, keys: Vec<String>, tx: &mpsc::UnboundedSender<Action>) {
    futures::stream::iter(keys)
        .for_each_concurrent(ROOT_CHECKS, |key| async move {
            let result = crate::lineage::broken(db, plan, &key).await;
            let _ = tx.send(Action::RootChecked { key, result });
        })
        .await;
}

fn translate(event: TermEvent, app: &App, config: &Config) -> Option<Action> {
    match event {
        TermEvent::Key(key) if key.kind == KeyEventKind::Press => {
            config.keymap.action(key, app.typing())
        }
        TermEvent::Mouse(mouse) => match mouse.kind {
            MouseEventKind::Down(MouseButton::Left) => Some(Action::Click(mouse.column, mouse.row)),
            MouseEventKind::ScrollUp => Some(Action::ScrollUp(mouse.column, mouse.row)),
            MouseEventKind::ScrollDown => Some(Action::ScrollDown(mouse.column, mouse.row)),
            _ => None,
        },
        TermEvent::Resize(w, h) => Some(Action::Resize(w, h)),
        _ => None,
    }
}

fn start_run(
    db: &Db,
    plan: &Arc<Plan>,
    settings: &Settings,
    generation: u64,
    estimates: Estimates,
    tx: mpsc::UnboundedSender<Action>,
) -> Running {
    let cancel = CancellationToken::new();
    let options = RunOptions {
        jobs: settings.jobs,
        timeout: settings.timeout,
        cancel: cancel.clone(),
        backends: Backends::default(),
        estimates,
    };
    let (db, plan, baseline) = (db.clone(), plan.clone(), settings.baseline.clone());
    let task = tokio::spawn(async move {
        if let Err(e) = db.ping(PING_LIMIT).await {
            let _ = tx.send(Action::ConnectionLost(e));
            return;
        }
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let run = runner::run(&db, plan, &options, events_tx);
        let forward = forward_events(events_rx, &tx, generation, baseline.as_deref());
        // While the run goes on, the server is asked every few seconds: a
        // statement waiting for a connection would otherwise say nothing
        // until the connect timeout. When it does not answer, the run is
        // cancelled and the UI says why at once.
        let ((), failures) = tokio::select! {
            done = async { tokio::join!(run, forward) } => done,
            e = db.until_unreachable(WATCHDOG, PING_LIMIT) => {
                options.cancel.cancel();
                let _ = tx.send(Action::ConnectionLost(e));
                return;
            }
        };
        // Failures may mean the server went away: ask it.
        if failures > 0
            && !options.cancel.is_cancelled()
            && let Err(e) = db.ping(PING_LIMIT).await
        {
            let _ = tx.send(Action::ConnectionLost(e));
        }
    });
    Running { cancel, task }
}

/// Forwards the events of run `generation` to the app until the run ends,
/// without the findings the baseline accepts; returns how many checks failed.
async fn forward_events(
    mut events: mpsc::UnboundedReceiver<runner::Event>,
    tx: &mpsc::UnboundedSender<Action>,
    generation: u64,
    baseline: Option<&crate::baseline::Baseline>,
) -> usize {
    let mut failures = 0;
    while let Some(mut event) = events.recv().await {
        if let Some(baseline) = baseline {
            drop_accepted(baseline, &mut event);
        }
        if let runner::Event::Checked { outcome, .. } = &event
            && outcome.error.is_some()
        {
            failures += 1;
        }
        let _ = tx.send(Action::Runner {
            generation,
            event,
            at: SystemTime::now(),
        });
    }
    failures
}

/// Leaves out of a runner event the findings the baseline accepts.
fn drop_accepted(baseline: &crate::baseline::Baseline, event: &mut runner::Event) {
    match event {
        runner::Event::Checked { outcome, .. } => outcome.findings.retain(|f| !baseline.accepts(f)),
        runner::Event::StatementDone { findings, .. } => findings.retain(|f| !baseline.accepts(f)),
        runner::Event::Estimated { checks, .. } => {
            for (_, outcome) in checks {
                outcome.findings.retain(|f| !baseline.accepts(f))
            }
        }
        _ => {}
    }
}

/// When check `check`'s offending rows were written, and their largest groups.
async fn timelines(db: &Db, plan: &Plan, check: usize) -> Result<crate::timeline::Facts, String> {
    Ok(crate::offending::facts(db, plan, check).await?.0)
}

/// The remedy for one orphans check (its relationship only).
async fn preview_fix(
    db: &Db,
    plan: &Plan,
    check: usize,
) -> Result<Vec<crate::fix::Remedy>, String> {
    let relationship = crate::fix::relationship_of_check(plan, check)
        .ok_or_else(|| "not a relationship's orphans".to_string())?;
    let options = crate::fix::FixOptions {
        scope: Some(crate::fix::Scope::Orphans),
        relationship: None,
        only: Some(relationship),
        action: None,
    };
    let remedies = crate::fix::preview(db, plan, &options)
        .await
        .map_err(|e| e.to_string())?;
    Ok(remedies
        .into_iter()
        .filter(|r| r.relationship == Some(relationship))
        .collect())
}

/// Applies remedies the user confirmed, on a writable session of its own
/// (the same options as the command line's writable sessions).
async fn apply_fix(
    url: &str,
    options: crate::db::SessionOptions,
    plan: &Plan,
    remedies: &[crate::fix::Remedy],
    backup_dir: std::path::PathBuf,
) -> Result<String, String> {
    let db = Db::connect(url, options).await.map_err(|e| e.to_string())?;
    let options = crate::fix::ApplyOptions {
        backup_dir,
        batch_size: 1000,
    };
    let applied = crate::fix::apply(&db, plan, remedies, &options, |_| true).await;
    db.close().await;
    let applied = applied.map_err(|e| e.to_string())?;
    Ok(format!(
        "committed: {} rows changed; backup {} (tether restore puts them back)",
        crate::wording::thousands(applied.rows),
        applied.backup.display()
    ))
}

/// Puts text on the terminal's clipboard with OSC 52.
fn copy(text: &str) {
    let _ = crossterm::execute!(
        std::io::stdout(),
        crossterm::clipboard::CopyToClipboard::to_clipboard_from(text)
    );
}
