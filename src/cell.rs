//! One value of one column, exactly as the engine holds it, for the paths that
//! write (fix, restore): keys are bound as cells and backups store cells. A
//! value never passes through `f64` unless it is a binary float in the
//! database too, and never through a lossy text form.
//!
//! In a backup a cell is JSON: `null`; a whole number; a string (the engine's
//! own text form of the value: `numeric`, timestamps, JSON as written, arrays);
//! `{"real": "…"}` for a binary float (the shortest text that reads back to the
//! same bits); `{"base64": "…"}` for bytes.

use base64::Engine as _;
use serde::de::{self, Deserializer};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug)]
pub enum Cell {
    Null,
    Int(i64),
    UInt(u64),
    /// A binary float (SQLite REAL, MySQL FLOAT/DOUBLE), compared by its bits.
    Real(f64),
    /// The engine's own text for the value (or a text value).
    Text(String),
    Bytes(Vec<u8>),
}

impl PartialEq for Cell {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Cell::Null, Cell::Null) => true,
            (Cell::Int(a), Cell::Int(b)) => a == b,
            (Cell::UInt(a), Cell::UInt(b)) => a == b,
            (Cell::Int(a), Cell::UInt(b)) | (Cell::UInt(b), Cell::Int(a)) => {
                u64::try_from(*a).is_ok_and(|a| a == *b)
            }
            (Cell::Real(a), Cell::Real(b)) => a.to_bits() == b.to_bits(),
            (Cell::Text(a), Cell::Text(b)) => a == b,
            (Cell::Bytes(a), Cell::Bytes(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Cell {}

impl std::hash::Hash for Cell {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        match self {
            Cell::Null => 0u8.hash(state),
            // Int and UInt of the same number are equal, so they hash alike.
            Cell::Int(n) => match u64::try_from(*n) {
                Ok(u) => (1u8, u).hash(state),
                Err(_) => (2u8, *n).hash(state),
            },
            Cell::UInt(u) => (1u8, *u).hash(state),
            Cell::Real(r) => (3u8, r.to_bits()).hash(state),
            Cell::Text(t) => (4u8, t).hash(state),
            Cell::Bytes(b) => (5u8, b).hash(state),
        }
    }
}

impl Cell {
    pub fn is_null(&self) -> bool {
        matches!(self, Cell::Null)
    }

    /// A short form for messages: text as it is, bytes in hex.
    pub fn display(&self) -> String {
        match self {
            Cell::Null => "NULL".into(),
            Cell::Int(n) => n.to_string(),
            Cell::UInt(n) => n.to_string(),
            Cell::Real(r) => r.to_string(),
            Cell::Text(t) => t.clone(),
            Cell::Bytes(b) => {
                let hex: String = b.iter().take(16).map(|x| format!("{x:02x}")).collect();
                format!("0x{hex}{}", if b.len() > 16 { "…" } else { "" })
            }
        }
    }
}

impl Serialize for Cell {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Cell::Null => serializer.serialize_none(),
            Cell::Int(n) => serializer.serialize_i64(*n),
            Cell::UInt(n) => serializer.serialize_u64(*n),
            Cell::Text(t) => serializer.serialize_str(t),
            Cell::Real(r) => {
                let mut map = serializer.serialize_map(Some(1))?;
                // Rust prints the shortest text that parses back to the same bits.
                map.serialize_entry("real", &format!("{r:?}"))?;
                map.end()
            }
            Cell::Bytes(b) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry(
                    "base64",
                    &base64::engine::general_purpose::STANDARD.encode(b),
                )?;
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Cell {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde_json::Value;
        match Value::deserialize(deserializer)? {
            Value::Null => Ok(Cell::Null),
            Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Ok(Cell::Int(i))
                } else if let Some(u) = n.as_u64() {
                    Ok(Cell::UInt(u))
                } else {
                    Err(de::Error::custom(format!(
                        "{n}: a fractional number must be written {{\"real\": \"…\"}}"
                    )))
                }
            }
            Value::String(s) => Ok(Cell::Text(s)),
            Value::Object(map) if map.len() == 1 => match map.iter().next() {
                Some((k, Value::String(s))) if k == "real" => s
                    .parse::<f64>()
                    .map(Cell::Real)
                    .map_err(|e| de::Error::custom(format!("real {s:?}: {e}"))),
                Some((k, Value::String(s))) if k == "base64" => {
                    base64::engine::general_purpose::STANDARD
                        .decode(s)
                        .map(Cell::Bytes)
                        .map_err(|e| de::Error::custom(format!("base64: {e}")))
                }
                _ => Err(de::Error::custom(
                    "expected {\"real\": …} or {\"base64\": …}",
                )),
            },
            other => Err(de::Error::custom(format!("not a cell: {other}"))),
        }
    }
}

/// How a column's values are read back from a query tether rendered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CellKind {
    /// A signed whole number (any width).
    Int,
    /// An unsigned whole number (any width).
    UInt,
    /// A 4-byte binary float.
    Float32,
    /// An 8-byte binary float.
    Float64,
    /// Text: the engine's text form of the value.
    Text,
    Bytes,
    /// SQLite: whatever storage class the value has.
    Dynamic,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_survive_json_exactly() {
        let cells = vec![
            Cell::Null,
            Cell::Int(i64::MIN),
            Cell::Int(9_007_199_254_740_993),
            Cell::UInt(u64::MAX),
            Cell::Real(0.1 + 0.2),
            Cell::Real(f64::from(1.000_000_1_f32)),
            Cell::Real(-0.0),
            Cell::Text("12345678901234567890.1234567891".into()),
            Cell::Text(String::new()),
            Cell::Bytes(vec![0, 0xff, 0x80, 0x0a]),
        ];
        let text = serde_json::to_string(&cells).unwrap();
        let back: Vec<Cell> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, cells);
        assert!(text.contains("\"base64\":\"AP+ACg==\""), "{text}");
        // NULL and empty text stay distinct.
        assert_ne!(Cell::Null, Cell::Text(String::new()));
    }

    #[test]
    fn a_bare_fraction_is_refused() {
        assert!(serde_json::from_str::<Cell>("1.5").is_err());
    }
}
