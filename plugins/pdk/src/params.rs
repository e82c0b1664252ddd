//! The company parameters of a [`Context`](crate::types::Context): one JSON
//! object (see `context.params` in `wit/types.wit`), read here without a JSON
//! library so plugins stay small, and written by the test builders.
//!
//! Reading scans the text for the one name asked for; nothing is parsed or
//! allocated ahead of time. Texts without escapes are borrowed from the
//! context; a text with escapes (`\"`, `\n`, `\u00e9` ...) is decoded once
//! into memory kept for the rest of the call (an instance lives for one call).

use crate::types::{Money, ParamValue};
use std::borrow::Cow;

/// One parameter's value, borrowed from the JSON text where possible.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value<'a> {
    Integer(i64),
    Text(&'a str),
    Texts(Vec<&'a str>),
    Flag(bool),
    Money(i64, &'a str),
    /// Valid JSON of no parameter type (a float, null, a nested list ...).
    Other(&'static str),
}

impl Value<'_> {
    /// The owned, typed view.
    pub(crate) fn to_param_value(&self) -> Option<ParamValue> {
        Some(match self {
            Value::Integer(i) => ParamValue::Integer(*i),
            Value::Text(t) => ParamValue::Text(t.to_string()),
            Value::Texts(t) => ParamValue::Texts(t.iter().map(|t| t.to_string()).collect()),
            Value::Flag(f) => ParamValue::Flag(*f),
            Value::Money(amount, currency) => ParamValue::Money(Money::new(*amount, currency)),
            Value::Other(_) => return None,
        })
    }
}

/// Why the parameters could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Malformed(pub(crate) usize);

/// The value of parameter `name` in `json`; `Ok(None)` when absent. An empty
/// text counts as no parameters.
pub(crate) fn lookup<'a>(json: &'a str, name: &str) -> Result<Option<Value<'a>>, Malformed> {
    let mut p = Parser { s: json.as_bytes(), src: json, i: 0 };
    p.ws();
    if p.i == p.s.len() {
        return Ok(None);
    }
    p.eat(b'{')?;
    p.ws();
    if p.peek() == Some(b'}') {
        return Ok(None);
    }
    // A name that needs no escaping is compared with each key's raw bytes,
    // without decoding the key.
    let plain = !name.bytes().any(|c| c == b'"' || c == b'\\' || c < 0x20);
    loop {
        p.ws();
        let found = if plain && p.peek() == Some(b'"') {
            let start = p.i + 1;
            let end = find_quote_or_backslash(p.s, start);
            match p.s.get(end) {
                Some(b'"') => {
                    p.i = end + 1;
                    &p.s[start..end] == name.as_bytes()
                }
                _ => p.string()? == name,
            }
        } else {
            p.string()? == name
        };
        p.ws();
        p.eat(b':')?;
        p.ws();
        if found {
            return p.value().map(Some);
        }
        p.skip_value()?;
        p.ws();
        match p.next()? {
            b',' => continue,
            b'}' => return Ok(None),
            _ => return Err(Malformed(p.i)),
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    src: &'a str,
    i: usize,
}

impl<'a> Parser<'a> {
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn next(&mut self) -> Result<u8, Malformed> {
        let c = self.peek().ok_or(Malformed(self.i))?;
        self.i += 1;
        Ok(c)
    }

    fn eat(&mut self, c: u8) -> Result<(), Malformed> {
        if self.next()? == c { Ok(()) } else { Err(Malformed(self.i - 1)) }
    }

    fn literal(&mut self, word: &str) -> Result<(), Malformed> {
        if self.s[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(())
        } else {
            Err(Malformed(self.i))
        }
    }

    /// A string, borrowed when it has no escapes.
    fn string(&mut self) -> Result<Cow<'a, str>, Malformed> {
        self.eat(b'"')?;
        let start = self.i;
        self.i = find_quote_or_backslash(self.s, start);
        if self.next()? == b'"' {
            let text = &self.src[start..self.i - 1];
            return if text.bytes().any(|c| c < 0x20) { Err(Malformed(start)) } else { Ok(Cow::Borrowed(text)) };
        }
        // Escapes: decode into an owned string.
        let mut out = String::new();
        self.i = start;
        loop {
            let run = self.i;
            while let Some(c) = self.peek() {
                if c == b'"' || c == b'\\' || c < 0x20 {
                    break;
                }
                self.i += 1;
            }
            out.push_str(&self.src[run..self.i]);
            match self.next()? {
                b'"' => return Ok(Cow::Owned(out)),
                b'\\' => {}
                _ => return Err(Malformed(self.i - 1)),
            }
            let c = match self.next()? {
                b'"' => '"',
                b'\\' => '\\',
                b'/' => '/',
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                b'u' => {
                    let hi = self.hex4()?;
                    let code = if (0xD800..0xDC00).contains(&hi) {
                        self.literal("\\u")?;
                        let lo = self.hex4()?;
                        if !(0xDC00..0xE000).contains(&lo) {
                            return Err(Malformed(self.i));
                        }
                        0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                    } else {
                        hi
                    };
                    char::from_u32(code).ok_or(Malformed(self.i))?
                }
                _ => return Err(Malformed(self.i - 1)),
            };
            out.push(c);
        }
    }

    fn hex4(&mut self) -> Result<u32, Malformed> {
        let digits = self.src.get(self.i..self.i + 4).ok_or(Malformed(self.i))?;
        let v = u32::from_str_radix(digits, 16).map_err(|_| Malformed(self.i))?;
        self.i += 4;
        Ok(v)
    }

    /// A number's text, and whether it is a whole number.
    fn number(&mut self) -> Result<(&'a str, bool), Malformed> {
        let start = self.i;
        let mut whole = true;
        while let Some(c) = self.peek() {
            match c {
                b'0'..=b'9' | b'-' => {}
                b'+' | b'.' | b'e' | b'E' => whole = false,
                _ => break,
            }
            self.i += 1;
        }
        if self.i == start {
            return Err(Malformed(start));
        }
        Ok((&self.src[start..self.i], whole))
    }

    /// The typed value at the cursor.
    fn value(&mut self) -> Result<Value<'a>, Malformed> {
        Ok(match self.peek().ok_or(Malformed(self.i))? {
            b'"' => Value::Text(keep(self.string()?)),
            b't' => {
                self.literal("true")?;
                Value::Flag(true)
            }
            b'f' => {
                self.literal("false")?;
                Value::Flag(false)
            }
            b'n' => {
                self.literal("null")?;
                Value::Other("null")
            }
            b'[' => {
                let start = self.i;
                self.i += 1;
                let mut texts = Vec::new();
                self.ws();
                if self.peek() == Some(b']') {
                    self.i += 1;
                    return Ok(Value::Texts(texts));
                }
                loop {
                    self.ws();
                    if self.peek() != Some(b'"') {
                        self.i = start;
                        self.skip_value()?;
                        return Ok(Value::Other("a list of non-texts"));
                    }
                    texts.push(keep(self.string()?));
                    self.ws();
                    match self.next()? {
                        b',' => continue,
                        b']' => return Ok(Value::Texts(texts)),
                        _ => return Err(Malformed(self.i - 1)),
                    }
                }
            }
            b'{' => {
                self.i += 1;
                let (mut amount, mut currency, mut fields) = (None, None, 0);
                self.ws();
                if self.peek() != Some(b'}') {
                    loop {
                        self.ws();
                        let key = self.string()?;
                        self.ws();
                        self.eat(b':')?;
                        self.ws();
                        fields += 1;
                        match (key.as_ref(), self.peek()) {
                            ("amount", Some(b'-' | b'0'..=b'9')) => {
                                let (n, whole) = self.number()?;
                                amount = n.parse::<i64>().ok().filter(|_| whole);
                            }
                            ("currency", Some(b'"')) => currency = Some(keep(self.string()?)),
                            _ => self.skip_value()?,
                        }
                        self.ws();
                        match self.next()? {
                            b',' => continue,
                            b'}' => break,
                            _ => return Err(Malformed(self.i - 1)),
                        }
                    }
                } else {
                    self.i += 1;
                }
                match (amount, currency, fields) {
                    (Some(a), Some(c), 2) => Value::Money(a, c),
                    _ => Value::Other("an object that is not money"),
                }
            }
            _ => match self.number()? {
                (n, true) => n.parse::<i64>().map(Value::Integer).unwrap_or(Value::Other("a number out of range")),
                (_, false) => Value::Other("a fractional number"),
            },
        })
    }

    /// Skips the value at the cursor: scans to the `,` or `}` that ends it at
    /// this level, stepping over strings and nested lists and objects (whose
    /// insides are not checked: only the value asked for is read in full).
    fn skip_value(&mut self) -> Result<(), Malformed> {
        let s = self.s;
        let mut i = self.i;
        let mut depth = 0usize;
        loop {
            match s.get(i).copied() {
                None => return Err(Malformed(i)),
                Some(b'"') => {
                    // The closing quote, stepping over escaped characters.
                    i += 1;
                    loop {
                        i = find_quote_or_backslash(s, i);
                        match s.get(i).copied() {
                            Some(b'"') => break,
                            Some(_) => i += 2,
                            None => return Err(Malformed(i)),
                        }
                    }
                }
                Some(b'[' | b'{') => depth += 1,
                Some(b']' | b'}') if depth > 0 => depth -= 1,
                Some(b',' | b'}') if depth == 0 => {
                    self.i = i;
                    return Ok(());
                }
                Some(_) => {}
            }
            i += 1;
        }
    }
}

