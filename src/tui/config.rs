//! The TUI's settings file (`<config dir>/tether/config.toml`): key bindings and
//! colours. Every key has a default; the file only overrides.
//!
//! ```toml
//! [keys]
//! quit = ["q", "ctrl-c"]
//! refresh = ["r", "f5"]
//!
//! [colors]
//! error = "red"
//! accent = "#5fafd7"
//! ```

use crate::app::{Action, Pane};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::Color;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    keys: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    colors: BTreeMap<String, String>,
}

/// A named action a key can be bound to, with its default keys and help text.
struct Binding {
    name: &'static str,
    action: fn() -> Action,
    keys: &'static [&'static str],
    help: &'static str,
}

const BINDINGS: &[Binding] = &[
    Binding {
        name: "quit",
        action: || Action::Quit,
        keys: &["q", "ctrl-c"],
        help: "quit, cancelling queries",
    },
    Binding {
        name: "help",
        action: || Action::Help,
        keys: &["?"],
        help: "this help",
    },
    Binding {
        name: "refresh",
        action: || Action::Refresh,
        keys: &["r", "f5"],
        help: "refresh now",
    },
    Binding {
        name: "pause",
        action: || Action::TogglePause,
        keys: &["p"],
        help: "pause / resume",
    },
    Binding {
        name: "interval_up",
        action: || Action::IntervalUp,
        keys: &["+", "="],
        help: "refresh less often",
    },
    Binding {
        name: "interval_down",
        action: || Action::IntervalDown,
        keys: &["-"],
        help: "refresh more often",
    },
    Binding {
        name: "next_pane",
        action: || Action::NextPane,
        keys: &["tab"],
        help: "next pane",
    },
    Binding {
        name: "prev_pane",
        action: || Action::PrevPane,
        keys: &["backtab"],
        help: "previous pane",
    },
    Binding {
        name: "graph",
        action: || Action::FocusPane(Pane::Graph),
        keys: &["1"],
        help: "flow graph",
    },
    Binding {
        name: "orphans",
        action: || Action::FocusPane(Pane::Orphans),
        keys: &["2"],
        help: "orphans",
    },
    Binding {
        name: "tenants",
        action: || Action::FocusPane(Pane::Tenants),
        keys: &["3"],
        help: "tenant isolation",
    },
    Binding {
        name: "latency",
        action: || Action::FocusPane(Pane::Latency),
        keys: &["4"],
        help: "latency",
    },
    Binding {
        name: "metrics",
        action: || Action::ShowMetrics,
        keys: &["5", "m"],
        help: "metrics",
    },
    Binding {
        name: "lineage",
        action: || Action::ShowLineage,
        keys: &["6", "L"],
        help: "lineage",
    },
    Binding {
        name: "next_match",
        action: || Action::NextMatch,
        keys: &["n"],
        help: "next table the filter matches",
    },
    Binding {
        name: "prev_match",
        action: || Action::PrevMatch,
        keys: &["N"],
        help: "previous table the filter matches",
    },
    Binding {
        name: "findings",
        action: || Action::ShowFindings,
        keys: &["7", "F"],
        help: "every finding, by severity",
    },
    Binding {
        name: "up",
        action: || Action::Up,
        keys: &["up", "k"],
        help: "up (graph: parent layer)",
    },
    Binding {
        name: "down",
        action: || Action::Down,
        keys: &["down", "j"],
        help: "down (graph: child layer)",
    },
    Binding {
        name: "left",
        action: || Action::Left,
        keys: &["left", "h"],
        help: "graph: previous table",
    },
    Binding {
        name: "right",
        action: || Action::Right,
        keys: &["right", "l"],
        help: "graph: next table",
    },
    Binding {
        name: "page_up",
        action: || Action::PageUp,
        keys: &["pageup"],
        help: "page up",
    },
    Binding {
        name: "page_down",
        action: || Action::PageDown,
        keys: &["pagedown"],
        help: "page down",
    },
    Binding {
        name: "top",
        action: || Action::Top,
        keys: &["home", "g"],
        help: "first row",
    },
    Binding {
        name: "bottom",
        action: || Action::Bottom,
        keys: &["end", "G"],
        help: "last row",
    },
    Binding {
        name: "open",
        action: || Action::Open,
        keys: &["enter"],
        help: "open the detail",
    },
    Binding {
        name: "back",
        action: || Action::Back,
        keys: &["esc", "backspace"],
        help: "back",
    },
    Binding {
        name: "sort",
        action: || Action::Sort,
        keys: &["s"],
        help: "orphans: sort by next",
    },
    Binding {
        name: "reverse",
        action: || Action::ReverseSort,
        keys: &["S"],
        help: "orphans: reverse sort",
    },
    Binding {
        name: "copy",
        action: || Action::CopySql,
        keys: &["y", "c"],
        help: "detail: copy SQL (OSC 52)",
    },
    Binding {
        name: "copy_count",
        action: || Action::CopyCountSql,
        keys: &["Y"],
        help: "detail: copy the query that counts its rows",
    },
    Binding {
        name: "timeline",
        action: || Action::ToggleTimeline,
        keys: &["t"],
        help: "row check detail: hide or show when its rows were written",
    },
    Binding {
        name: "fix",
        action: || Action::Fix,
        keys: &["f"],
        help: "orphan detail: preview the fix",
    },
    Binding {
        name: "apply",
        action: || Action::Apply,
        keys: &["A"],
        help: "fix preview: apply (asks first)",
    },
    Binding {
        name: "input",
        action: || Action::StartInput,
        keys: &["/", "i"],
        help: "filter tables / type an id",
    },
];

