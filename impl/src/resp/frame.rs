//! RESP values and their encoding in RESP2 and RESP3.
//!
//! A reply is built once, as a [`Frame`]; the connection's protocol
//! ([`Protocol`], chosen by `HELLO`) decides how it goes on the wire. The
//! RESP3-only types fall back to RESP2 as Redis 7.0's `addReply*` functions
//! do: a map becomes a flat array of key, value, key, value; a set and a
//! push become arrays; a double and a verbatim string become bulk strings;
//! both nulls become `$-1` or `*-1`.

/// The protocol a client connection speaks (`client->resp`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Protocol {
    /// RESP2, every connection's protocol until `HELLO 3`.
    #[default]
    Resp2,
    /// RESP3, after `HELLO 3`.
    Resp3,
}

impl Protocol {
    /// The version number HELLO reports (`proto`).
    pub fn version(self) -> i64 {
        match self {
            Protocol::Resp2 => 2,
            Protocol::Resp3 => 3,
        }
    }
}

/// One RESP value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// `+text`
    Simple(String),
    /// `-text` (the text holds the error code, e.g. `ERR ...`, `MOVED ...`).
    Error(String),
    /// `:n`
    Integer(i64),
    /// `$len` + bytes
    Bulk(Vec<u8>),
    /// The null bulk string: `$-1` in RESP2, `_` in RESP3 (`addReplyNull`).
    Null,
    /// `*n` + elements
    Array(Vec<Frame>),
    /// The null array: `*-1` in RESP2, `_` in RESP3 (`addReplyNullArray`).
    NullArray,
    /// `%n` + key, value pairs in RESP3; a flat array in RESP2
    /// (`addReplyMapLen`).
    Map(Vec<(Frame, Frame)>),
    /// `~n` + elements in RESP3; an array in RESP2 (`addReplySetLen`).
    Set(Vec<Frame>),
    /// `,text` in RESP3; a bulk string in RESP2 (`addReplyDouble`). The
    /// text is made by [`Frame::double`].
    Double(String),
    /// `=len` + `txt:` + text in RESP3; a bulk string of the text in RESP2
    /// (`addReplyVerbatim` with format `txt`).
    Verbatim(Vec<u8>),
    /// `>n` + elements in RESP3; an array in RESP2 (`addReplyPushLen`).
    Push(Vec<Frame>),
}

impl Frame {
    /// `+OK`.
    pub fn ok() -> Frame {
        Frame::Simple("OK".into())
    }

    /// An error reply from its text (without the leading `-`).
    pub fn error(text: impl Into<String>) -> Frame {
        Frame::Error(text.into())
    }

    /// A bulk string from text.
    pub fn bulk(text: impl Into<Vec<u8>>) -> Frame {
        Frame::Bulk(text.into())
    }

    /// A map whose keys are bulk strings (field names), in order.
    pub fn map(pairs: Vec<(&str, Frame)>) -> Frame {
        Frame::Map(
            pairs
                .into_iter()
                .map(|(k, v)| (Frame::bulk(k), v))
                .collect(),
        )
    }

    /// A double as Redis 7.0 prints one: `%.17g`, and `inf` / `-inf`.
    pub fn double(d: f64) -> Frame {
        Frame::Double(format_g17(d))
    }

    /// Appends the RESP2 form of this value to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        self.encode_as(Protocol::Resp2, out);
    }

    /// Appends the wire form of this value in `proto` to `out`.
    pub fn encode_as(&self, proto: Protocol, out: &mut Vec<u8>) {
        let resp3 = proto == Protocol::Resp3;
        match self {
            Frame::Simple(s) => line(out, b'+', s.as_bytes()),
            Frame::Error(s) => line(out, b'-', s.as_bytes()),
            Frame::Integer(n) => line(out, b':', n.to_string().as_bytes()),
            Frame::Bulk(b) => bulk(out, b'$', b),
            Frame::Null if resp3 => out.extend_from_slice(b"_\r\n"),
            Frame::Null => out.extend_from_slice(b"$-1\r\n"),
            Frame::NullArray if resp3 => out.extend_from_slice(b"_\r\n"),
            Frame::NullArray => out.extend_from_slice(b"*-1\r\n"),
            Frame::Array(items) => aggregate(out, b'*', items, proto),
            Frame::Map(pairs) => {
                if resp3 {
                    line(out, b'%', pairs.len().to_string().as_bytes());
                } else {
                    line(out, b'*', (pairs.len() * 2).to_string().as_bytes());
                }
                for (k, v) in pairs {
                    k.encode_as(proto, out);
                    v.encode_as(proto, out);
                }
            }
            Frame::Set(items) => aggregate(out, if resp3 { b'~' } else { b'*' }, items, proto),
            Frame::Push(items) => aggregate(out, if resp3 { b'>' } else { b'*' }, items, proto),
            Frame::Double(text) if resp3 => line(out, b',', text.as_bytes()),
            Frame::Double(text) => bulk(out, b'$', text.as_bytes()),
            Frame::Verbatim(text) if resp3 => {
                let mut body = b"txt:".to_vec();
                body.extend_from_slice(text);
                bulk(out, b'=', &body);
            }
            Frame::Verbatim(text) => bulk(out, b'$', text),
        }
    }

    /// The RESP2 wire form of this value.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_bytes_as(Protocol::Resp2)
    }

    /// The wire form of this value in `proto`.
    pub fn to_bytes_as(&self, proto: Protocol) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_as(proto, &mut out);
        out
    }
}

