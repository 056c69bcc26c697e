//! A row check's **count history**: its exact counts over the session, one
//! per refresh that counted it, bounded, and since when it has been
//! non-zero. Kept per check only once it has a count, and compact: while a
//! check holds, its zeros are a number, not a list.

use super::COUNT_HISTORY;
use std::collections::VecDeque;
use std::time::SystemTime;

/// The refreshes in a row that found rows: since when, and how many.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Streak {
    /// When the first of them finished.
    pub since: SystemTime,
    /// How many refreshes counted it non-zero since then (refreshes that
    /// could not count it neither break nor lengthen it).
    pub refreshes: u32,
}

/// The latest [`COUNT_HISTORY`] exact counts of one check, oldest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CountHistory {
    /// The zeros the window starts with: a check that has always held
    /// keeps no list at all.
    zeros: u8,
    /// The rest of the window, starting with a non-zero count.
    counts: VecDeque<u64>,
    /// The current non-zero streak, none once a refresh counts 0.
    streak: Option<Streak>,
}

impl CountHistory {
    /// A refresh that finished at `at` counted `count` exactly.
    pub fn record(&mut self, count: u64, at: SystemTime) {
        if self.len() == COUNT_HISTORY {
            if self.zeros > 0 {
                self.zeros -= 1;
            } else {
                self.counts.pop_front();
            }
        }
        self.counts.push_back(count);
        while self.counts.front() == Some(&0) {
            self.counts.pop_front();
            self.zeros += 1;
        }
        if self.counts.is_empty() && self.counts.capacity() > 0 {
            // Back to holding: the list's memory goes.
            self.counts = VecDeque::new();
        }
        self.streak = match (count, self.streak) {
            (0, _) => None,
            (_, Some(s)) => Some(Streak {
                refreshes: s.refreshes.saturating_add(1),
                ..s
            }),
            (_, None) => Some(Streak {
                since: at,
                refreshes: 1,
            }),
        };
    }

    /// How many counts are kept (at most [`COUNT_HISTORY`]).
    pub fn len(&self) -> usize {
        usize::from(self.zeros) + self.counts.len()
    }

    /// True before the first count.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The counts kept, oldest first.
    pub fn counts(&self) -> impl Iterator<Item = u64> + '_ {
        std::iter::repeat_n(0, usize::from(self.zeros)).chain(self.counts.iter().copied())
    }

    /// True when every count kept is 0.
    pub fn held(&self) -> bool {
        self.counts.is_empty()
    }

    /// Since when it has been non-zero, while it is.
    pub fn streak(&self) -> Option<Streak> {
        self.streak
    }
}