type Key = (KeyCode, KeyModifiers);

/// Key bindings: which key means which action.
#[derive(Clone, Debug)]
pub struct Keymap {
    bindings: Vec<(Key, &'static str)>,
    /// (keys, help) per action, in help order.
    pub help: Vec<(String, &'static str)>,
}

/// Colours of the UI. `NO_COLOR` gives one without colours.
#[derive(Clone, Debug, PartialEq)]
pub struct Theme {
    pub error: Color,
    pub warning: Color,
    pub info: Color,
    pub ok: Color,
    pub accent: Color,
    pub dim: Color,
    pub colored: bool,
}

impl Theme {
    pub fn colored() -> Theme {
        Theme {
            error: Color::Red,
            warning: Color::Yellow,
            info: Color::Cyan,
            ok: Color::Green,
            accent: Color::Blue,
            dim: Color::DarkGray,
            colored: true,
        }
    }

    pub fn plain() -> Theme {
        Theme {
            error: Color::Reset,
            warning: Color::Reset,
            info: Color::Reset,
            ok: Color::Reset,
            accent: Color::Reset,
            dim: Color::Reset,
            colored: false,
        }
    }
}

#[derive(Debug)]
pub struct Config {
    pub keymap: Keymap,
    pub theme: Theme,
}

pub fn default_path() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("tether").join("config.toml"))
}

impl Config {
    /// Defaults, overridden by the file at `path` when it exists. `no_color`
    /// drops every colour.
    pub fn load(path: Option<&Path>, no_color: bool) -> Result<Config, String> {
        let file: File = match path {
            Some(p) if p.exists() => {
                let text =
                    std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
                toml::from_str(&text)
                    .map_err(|e| format!("{}: {}", p.display(), e.message().trim()))?
            }
            _ => File::default(),
        };
        let keymap = Keymap::new(&file.keys)?;
        let mut theme = if no_color {
            Theme::plain()
        } else {
            Theme::colored()
        };
        if !no_color {
            for (name, value) in &file.colors {
                let color: Color = value
                    .parse()
                    .map_err(|_| format!("colors.{name}: unknown colour \"{value}\""))?;
                match name.as_str() {
                    "error" => theme.error = color,
                    "warning" => theme.warning = color,
                    "info" => theme.info = color,
                    "ok" => theme.ok = color,
                    "accent" => theme.accent = color,
                    "dim" => theme.dim = color,
                    other => return Err(format!("colors.{other}: unknown colour name")),
                }
            }
        }
        Ok(Config { keymap, theme })
    }
}

fn parse_key(spec: &str) -> Option<Key> {
    let mut modifiers = KeyModifiers::NONE;
    let mut rest = spec;
    loop {
        if let Some(r) = rest.strip_prefix("ctrl-") {
            modifiers |= KeyModifiers::CONTROL;
            rest = r;
        } else if let Some(r) = rest.strip_prefix("alt-") {
            modifiers |= KeyModifiers::ALT;
            rest = r;
        } else {
            break;
        }
    }
    let code = match rest.to_ascii_lowercase().as_str() {
        "enter" => KeyCode::Enter,
        "esc" => KeyCode::Esc,
        "tab" => KeyCode::Tab,
        "backtab" => KeyCode::BackTab,
        "backspace" => KeyCode::Backspace,
        "up" => KeyCode::Up,
        "down" => KeyCode::Down,
        "left" => KeyCode::Left,
        "right" => KeyCode::Right,
        "pageup" => KeyCode::PageUp,
        "pagedown" => KeyCode::PageDown,
        "home" => KeyCode::Home,
        "end" => KeyCode::End,
        "space" => KeyCode::Char(' '),
        f if f.len() > 1 && f.starts_with('f') && f[1..].parse::<u8>().is_ok() => {
            KeyCode::F(f[1..].parse().ok()?)
        }
        _ => {
            let mut chars = rest.chars();
            let c = chars.next()?;
            if chars.next().is_some() {
                return None;
            }
            KeyCode::Char(c)
        }
    };
    Some((code, modifiers))
}

