//! Streaming a body from a reader one row at a time, fast.
//!
//! serde_json reads from an `io::Read` a byte at a time and cannot lend
//! its strings, which made reading a saved 60,000-row body twice as slow
//! as reading it from memory. This scanner walks the envelope itself,
//! finds each row object's bytes in a buffer that holds a few rows at most,
//! and hands every row to serde_json as a slice. Only the layout is
//! scanned here (strings, escapes, brackets); every value is still parsed
//! by serde_json, so what a row means is decided in one place. It serves
//! the shapes whose rows sit in an array (`data`, `records`, or a bare
//! array); the others go through serde_json's reader.

use std::io;

use serde::de::{DeserializeSeed, Error as _};

use super::{Cx, DataSeed, RowSeed, Scalar};

/// How much is read from the input at a time.
const CHUNK: usize = 256 << 10;

/// A window on the input: `buf[pos..]` is read but not consumed.
struct Input<R> {
    reader: R,
    buf: Vec<u8>,
    pos: usize,
    eof: bool,
    /// Where reads land before they join `buf`.
    scratch: Box<[u8]>,
}

type Result<T> = std::result::Result<T, serde_json::Error>;

fn error(msg: &str) -> serde_json::Error {
    serde_json::Error::custom(msg)
}

impl<R: io::Read> Input<R> {
    fn new(reader: R) -> Input<R> {
        let scratch = vec![0; CHUNK].into_boxed_slice();
        Input { reader, buf: Vec::with_capacity(CHUNK), pos: 0, eof: false, scratch }
    }

    /// Reads more input, dropping what was consumed; false at the end.
    fn fill(&mut self) -> Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let n = loop {
            match self.reader.read(&mut self.scratch) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(serde_json::Error::io(e)),
            }
        };
        self.buf.extend_from_slice(&self.scratch[..n]);
        self.eof = n == 0;
        Ok(n > 0)
    }

    /// The next byte that is not white space, not consumed.
    fn peek(&mut self) -> Result<Option<u8>> {
        loop {
            while let Some(&b) = self.buf.get(self.pos) {
                if !b.is_ascii_whitespace() {
                    return Ok(Some(b));
                }
                self.pos += 1;
            }
            if !self.fill()? {
                return Ok(None);
            }
        }
    }

    fn expect(&mut self, want: u8) -> Result<()> {
        match self.peek()? {
            Some(b) if b == want => {
                self.pos += 1;
                Ok(())
            }
            Some(_) => Err(error(&format!("expected `{}`", want as char))),
            None => Err(error("EOF while parsing")),
        }
    }

    /// The extent of the JSON value starting at `pos` (after white space):
    /// `(start, end)` in `buf`, reading more as needed. Strings and
    /// brackets are matched; what is inside is left to serde_json.
    fn value(&mut self) -> Result<(usize, usize)> {
        if self.peek()?.is_none() {
            return Err(error("EOF while parsing a value"));
        }
        // The value starts at `self.pos`, which only `fill` moves (to 0,
        // with the bytes).
        let mut at = self.pos;
        let mut depth = 0usize;
        let mut in_string = false;
        let mut escaped = false;
        loop {
            if at == self.buf.len() {
                let offset = at - self.pos;
                // `fill` moves the unconsumed bytes (from `start` on) to
                // the front.
                if !self.fill()? {
                    return Err(error("EOF while parsing a value"));
                }
                at = self.pos + offset;
                continue;
            }
            if in_string && !escaped {
                // Most of a body is string content: jump to the next quote
                // or backslash rather than look at every byte.
                match memchr::memchr2(b'"', b'\\', &self.buf[at..]) {
                    Some(i) => at += i,
                    None => {
                        at = self.buf.len();
                        continue;
                    }
                }
            }
            let b = self.buf[at];
            at += 1;
            if in_string {
                match (escaped, b) {
                    (true, _) => escaped = false,
                    (false, b'\\') => escaped = true,
                    (false, b'"') => {
                        in_string = false;
                        if depth == 0 {
                            return Ok((self.pos, at));
                        }
                    }
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => in_string = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' if depth == 0 => return Ok((self.pos, at - 1)),
                b'}' | b']' => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok((self.pos, at));
                    }
                }
                b',' | b':' if depth == 0 => return Ok((self.pos, at - 1)),
                b if depth == 0 && b.is_ascii_whitespace() => return Ok((self.pos, at - 1)),
                _ => {}
            }
        }
    }
}

