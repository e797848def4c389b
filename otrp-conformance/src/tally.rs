//! Counting what a vector file exercised.

use std::collections::BTreeMap;
use std::fmt;

/// How many vectors of one file ran, and which were skipped for what reason.
#[derive(Debug, Default)]
pub struct Tally {
    /// The file or suite name.
    pub name: String,
    /// Vectors that ran and behaved.
    pub ran: usize,
    /// Skipped vectors, counted per reason.
    pub skipped: BTreeMap<String, usize>,
}

impl Tally {
    /// A new, empty tally.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }

    /// Records one vector that ran.
    pub fn ran(&mut self) {
        self.ran += 1;
    }

    /// Records one vector skipped for `reason`.
    pub fn skip(&mut self, reason: impl Into<String>) {
        *self.skipped.entry(reason.into()).or_default() += 1;
    }

    /// Records one vector skipped because the provider or its keys answered
    /// [`CryptoError::Unsupported`](otrp_core::crypto::CryptoError::Unsupported)
    /// for `what` (reason "provider lacks `what`").
    pub fn lacks(&mut self, what: &str) {
        self.skip(format!("provider lacks {what}"));
    }

    /// Total skipped.
    pub fn skipped_total(&self) -> usize {
        self.skipped.values().sum()
    }

    /// Prints the tally (shown by `cargo test -- --nocapture` and in CI logs
    /// of failing runs). It does not insist that something ran: a partial
    /// provider (ring, say) may legitimately skip a whole file, so callers
    /// pin the exact counts they expect instead.
    pub fn finish(self) -> Self {
        println!("{self}");
        self
    }
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: ran {}, skipped {}",
            self.name,
            self.ran,
            self.skipped_total()
        )?;
        for (reason, n) in &self.skipped {
            write!(f, "\n    skipped {n}: {reason}")?;
        }
        Ok(())
    }
}
