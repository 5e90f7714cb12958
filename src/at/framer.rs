//! Cutting the modem's byte stream into lines and the `> ` prompt.
//!
//! Lines end in `\r\n`, `\r\r\n` (Huawei), a bare `\r` or `\n`; empty lines are skipped. The
//! prompt of `AT+CMGS` is `> ` with no line end, sometimes after a `\r\n`; it is only
//! recognised while a command waits for it. Bytes that are not UTF-8 are replaced, Ctrl-Z
//! and other control characters are dropped, and a line longer than [`MAX_LINE`] is cut.

/// Longest line kept whole; longer input is split (a PDU line is at most ~360 characters).
pub const MAX_LINE: usize = 4096;

/// What the framer found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    Line(String),
    Prompt,
}

/// Incremental line framer.
#[derive(Debug, Default)]
pub struct Framer {
    buf: Vec<u8>,
}

impl Framer {
    pub fn new() -> Framer {
        Framer::default()
    }

    /// Adds received bytes and appends every complete frame to `out`.
    pub fn push(&mut self, bytes: &[u8], expect_prompt: bool, out: &mut Vec<Frame>) {
        self.buf.extend_from_slice(bytes);
        let mut start = 0;
        loop {
            while start < self.buf.len() && matches!(self.buf[start], b'\r' | b'\n' | 0) {
                start += 1;
            }
            let rest = &self.buf[start..];
            if rest.is_empty() {
                break;
            }
            if expect_prompt && rest[0] == b'>' {
                out.push(Frame::Prompt);
                start += if rest.get(1) == Some(&b' ') { 2 } else { 1 };
                continue;
            }
            let end = match rest.iter().position(|&b| b == b'\r' || b == b'\n') {
                Some(e) => e,
                None if rest.len() >= MAX_LINE => MAX_LINE,
                None => break,
            };
            if let Some(line) = clean(&rest[..end]) {
                out.push(Frame::Line(line));
            }
            start += end;
        }
        self.buf.drain(..start);
    }
}

fn clean(bytes: &[u8]) -> Option<String> {
    let s = String::from_utf8_lossy(bytes);
    let s: String = s.chars().filter(|c| !c.is_control()).collect();
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(chunks: &[&[u8]], prompt: bool) -> Vec<Frame> {
        let mut f = Framer::new();
        let mut out = Vec::new();
        for c in chunks {
            f.push(c, prompt, &mut out);
        }
        out
    }

    fn line(s: &str) -> Frame {
        Frame::Line(s.into())
    }

    #[test]
    fn line_endings_of_every_kind() {
        assert_eq!(
            frames(&[b"\r\nOK\r\n", b"A\r\r\nB\rC\n"], false),
            [line("OK"), line("A"), line("B"), line("C")]
        );
    }

    #[test]
    fn lines_split_across_reads() {
        assert_eq!(
            frames(&[b"+CS", b"Q: 2", b"0,99\r", b"\n\r\nO", b"K\r\n"], false),
            [line("+CSQ: 20,99"), line("OK")]
        );
    }

    #[test]
    fn prompt_without_line_end() {
        assert_eq!(frames(&[b"\r\n> "], true), [Frame::Prompt]);
        assert_eq!(
            frames(&[b"AT+CMGS=9\r\r\n>", b" "], true),
            [line("AT+CMGS=9"), Frame::Prompt]
        );
        // Not waiting for a prompt: a line starting with '>' waits for its end.
        assert_eq!(frames(&[b"> "], false), []);
    }

    #[test]
    fn control_characters_and_garbage_are_dropped() {
        assert_eq!(
            frames(&[b"0011\x1a\r\n\xff\xfeOK\r\n"], false),
            [line("0011"), line("\u{fffd}\u{fffd}OK")]
        );
    }

    #[test]
    fn endless_line_is_cut() {
        let big = vec![b'A'; MAX_LINE + 10];
        let out = frames(&[&big], false);
        assert_eq!(out.len(), 1);
    }
}
