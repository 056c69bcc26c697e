//! The refresh state machine: runs started on a schedule or on demand, the
//! runner's events folded into the checks' views, the connection lost and
//! found again.

use super::*;

impl App {
    /// The actions of this state machine ([`Action::machine`]).
    pub(super) fn update_refresh(&mut self, action: Action, now: Instant) -> Vec<Command> {
        match action {
            Action::Refresh => {
                if let Connection::Lost { pinging, .. } = &mut self.connection {
                    // Retry now, unless an attempt is under way.
                    return if std::mem::replace(pinging, true) {
                        Vec::new()
                    } else {
                        vec![Command::Ping]
                    };
                }
                self.run_now(now)
            }
            Action::TogglePause => {
                self.refresh.paused = !self.refresh.paused;
                if !self.refresh.paused {
                    self.refresh.next_due = now;
                }
                Vec::new()
            }
            Action::IntervalUp | Action::IntervalDown => {
                self.change_interval(matches!(action, Action::IntervalUp));
                Vec::new()
            }
            Action::Tick => self.tick(now),
            Action::Runner {
                generation,
                event,
                at,
            } => {
                if generation == self.refresh.generation {
                    self.apply(event, at, now);
                }
                Vec::new()
            }
            Action::Connected => {
                let was_lost = matches!(self.connection, Connection::Lost { .. });
                self.connection = Connection::Connected;
                if was_lost && !self.refresh.running {
                    return vec![self.start_run(now)];
                }
                Vec::new()
            }
            Action::ConnectionLost(error) => {
                self.connection_lost(error, now);
                Vec::new()
            }
            // Actions of the other state machines are not sent here.
            _ => Vec::new(),
        }
    }

    /// A run now, the one in flight cancelled.
    pub(super) fn run_now(&mut self, now: Instant) -> Vec<Command> {
        let mut commands = Vec::new();
        if self.refresh.running {
            commands.push(Command::CancelRun);
        }
        commands.push(self.start_run(now));
        commands
    }

    pub(super) fn start_run(&mut self, now: Instant) -> Command {
        self.refresh.generation += 1;
        self.refresh.running = true;
        self.refresh.next_due = now + self.refresh.interval;
        self.retried.clear();
        self.estimated.clear();
        for (view, check) in self.checks.iter_mut().zip(&self.plan.checks) {
            view.counted = false;
            if !matches!(check.work, Work::Catalog(_) | Work::Withheld(_)) {
                view.state = CheckState::Queued;
            }
        }
        Command::StartRun(self.refresh.generation)
    }

    pub(super) fn tick(&mut self, now: Instant) -> Vec<Command> {
        match &mut self.connection {
            Connection::Lost {
                retry_at,
                pinging: pinging @ false,
                ..
            } if now >= *retry_at => {
                *pinging = true;
                vec![Command::Ping]
            }
            Connection::Lost { .. } => Vec::new(),
            Connection::Connected => {
                if !self.refresh.paused && !self.refresh.running && now >= self.refresh.next_due {
                    vec![self.start_run(now)]
                } else {
                    Vec::new()
                }
            }
        }
    }

    pub(super) fn apply(&mut self, event: Event, at: SystemTime, now: Instant) {
        match event {
            Event::Started { statement } => {
                self.statements[statement].running = true;
                self.statements[statement].started = Some(now);
                for &c in &self.plan.statements[statement].checks {
                    self.checks[c].state = CheckState::Running;
                    self.checks[c].progress = None;
                    self.checks[c].started = Some(now);
                }
            }
            Event::Progress {
                statement,
                done,
                parts,
            } => {
                for &c in &self.plan.statements[statement].checks {
                    self.checks[c].progress = Some((done, parts));
                }
            }
            Event::Estimated {
                statement,
                elapsed,
                checks,
            } => {
                self.estimated.push((
                    self.plan.statements[statement].key.clone(),
                    elapsed.as_secs_f64() * 1000.0,
                ));
                for (c, outcome) in checks {
                    // An exact count, even an older one, is worth more.
                    if self.checks[c].count.is_none() {
                        self.checks[c].estimate = Some(outcome);
                    }
                }
            }
            Event::Checked { check, outcome } => self.checks[check].decided(outcome),
            Event::StatementDone {
                statement,
                elapsed,
                failed,
                findings,
            } => self.statements[statement].done(elapsed, failed, findings),
            // The pass shows as failed; its checks' own statements are
            // listed after the plan's.
            Event::Retried { key, elapsed, .. } => {
                self.retried.push((key, elapsed.as_secs_f64() * 1000.0));
            }
            Event::Metric { metric, outcome } => self.metrics[metric] = Some(outcome),
            Event::Finished {
                elapsed, cancelled, ..
            } => {
                self.refresh.running = false;
                if !cancelled {
                    self.refresh.last_finished = Some(at);
                    self.refresh.last_finished_at = Some(now);
                    self.refresh.last_elapsed = Some(elapsed);
                    self.refresh.completed += 1;
                    self.record_counts(at);
                }
                self.refresh.next_due = self.refresh.next_due.max(now);
            }
        }
    }

    /// The refresh that finished at `at` ran to the end: each row check
    /// it counted exactly keeps that count in its history. (A cancelled
    /// refresh, a check that failed or was only estimated, keeps none.)
    fn record_counts(&mut self, at: SystemTime) {
        for (view, check) in self.checks.iter_mut().zip(&self.plan.checks) {
            view.refreshed(at, matches!(check.work, Work::Rows(_)));
        }
    }

    /// How the next refresh estimates: first from samples while a large
    /// table's checks have no exact count yet, so that the first screen
    /// answers within the refresh interval; else exactly.
    pub fn estimates(&self) -> Estimates {
        let waiting = self.plan.statements.iter().any(|s| {
            s.sampling.is_some() && s.checks.iter().any(|&c| self.checks[c].count.is_none())
        });
        if waiting {
            Estimates::first_within(self.plan.engine, self.refresh.interval)
        } else {
            Estimates::Off
        }
    }

    /// The next longer (or shorter) of the refresh intervals; the next
    /// refresh moves with it.
    fn change_interval(&mut self, longer: bool) {
        let current = self.refresh.interval.as_secs();
        let next = if longer {
            INTERVALS
                .iter()
                .copied()
                .find(|&s| s > current)
                .unwrap_or(INTERVALS[INTERVALS.len() - 1])
        } else {
            INTERVALS
                .iter()
                .rev()
                .copied()
                .find(|&s| s < current)
                .unwrap_or(INTERVALS[0])
        };
        let previous = self.refresh.interval;
        self.refresh.interval = Duration::from_secs(next);
        if !self.refresh.running {
            self.refresh.next_due = self.refresh.next_due - previous + self.refresh.interval;
        }
    }

    /// The database did not answer: retry with a growing backoff; what was
    /// running is queued again.
    fn connection_lost(&mut self, error: String, now: Instant) {
        let attempt = match &self.connection {
            Connection::Lost { attempt, .. } => attempt + 1,
            Connection::Connected => 1,
        };
        let backoff = Duration::from_secs(1 << (attempt - 1).min(5)).min(MAX_BACKOFF);
        self.connection = Connection::Lost {
            error,
            attempt,
            retry_at: now + backoff,
            pinging: false,
        };
        self.refresh.running = false;
        for c in &mut self.checks {
            if matches!(c.state, CheckState::Running) {
                c.state = CheckState::Queued;
            }
        }
        for s in &mut self.statements {
            s.running = false;
        }
    }
}
