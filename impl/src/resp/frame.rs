//! RESP2 values and their encoding.

/// One RESP2 value.
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
    /// `$-1`
    Null,
    /// `*n` + elements
    Array(Vec<Frame>),
    /// `*-1`
    NullArray,
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

    /// Appends the wire form of this value to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Frame::Simple(s) => line(out, b'+', s.as_bytes()),
            Frame::Error(s) => line(out, b'-', s.as_bytes()),
            Frame::Integer(n) => line(out, b':', n.to_string().as_bytes()),
            Frame::Bulk(b) => {
                line(out, b'$', b.len().to_string().as_bytes());
                out.extend_from_slice(b);
                out.extend_from_slice(b"\r\n");
            }
            Frame::Null => out.extend_from_slice(b"$-1\r\n"),
            Frame::Array(items) => {
                line(out, b'*', items.len().to_string().as_bytes());
                for item in items {
                    item.encode(out);
                }
            }
            Frame::NullArray => out.extend_from_slice(b"*-1\r\n"),
        }
    }

    /// The wire form of this value.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
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