/// The index of the first `"` or `\` in `s` from `i` (or `s.len()`), eight
/// bytes at a time: most of the parameters' text is inside strings.
fn find_quote_or_backslash(s: &[u8], mut i: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    while let Some(chunk) = s.get(i..i + 8) {
        let v = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        let (q, b) = (v ^ (ONES * u64::from(b'"')), v ^ (ONES * u64::from(b'\\')));
        let hits = (q.wrapping_sub(ONES) & !q | b.wrapping_sub(ONES) & !b) & HIGHS;
        if hits != 0 {
            return i + (hits.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < s.len() && s[i] != b'"' && s[i] != b'\\' {
        i += 1;
    }
    i
}

/// A decoded text kept for the rest of the call: a plugin instance serves one
/// call and is then discarded whole, so this is never freed on its own.
fn keep<'a>(s: Cow<'a, str>) -> &'a str {
    match s {
        Cow::Borrowed(s) => s,
        Cow::Owned(s) => Box::leak(s.into_boxed_str()),
    }
}

/// Appends `s` to `out` as a JSON string.
pub(crate) fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends `value` to `out` as JSON.
pub(crate) fn write_value(out: &mut String, value: &ParamValue) {
    match value {
        ParamValue::Integer(i) => out.push_str(&i.to_string()),
        ParamValue::Text(t) => write_str(out, t),
        ParamValue::Texts(ts) => {
            out.push('[');
            for (i, t) in ts.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(out, t);
            }
            out.push(']');
        }
        ParamValue::Flag(f) => out.push_str(if *f { "true" } else { "false" }),
        ParamValue::Money(m) => {
            out.push_str(&format!("{{\"amount\":{},\"currency\":", m.amount));
            write_str(out, &m.currency);
            out.push('}');
        }
    }
}

