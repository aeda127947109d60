//! The audit trail's records and the hash that chains them.
//!
//! Every state change is written as one [`AuditEntry`] in the same transaction as the
//! change. Entries form chains: within a chain, entry `n` carries the hash of entry
//! `n - 1` (`prev_hash`) and its own hash over `prev_hash` and all its fields. Editing,
//! deleting, inserting or reordering a stored entry therefore breaks the chain at that
//! entry, and `motcua audit verify` names it.
//!
//! # What the hash covers, byte by byte
//!
//! [`entry_hash`] is the hex SHA-256 of an unambiguous encoding: a version tag, then every
//! field in a fixed order, each text length-prefixed (so `"ab","c"` and `"a","bc"` differ),
//! each optional field tagged present/absent (so `None` differs from `Some("")`), and each
//! integer as 8 big-endian bytes. In order:
//!
//! ```text
//! text("motcua.audit.v1") text(prev_hash) text(chain) i64(seq) i64(at_ms) text(actor)
//! text(actor_name) text(ip) text(action) text(object_type) text(object_id)
//! opt(province_code) opt(before_json) opt(after_json)
//!
//! text(s) = u64_be(byte length of s) ‖ UTF-8 bytes of s
//! opt(x)  = 0x00 when absent, 0x01 ‖ text(x) when present
//! ```
//!
//! That is enough to check an exported trail with any SHA-256 tool.
//!
//! # JSON
//!
//! `before` and `after` are hashed as their **canonical text** ([`canonical_json`]): object
//! keys sorted by their UTF-8 bytes, no whitespace, minimal string escapes. The keys are
//! sorted explicitly rather than by trusting `serde_json::Map` to be a `BTreeMap`: it is one
//! today, but any crate in the build that enables serde_json's `preserve_order` feature
//! would silently turn it into an insertion-ordered map for everyone.
//!
//! The store keeps exactly that canonical text and verification hashes the stored text as
//! it is, never a re-serialisation of parsed JSON. Re-serialising would make old hashes
//! depend on how a future serde_json formats floats (or how precisely it parses them).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// `prev_hash` of the first entry of every chain: 64 zeros.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The actor recorded for changes no person made (scheduled jobs, migrations, imports).
pub const SYSTEM_ACTOR: &str = "system";

/// Tag hashed first, so a future change of the encoding cannot collide with this one.
const ENCODING_TAG: &[u8] = b"motcua.audit.v1";

/// One stored audit record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    /// The chain this entry belongs to (the province code, or `system`).
    pub chain: String,
    /// Position in the chain: 1, 2, 3… without gaps.
    pub seq: i64,
    /// When the change happened, milliseconds since the Unix epoch (UTC).
    pub at_ms: i64,
    /// User id of whoever made the change, or [`SYSTEM_ACTOR`].
    pub actor: String,
    /// The actor's display name at the time, kept because users can be renamed.
    pub actor_name: String,
    /// Client address the change came from (empty when there was none, e.g. the CLI).
    pub ip: String,
    /// What was done, as `object.verb`, e.g. `procedure.update`.
    pub action: String,
    /// Kind of object changed, e.g. `procedure`.
    pub object_type: String,
    /// Identifier of the object changed.
    pub object_id: String,
    /// Province the object belongs to, when it belongs to one.
    pub province_code: Option<String>,
    /// The object before the change, where it matters.
    pub before: Option<Value>,
    /// The object after the change, where it matters.
    pub after: Option<Value>,
    /// Hash of the previous entry of the chain ([`GENESIS_HASH`] for the first).
    pub prev_hash: String,
    /// Hash of this entry, see [`entry_hash`].
    pub hash: String,
}