/// A simple line: type byte, text, CRLF. Simple strings and errors must not
/// hold CR or LF; they are replaced by spaces, as Redis does for errors.
fn line(out: &mut Vec<u8>, kind: u8, text: &[u8]) {
    out.push(kind);
    out.extend(
        text.iter()
            .map(|b| if *b == b'\r' || *b == b'\n' { b' ' } else { *b }),
    );
    out.extend_from_slice(b"\r\n");
}

/// A length-prefixed string: type byte, length, CRLF, bytes, CRLF.
fn bulk(out: &mut Vec<u8>, kind: u8, bytes: &[u8]) {
    line(out, kind, bytes.len().to_string().as_bytes());
    out.extend_from_slice(bytes);
    out.extend_from_slice(b"\r\n");
}

/// An aggregate: type byte, element count, then the elements.
fn aggregate(out: &mut Vec<u8>, kind: u8, items: &[Frame], proto: Protocol) {
    line(out, kind, items.len().to_string().as_bytes());
    for item in items {
        item.encode_as(proto, out);
    }
}

/// C's `%.17g`: 17 significant digits, trailing zeros dropped, exponent
/// form when the exponent is below -4 or at least 17.
fn format_g17(d: f64) -> String {
    if d.is_nan() {
        return "nan".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "inf" } else { "-inf" }.into();
    }
    const PRECISION: i32 = 17;
    let sci = format!("{:.*e}", (PRECISION - 1) as usize, d);
    let Some((mantissa, exp)) = sci.split_once('e') else {
        return sci;
    };
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..PRECISION).contains(&exp) {
        let mantissa = trim_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exp.abs());
    }
    let decimals = (PRECISION - 1 - exp).max(0) as usize;
    trim_zeros(&format!("{d:.decimals$}")).to_string()
}

/// `1.2500` → `1.25`, `3.000` → `3` (what `%g` does without `#`).
fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(f: &Frame) -> (String, String) {
        let s = |p| String::from_utf8_lossy(&f.to_bytes_as(p)).into_owned();
        (s(Protocol::Resp2), s(Protocol::Resp3))
    }

    #[test]
    fn resp3_types_and_their_resp2_fallbacks() {
        let map = Frame::Map(vec![
            (Frame::bulk("a"), Frame::Integer(1)),
            (
                Frame::bulk("b"),
                Frame::Set(vec![Frame::Simple("x".into())]),
            ),
        ]);
        assert_eq!(
            both(&map),
            (
                "*4\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n*1\r\n+x\r\n".into(),
                "%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n~1\r\n+x\r\n".into()
            )
        );
        assert_eq!(both(&Frame::Null), ("$-1\r\n".into(), "_\r\n".into()));
        assert_eq!(both(&Frame::NullArray), ("*-1\r\n".into(), "_\r\n".into()));
        assert_eq!(
            both(&Frame::Verbatim(b"a:1\r\n".to_vec())),
            ("$5\r\na:1\r\n\r\n".into(), "=9\r\ntxt:a:1\r\n\r\n".into())
        );
        assert_eq!(
            both(&Frame::double(1.5)),
            ("$3\r\n1.5\r\n".into(), ",1.5\r\n".into())
        );
        assert_eq!(
            both(&Frame::Push(vec![Frame::bulk("m")])),
            ("*1\r\n$1\r\nm\r\n".into(), ">1\r\n$1\r\nm\r\n".into())
        );
        let nested = Frame::Array(vec![Frame::Null, Frame::Map(vec![])]);
        assert_eq!(
            both(&nested),
            ("*2\r\n$-1\r\n*0\r\n".into(), "*2\r\n_\r\n%0\r\n".into())
        );
    }

    #[test]
    fn doubles_print_as_c_percent_17g() {
        let g = |d: f64| format_g17(d);
        assert_eq!(g(3.0), "3");
        assert_eq!(g(1.5), "1.5");
        assert_eq!(g(0.1), "0.10000000000000001");
        assert_eq!(g(-2.25), "-2.25");
        assert_eq!(g(1e20), "1e+20");
        assert_eq!(g(1.5e-7), "1.4999999999999999e-07");
        assert_eq!(g(0.0001), "0.0001");
        assert_eq!(g(123456789.0), "123456789");
        assert_eq!(g(f64::INFINITY), "inf");
        assert_eq!(g(f64::NEG_INFINITY), "-inf");
    }
}
