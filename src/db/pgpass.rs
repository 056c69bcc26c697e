//! The password file (`~/.pgpass`, `PGPASSFILE`, `passfile`), read as libpq
//! reads it: `host:port:database:user:password` lines, `*` matching anything,
//! `\` escaping `:` and `\`, the first matching line winning, and the whole
//! file ignored when others may read it.

use std::path::PathBuf;

/// A password file and what became of reading it. `Debug` leaves out the
/// lines read.
#[derive(Clone, Default)]
pub struct PassFile {
    pub path: Option<PathBuf>,
    /// Why the file was not used although it exists (for a hint on a failed login).
    pub ignored: Option<String>,
    lines: Option<Vec<String>>,
}

impl std::fmt::Debug for PassFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PassFile")
            .field("path", &self.path)
            .field("ignored", &self.ignored)
            .finish_non_exhaustive()
    }
}

impl PassFile {
    pub fn at(path: Option<PathBuf>) -> PassFile {
        PassFile {
            path,
            ignored: None,
            lines: None,
        }
    }

    /// The password of the first line matching, and the file it came from.
    pub fn lookup(
        &mut self,
        host: &str,
        port: u16,
        database: &str,
        user: &str,
    ) -> Option<(String, PathBuf)> {
        let path = self.path.clone()?;
        if self.lines.is_none() {
            self.lines = Some(self.read(&path));
        }
        let port = port.to_string();
        self.lines.as_ref()?.iter().find_map(|line| {
            let rest = matches(line, host)?;
            let rest = matches(rest, &port)?;
            let rest = matches(rest, database)?;
            let rest = matches(rest, user)?;
            let password = unescape_password(rest);
            (!password.is_empty()).then(|| (password, path.clone()))
        })
    }

    /// Drops the lines read (they hold other servers' passwords).
    pub fn forget_lines(&mut self) {
        self.lines = None;
    }

    fn read(&mut self, path: &PathBuf) -> Vec<String> {
        let Ok(meta) = std::fs::metadata(path) else {
            return Vec::new();
        };
        if !meta.is_file() {
            self.ignored = Some(format!(
                "password file \"{}\" is not a plain file",
                path.display()
            ));
            return Vec::new();
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            if meta.permissions().mode() & 0o077 != 0 {
                self.ignored = Some(format!(
                    "password file \"{}\" has group or world access; permissions should be u=rw (0600) or less",
                    path.display()
                ));
                return Vec::new();
            }
        }
        let Ok(text) = std::fs::read_to_string(path) else {
            return Vec::new();
        };
        text.lines()
            .map(|l| l.trim_end_matches('\r'))
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_string)
            .collect()
    }
}

/// libpq's `pwdfMatchesString`: the field at the start of `line` matches
/// `token` (or is `*`); returns the rest of the line after its `:`.
fn matches<'a>(line: &'a str, token: &str) -> Option<&'a str> {
    if let Some(rest) = line.strip_prefix("*:") {
        return Some(rest);
    }
    let mut field = String::new();
    let mut chars = line.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, escaped)) => field.push(escaped),
                None => return None,
            },
            ':' => return (field == token).then(|| &line[i + 1..]),
            c => field.push(c),
        }
    }
    None
}

/// The password field: up to an unescaped `:`, with `\` escapes removed.
fn unescape_password(rest: &str) -> String {
    let mut out = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(escaped) => out.push(escaped),
                None => out.push('\\'),
            },
            ':' => break,
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file(text: &str, mode: u32) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(f.path(), std::fs::Permissions::from_mode(mode)).unwrap();
        }
        f
    }

    #[test]
    fn first_matching_line_wins_with_wildcards_and_escapes() {
        let f = file(
            "# comment\nother:5432:*:*:nope\ndb\\:x:5432:shop:alice:p\\:w\\\\d\n*:*:*:alice:fallback\n",
            0o600,
        );
        let mut pf = PassFile::at(Some(f.path().to_path_buf()));
        assert_eq!(
            pf.lookup("db:x", 5432, "shop", "alice").map(|p| p.0),
            Some("p:w\\d".to_string())
        );
        assert_eq!(
            pf.lookup("db:x", 5433, "shop", "alice").map(|p| p.0),
            Some("fallback".to_string())
        );
        assert_eq!(pf.lookup("db", 5432, "shop", "bob"), None);
    }

    #[cfg(unix)]
    #[test]
    fn a_file_others_can_read_is_ignored() {
        let f = file("*:*:*:*:secret\n", 0o644);
        let mut pf = PassFile::at(Some(f.path().to_path_buf()));
        assert_eq!(pf.lookup("h", 5432, "d", "u"), None);
        assert!(pf.ignored.unwrap().contains("group or world access"));
    }
}