/// Whether the chunked path serves this shape.
pub(super) fn serves(shape: crate::catalog::Shape) -> bool {
    use crate::catalog::Shape;
    matches!(shape, Shape::Flat | Shape::Nested | Shape::Records | Shape::Bare)
}

/// Decodes the whole input into `cx`.
pub(super) fn run<R: io::Read>(reader: R, cx: &mut Cx<'_>, data_key: &str) -> Result<()> {
    let mut input = Input::new(reader);
    match input.peek()? {
        Some(b'[') => {
            cx.env.has_data = true;
            rows(&mut input, cx)?;
        }
        Some(b'{') => envelope(&mut input, cx, data_key)?,
        Some(_) => return Err(error("expected a JSON object or array")),
        None => return Err(error("EOF while parsing a value")),
    }
    match input.peek()? {
        None => Ok(()),
        Some(_) => Err(error("trailing characters")),
    }
}

fn envelope<R: io::Read>(input: &mut Input<R>, cx: &mut Cx<'_>, data_key: &str) -> Result<()> {
    input.expect(b'{')?;
    if input.peek()? == Some(b'}') {
        input.pos += 1;
        return Ok(());
    }
    loop {
        let (a, b) = input.value()?;
        let key: String = serde_json::from_slice(&input.buf[a..b])?;
        input.pos = b;
        input.expect(b':')?;
        if key == data_key && input.peek()? == Some(b'[') {
            cx.env.has_data = true;
            rows(input, cx)?;
        } else {
            let (a, b) = input.value()?;
            member(&key, &input.buf[a..b], cx, data_key)?;
            input.pos = b;
        }
        match input.peek()? {
            Some(b',') => input.pos += 1,
            Some(b'}') => {
                input.pos += 1;
                return Ok(());
            }
            Some(_) => return Err(error("expected `,` or `}`")),
            None => return Err(error("EOF while parsing an object")),
        }
    }
}

/// A member of the envelope other than an array of rows.
fn member(key: &str, bytes: &[u8], cx: &mut Cx<'_>, data_key: &str) -> Result<()> {
    let text = || -> Result<Option<String>> {
        let scalar: Scalar<'_> = serde_json::from_slice(bytes)?;
        Ok(scalar.0.map(|c| c.into_owned()))
    };
    match key {
        "code" => cx.env.code = text()?,
        "error" => cx.env.error = text()?,
        "msg" => cx.env.msg = text()?,
        k if k == data_key => {
            cx.env.has_data = true;
            let mut de = serde_json::Deserializer::from_slice(bytes);
            DataSeed { cx }.deserialize(&mut de)?;
            de.end()?;
        }
        _ => {
            serde_json::from_slice::<serde::de::IgnoredAny>(bytes)?;
        }
    }
    Ok(())
}

/// An array of row objects, each handed to serde_json as a slice.
fn rows<R: io::Read>(input: &mut Input<R>, cx: &mut Cx<'_>) -> Result<()> {
    input.expect(b'[')?;
    if input.peek()? == Some(b']') {
        input.pos += 1;
        return Ok(());
    }
    loop {
        let (a, b) = input.value()?;
        // One check of the row's UTF-8 rather than one per string, which
        // serde_json makes when it reads from bytes.
        let text = std::str::from_utf8(&input.buf[a..b])
            .map_err(|e| error(&format!("invalid UTF-8 in a row: {e}")))?;
        let mut de = serde_json::Deserializer::from_str(text);
        RowSeed { cx: &mut *cx, key: None }.deserialize(&mut de)?;
        de.end()?;
        input.pos = b;
        match input.peek()? {
            Some(b',') => input.pos += 1,
            Some(b']') => {
                input.pos += 1;
                return Ok(());
            }
            Some(_) => return Err(error("expected `,` or `]`")),
            None => return Err(error("EOF while parsing a list")),
        }
    }
}