/// The hashed fields of an entry, with `before`/`after` as their stored canonical text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashFields<'a> {
    /// Chain name.
    pub chain: &'a str,
    /// Position in the chain.
    pub seq: i64,
    /// Instant, milliseconds since the epoch.
    pub at_ms: i64,
    /// Actor id.
    pub actor: &'a str,
    /// Actor display name.
    pub actor_name: &'a str,
    /// Client address.
    pub ip: &'a str,
    /// Action.
    pub action: &'a str,
    /// Object kind.
    pub object_type: &'a str,
    /// Object id.
    pub object_id: &'a str,
    /// Province code.
    pub province_code: Option<&'a str>,
    /// `before` as canonical JSON text ([`canonical_json`]).
    pub before_json: Option<&'a str>,
    /// `after` as canonical JSON text ([`canonical_json`]).
    pub after_json: Option<&'a str>,
}

/// Hex SHA-256 of `prev_hash` and `fields` in the encoding described in the module docs.
pub fn entry_hash(prev_hash: &str, fields: &HashFields<'_>) -> String {
    let mut h = Sha256::new();
    put_text(&mut h, ENCODING_TAG);
    put_text(&mut h, prev_hash.as_bytes());
    put_text(&mut h, fields.chain.as_bytes());
    h.update(fields.seq.to_be_bytes());
    h.update(fields.at_ms.to_be_bytes());
    put_text(&mut h, fields.actor.as_bytes());
    put_text(&mut h, fields.actor_name.as_bytes());
    put_text(&mut h, fields.ip.as_bytes());
    put_text(&mut h, fields.action.as_bytes());
    put_text(&mut h, fields.object_type.as_bytes());
    put_text(&mut h, fields.object_id.as_bytes());
    put_optional(&mut h, fields.province_code);
    put_optional(&mut h, fields.before_json);
    put_optional(&mut h, fields.after_json);
    hex::encode(h.finalize())
}

/// Length first, so no choice of contents can move a boundary between fields.
fn put_text(h: &mut Sha256, bytes: &[u8]) {
    // usize → u64 cannot truncate on any platform Rust supports.
    h.update((bytes.len() as u64).to_be_bytes());
    h.update(bytes);
}

/// A presence tag first, so an absent value differs from an empty one.
fn put_optional(h: &mut Sha256, value: Option<&str>) {
    match value {
        None => h.update([0u8]),
        Some(v) => {
            h.update([1u8]);
            put_text(h, v.as_bytes());
        }
    }
}

/// The canonical text of a JSON value: object keys sorted by their UTF-8 bytes, no
/// whitespace, strings with only the escapes JSON requires, numbers as serde_json prints
/// them. Equal values give equal text whatever order their keys were inserted in.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(&mut out, value);
    out
}

fn write_canonical(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write_canonical(out, item);
            }
            out.push('}');
        }
    }
}

/// Escapes exactly what RFC 8259 requires (`"`, `\` and control characters), using the
/// short forms where JSON has them; everything else, including non-ASCII, stays as is.
fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// One chain's head as written down outside the database: a record that must stay in the
/// chain with exactly this hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnchoredHead {
    /// The chain (a province code, or `system`).
    pub chain: String,
    /// The chain's last record when anchored.
    pub seq: i64,
    /// That record's hash.
    pub hash: String,
}

/// An anchor: every chain's head at one instant, kept outside the database (a file on
/// another disk or machine, a printed line, a message) so that deleting the newest records
/// and rewinding the head, or deleting a whole chain, is detected by comparing the chains
/// with it. One line of JSON per anchor (`{"at_ms":…,"heads":[…]}`), so an anchor file is
/// appended to and read line by line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Anchor {
    /// When the heads were read, in Unix milliseconds.
    pub at_ms: i64,
    /// Every chain's head, in chain-name order.
    pub heads: Vec<AnchoredHead>,
}