/// `json` with parameter `name` set to `value` (appended; a later entry of
/// the same name is never read, so an existing one is removed first).
pub(crate) fn set(json: &str, name: &str, value: &ParamValue) -> String {
    let mut entries: Vec<(String, ParamValue)> = entries(json).into_iter().filter(|(n, _)| n != name).collect();
    entries.push((name.to_string(), value.clone()));
    let mut out = String::from("{");
    for (i, (n, v)) in entries.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(&mut out, n);
        out.push(':');
        write_value(&mut out, v);
    }
    out.push('}');
    out
}

/// Every parameter of `json` with a parameter type, in order (for tests).
pub(crate) fn entries(json: &str) -> Vec<(String, ParamValue)> {
    let mut p = Parser { s: json.as_bytes(), src: json, i: 0 };
    let mut out = Vec::new();
    p.ws();
    if p.i == p.s.len() || p.eat(b'{').is_err() {
        return out;
    }
    p.ws();
    if p.peek() == Some(b'}') {
        return out;
    }
    while let Ok(key) = p.string() {
        p.ws();
        if p.eat(b':').is_err() {
            break;
        }
        p.ws();
        match p.value() {
            Ok(v) => {
                if let Some(v) = v.to_param_value() {
                    out.push((key.into_owned(), v));
                }
            }
            Err(_) => break,
        }
        p.ws();
        if p.next() != Ok(b',') {
            break;
        }
        p.ws();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const JSON: &str = r#" { "a-rate-bps" : 1500, "list":["US", "C\"A\u00e9\ud83d\ude00"], "m":{"currency":"USD","amount":-5},
        "nested": {"x": [1, {"y": null}]}, "f": false, "t": "plain", "x": 1.5, "big": 99999999999999999999 } "#;

    #[test]
    fn looks_up_each_kind() {
        assert_eq!(lookup(JSON, "a-rate-bps"), Ok(Some(Value::Integer(1500))));
        assert_eq!(lookup(JSON, "list"), Ok(Some(Value::Texts(vec!["US", "C\"Aé😀"]))));
        assert_eq!(lookup(JSON, "m"), Ok(Some(Value::Money(-5, "USD"))));
        assert_eq!(lookup(JSON, "f"), Ok(Some(Value::Flag(false))));
        assert_eq!(lookup(JSON, "t"), Ok(Some(Value::Text("plain"))));
        assert!(matches!(lookup(JSON, "nested"), Ok(Some(Value::Other(_)))));
        assert!(matches!(lookup(JSON, "x"), Ok(Some(Value::Other(_)))));
        assert!(matches!(lookup(JSON, "big"), Ok(Some(Value::Other(_)))));
        assert_eq!(lookup(JSON, "missing"), Ok(None));
        assert_eq!(lookup(r#"{"\u0061":1}"#, "a"), Ok(Some(Value::Integer(1))));
        assert_eq!(lookup(r#"{"q\"":2}"#, "q\""), Ok(Some(Value::Integer(2))));
        assert_eq!(lookup("", "a"), Ok(None));
        assert_eq!(lookup("{}", "a"), Ok(None));
        assert!(lookup("{\"a\":", "a").is_err());
        assert!(lookup("[1]", "a").is_err());
        // Values skipped on the way are not checked: a missing comma hides
        // what follows it rather than being reported.
        assert_eq!(lookup("{\"b\":1 \"a\":2}", "a"), Ok(None));
        assert_eq!(lookup("{\"b\":[\"x,}\\\"\",{\"a\":1}],\"a\":3}", "a"), Ok(Some(Value::Integer(3))));
    }

    #[test]
    fn writes_what_it_reads() {
        let mut json = String::new();
        let values = [
            ("i", ParamValue::Integer(-3)),
            ("t", ParamValue::Text("a \"q\" \\ \n\u{1}é".into())),
            ("ts", ParamValue::Texts(vec!["x".into(), "y\"".into()])),
            ("f", ParamValue::Flag(true)),
            ("m", ParamValue::Money(Money::new(12, "EUR"))),
        ];
        for (name, value) in &values {
            json = set(&json, name, value);
        }
        json = set(&json, "i", &ParamValue::Integer(4));
        let got = entries(&json);
        assert_eq!(got.len(), 5, "{json}");
        assert_eq!(got[4], ("i".to_string(), ParamValue::Integer(4)));
        for (name, value) in &values[1..] {
            assert_eq!(lookup(&json, name).unwrap().unwrap().to_param_value().as_ref(), Some(value), "{json}");
        }
    }
}