impl Keymap {
    fn new(overrides: &BTreeMap<String, Vec<String>>) -> Result<Keymap, String> {
        if let Some(unknown) = overrides
            .keys()
            .find(|k| !BINDINGS.iter().any(|b| b.name == k.as_str()))
        {
            return Err(format!("keys.{unknown}: unknown action"));
        }
        let mut bindings = Vec::new();
        let mut help = Vec::new();
        for b in BINDINGS {
            let keys: Vec<String> = match overrides.get(b.name) {
                Some(keys) => keys.clone(),
                None => b.keys.iter().map(|k| k.to_string()).collect(),
            };
            for spec in &keys {
                let key = parse_key(spec)
                    .ok_or_else(|| format!("keys.{}: unknown key \"{spec}\"", b.name))?;
                bindings.push((key, b.name));
            }
            help.push((keys.join(" "), b.help));
        }
        Ok(Keymap { bindings, help })
    }

    /// What a key press means in the app's current state.
    pub fn action(&self, key: KeyEvent, typing: bool) -> Option<Action> {
        if typing {
            return match key.code {
                KeyCode::Enter => Some(Action::Submit),
                KeyCode::Esc => Some(Action::CancelInput),
                KeyCode::Backspace => Some(Action::Backspace),
                KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                    Some(Action::Quit)
                }
                KeyCode::Char(c) => Some(Action::Input(c)),
                _ => None,
            };
        }
        // Shift is part of the character itself ('G', '?', '+').
        let modifiers = key.modifiers - KeyModifiers::SHIFT;
        let name = self
            .bindings
            .iter()
            .find(|((code, m), _)| *code == key.code && *m == modifiers)
            .map(|(_, name)| *name)?;
        BINDINGS
            .iter()
            .find(|b| b.name == name)
            .map(|b| (b.action)())
    }

    /// The first key bound to an action, for the footer.
    pub fn keys_for(&self, name: &str) -> String {
        BINDINGS
            .iter()
            .position(|b| b.name == name)
            .and_then(|i| self.help.get(i))
            .map(|(k, _)| k.split(' ').next().unwrap_or("").to_string())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent::new(c, m)
    }

    #[test]
    fn defaults_and_overrides() {
        let config = Config::load(None, false).unwrap();
        let k = &config.keymap;
        assert!(matches!(
            k.action(key(KeyCode::Char('q'), KeyModifiers::NONE), false),
            Some(Action::Quit)
        ));
        assert!(matches!(
            k.action(key(KeyCode::Char('c'), KeyModifiers::CONTROL), false),
            Some(Action::Quit)
        ));
        assert!(matches!(
            k.action(key(KeyCode::Char('G'), KeyModifiers::SHIFT), false),
            Some(Action::Bottom)
        ));
        assert!(matches!(
            k.action(key(KeyCode::Char('q'), KeyModifiers::NONE), true),
            Some(Action::Input('q'))
        ));

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            "[keys]\nquit = [\"x\"]\n[colors]\nerror = \"#ff0000\"\n",
        )
        .unwrap();
        let config = Config::load(Some(&path), false).unwrap();
        assert!(
            config
                .keymap
                .action(key(KeyCode::Char('q'), KeyModifiers::NONE), false)
                .is_none()
        );
        assert!(matches!(
            config
                .keymap
                .action(key(KeyCode::Char('x'), KeyModifiers::NONE), false),
            Some(Action::Quit)
        ));
        assert_eq!(config.theme.error, Color::Rgb(255, 0, 0));
        assert_eq!(config.keymap.keys_for("quit"), "x");

        std::fs::write(&path, "[keys]\nexplode = [\"x\"]\n").unwrap();
        assert_eq!(
            Config::load(Some(&path), false).unwrap_err(),
            "keys.explode: unknown action"
        );
        assert_eq!(Config::load(None, true).unwrap().theme, Theme::plain());
    }
}