/// Why a line of an anchor file is not an anchor.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("dòng {line} của tệp neo không hợp lệ: {reason}")]
pub struct BadAnchor {
    /// The line, counted from 1.
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

impl Anchor {
    /// The anchor as one line of JSON, without the newline.
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Every anchor of an anchor file, oldest first; blank lines are skipped, anything else
    /// that is not an anchor (a head with a negative `seq` or a hash that is not 64
    /// lowercase hex digits, a chain named twice) is refused with its line number, so a
    /// damaged file is never read as "nothing to compare".
    pub fn parse_all(text: &str) -> Result<Vec<Anchor>, BadAnchor> {
        let mut out = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line_no = i + 1;
            if line.trim().is_empty() {
                continue;
            }
            let bad = |reason: String| BadAnchor { line: line_no, reason };
            let anchor: Anchor = serde_json::from_str(line).map_err(|e| bad(e.to_string()))?;
            let mut seen = std::collections::BTreeSet::new();
            for h in &anchor.heads {
                if h.seq < 0 {
                    return Err(bad(format!("chuỗi «{}»: số thứ tự âm", h.chain)));
                }
                let hex = h.hash.len() == 64 && h.hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
                if !hex {
                    return Err(bad(format!("chuỗi «{}»: mã băm không phải 64 chữ số hex", h.chain)));
                }
                if !seen.insert(h.chain.as_str()) {
                    return Err(bad(format!("chuỗi «{}» xuất hiện hai lần", h.chain)));
                }
            }
            out.push(anchor);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base() -> HashFields<'static> {
        HashFields {
            chain: "main",
            seq: 7,
            at_ms: 1_700_000_000_000,
            actor: "u-42",
            actor_name: "Nguyễn Văn A",
            ip: "10.0.0.1",
            action: "procedure.update",
            object_type: "procedure",
            object_id: "1.900001",
            province_code: Some("000.00.00.H43"),
            before_json: Some(r#"{"a":1}"#),
            after_json: Some(r#"{"a":2}"#),
        }
    }

    #[test]
    fn hash_is_hex_sha256_and_deterministic() {
        let h = entry_hash(GENESIS_HASH, &base());
        assert_eq!(h.len(), 64);
        assert!(h.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_eq!(h, entry_hash(GENESIS_HASH, &base()));
        assert_eq!(GENESIS_HASH.len(), 64);
    }

    #[test]
    fn every_single_field_change_changes_the_hash() {
        let b = base();
        let original = entry_hash(GENESIS_HASH, &b);
        let variants: Vec<(&str, HashFields<'_>)> = vec![
            ("chain", HashFields { chain: "main2", ..b }),
            ("seq", HashFields { seq: 8, ..b }),
            (
                "at_ms",
                HashFields {
                    at_ms: b.at_ms + 1,
                    ..b
                },
            ),
            ("actor", HashFields { actor: "u-43", ..b }),
            (
                "actor_name",
                HashFields {
                    actor_name: "Nguyễn Văn B",
                    ..b
                },
            ),
            ("ip", HashFields { ip: "10.0.0.2", ..b }),
            (
                "action",
                HashFields {
                    action: "procedure.create",
                    ..b
                },
            ),
            (
                "object_type",
                HashFields {
                    object_type: "agency",
                    ..b
                },
            ),
            (
                "object_id",
                HashFields {
                    object_id: "1.900002",
                    ..b
                },
            ),
            (
                "province_code",
                HashFields {
                    province_code: None,
                    ..b
                },
            ),
            (
                "province_code empty",
                HashFields {
                    province_code: Some(""),
                    ..b
                },
            ),
            ("before", HashFields { before_json: None, ..b }),
            (
                "before text",
                HashFields {
                    before_json: Some(r#"{"a":3}"#),
                    ..b
                },
            ),
            ("after", HashFields { after_json: None, ..b }),
            (
                "after text",
                HashFields {
                    after_json: Some(r#"{"a":1}"#),
                    ..b
                },
            ),
        ];
        let mut seen = std::collections::HashSet::new();
        seen.insert(original.clone());
        for (name, v) in variants {
            let h = entry_hash(GENESIS_HASH, &v);
            assert_ne!(h, original, "changing {name} must change the hash");
            assert!(seen.insert(h), "{name} collides with another variant");
        }
        assert_ne!(entry_hash(&"1".repeat(64), &b), original, "prev_hash is hashed");
    }

    #[test]
    fn field_boundaries_are_unambiguous() {
        let b = base();
        let x = HashFields {
            actor: "ab",
            actor_name: "c",
            ..b
        };
        let y = HashFields {
            actor: "a",
            actor_name: "bc",
            ..b
        };
        assert_ne!(entry_hash(GENESIS_HASH, &x), entry_hash(GENESIS_HASH, &y));
        // Across an optional field too: the presence tag and length keep them apart.
        let x = HashFields {
            object_id: "ab",
            province_code: Some("c"),
            ..b
        };
        let y = HashFields {
            object_id: "a",
            province_code: Some("bc"),
            ..b
        };
        assert_ne!(entry_hash(GENESIS_HASH, &x), entry_hash(GENESIS_HASH, &y));
        // Absent before vs. a before whose text is empty.
        let x = HashFields {
            before_json: None,
            after_json: Some(""),
            ..b
        };
        let y = HashFields {
            before_json: Some(""),
            after_json: None,
            ..b
        };
        assert_ne!(entry_hash(GENESIS_HASH, &x), entry_hash(GENESIS_HASH, &y));
    }

    #[test]
    fn canonical_json_sorts_keys_and_drops_whitespace() {
        let a: Value = serde_json::from_str(r#"{ "b": [1, {"z": true, "a": null}], "a": "x" }"#).expect("json");
        let mut m = serde_json::Map::new();
        m.insert("a".into(), json!("x"));
        m.insert("b".into(), json!([1, {"a": null, "z": true}]));
        let b = Value::Object(m);
        assert_eq!(canonical_json(&a), r#"{"a":"x","b":[1,{"a":null,"z":true}]}"#);
        assert_eq!(canonical_json(&a), canonical_json(&b));
    }

    #[test]
    fn canonical_json_sorts_by_bytes_and_escapes_minimally() {
        // "Z" (0x5A) < "a" (0x61) < "đ" (0xC4 0x91) by UTF-8 bytes.
        let v = json!({"đ": 1, "a": 2, "Z": 3});
        assert_eq!(canonical_json(&v), r#"{"Z":3,"a":2,"đ":1}"#);
        let v = json!("Nguyễn \"A\"\\\n\t\u{01}/");
        assert_eq!(canonical_json(&v), "\"Nguyễn \\\"A\\\"\\\\\\n\\t\\u0001/\"");
        // The canonical text parses back to the same value.
        let v = json!({"n": -12, "f": 1.5, "s": "x\u{1f}y", "l": [], "o": {}});
        let text = canonical_json(&v);
        assert_eq!(serde_json::from_str::<Value>(&text).expect("parse"), v);
        assert_eq!(canonical_json(&serde_json::from_str(&text).expect("parse")), text);
    }

    #[test]
    fn anchors_round_trip_and_damaged_lines_are_refused() {
        let a = Anchor {
            at_ms: 1_750_000_000_000,
            heads: vec![
                AnchoredHead {
                    chain: "79".into(),
                    seq: 12,
                    hash: "ab".repeat(32),
                },
                AnchoredHead {
                    chain: "system".into(),
                    seq: 0,
                    hash: GENESIS_HASH.into(),
                },
            ],
        };
        let text = format!("{}\n\n{}\n", a.to_line(), a.to_line());
        assert_eq!(Anchor::parse_all(&text).expect("parse"), vec![a.clone(), a.clone()]);
        let mut twice = a.clone();
        twice.heads[1].chain = "79".into();
        let mut short = a.clone();
        short.heads[0].hash = "ab".into();
        let mut upper = a.clone();
        upper.heads[0].hash = "AB".repeat(32);
        let mut negative = a.clone();
        negative.heads[0].seq = -1;
        for (bad, what) in [(twice, "hai lần"), (short, "hex"), (upper, "hex"), (negative, "âm")] {
            let text = format!("{}\n{}", a.to_line(), bad.to_line());
            let e = Anchor::parse_all(&text).expect_err(what);
            assert_eq!(e.line, 2);
            assert!(e.reason.contains(what), "{e}");
        }
        let e = Anchor::parse_all("{\"at_ms\":1,\"heads\":[],\"extra\":1}").expect_err("unknown field");
        assert_eq!(e.line, 1);
        assert!(Anchor::parse_all("not json").is_err());
    }
}
