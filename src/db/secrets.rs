//! Texts that must never be shown: passwords, as typed and as sent.

use std::fmt;

/// A set of secret texts. `Debug` shows only how many there are.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secrets(Vec<String>);

impl Secrets {
    pub fn add(&mut self, secret: &str) {
        if !secret.is_empty() && !self.0.iter().any(|s| s == secret) {
            self.0.push(secret.to_string());
            // Longest first, so that a secret holding another goes whole.
            self.0.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    pub fn extend(&mut self, other: &Secrets) {
        for s in &other.0 {
            self.add(s);
        }
    }

    pub fn contains(&self, text: &str) -> bool {
        self.0.iter().any(|s| s == text)
    }

    /// The text with every secret replaced by `***`.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in &self.0 {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), "***");
            }
        }
        out
    }
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secrets({})", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubs_the_longest_first_and_never_debugs_them() {
        let mut s = Secrets::default();
        s.add("pass");
        s.add("pass%40word");
        s.add("");
        assert_eq!(s.scrub("a pass%40word b pass c"), "a *** b *** c");
        assert_eq!(format!("{s:?}"), "Secrets(2)");
    }
}
