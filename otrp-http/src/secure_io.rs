//! The draft's security headers (section 4) on the responses hyper writes
//! by itself.
//!
//! hyper answers a request it cannot parse (400, 414, 431) without calling
//! the server's service, so those responses would lack `Cache-Control`,
//! `X-Content-Type-Options`, ... [`SecureHeaders`] wraps the connection's
//! byte stream below hyper and follows the response framing it writes: each
//! response head that lacks the headers gets them inserted before it
//! reaches the client. The server's own responses always carry them
//! already (and a `Content-Length`, or no body at all), so the framing is
//! known: a head, then exactly `Content-Length` bytes of body.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::SECURITY_HEADERS;

/// The largest response head followed; a longer one (never written by this
/// server) switches the stream to pass-through.
const MAX_HEAD: usize = 16 * 1024;

enum Framing {
    /// Collecting a response head.
    Head(Vec<u8>),
    /// Passing `n` more bytes of body.
    Body(u64),
    /// Framing unknown: bytes pass unchanged.
    PassThrough,
}

/// A connection whose outgoing response heads always carry the draft's
/// security headers.
pub(crate) struct SecureHeaders<I> {
    inner: I,
    framing: Framing,
    /// Bytes accepted from hyper and not yet written to `inner`.
    pending: Vec<u8>,
    written: usize,
}

impl<I> SecureHeaders<I> {
    pub(crate) fn new(inner: I) -> Self {
        SecureHeaders {
            inner,
            framing: Framing::Head(Vec::new()),
            pending: Vec::new(),
            written: 0,
        }
    }
}

/// `head` (ending in the blank line) with the security headers added when
/// missing, and the length of the body that follows it.
fn complete_head(head: &[u8]) -> (Vec<u8>, Option<u64>) {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse::<u16>().ok());
    let mut length = None;
    let mut present = [false; SECURITY_HEADERS.len()];
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = value.trim().parse::<u64>().ok();
        }
        if name.eq_ignore_ascii_case("transfer-encoding") {
            // Not written by this server: give up following the framing.
            return (head.to_vec(), None);
        }
        for (i, (h, _)) in SECURITY_HEADERS.iter().enumerate() {
            if name.eq_ignore_ascii_case(h) {
                present[i] = true;
            }
        }
    }
    let body = match status {
        Some(s) if (100..200).contains(&s) || s == 204 || s == 304 => Some(0),
        Some(_) => length,
        None => None,
    };
    let mut out = head.to_vec();
    if present.iter().all(|p| *p) {
        return (out, body);
    }
    // Insert before the final CRLF of the blank line.
    out.truncate(head.len().saturating_sub(2));
    for ((name, value), present) in SECURITY_HEADERS.iter().zip(present) {
        if !present {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }
    out.extend_from_slice(b"\r\n");
    (out, body)
}

impl<I: AsyncWrite + Unpin> SecureHeaders<I> {
    /// Writes what is pending to the connection.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.pending.len() {
            let n =
                ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        self.pending.clear();
        self.written = 0;
        Poll::Ready(Ok(()))
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for SecureHeaders<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        ready!(this.poll_pending(cx))?;
        loop {
            match &mut this.framing {
                Framing::PassThrough => return Pin::new(&mut this.inner).poll_write(cx, buf),
                Framing::Body(0) => this.framing = Framing::Head(Vec::new()),
                Framing::Body(left) => {
                    let max = buf.len().min(usize::try_from(*left).unwrap_or(usize::MAX));
                    let n = ready!(Pin::new(&mut this.inner).poll_write(cx, &buf[..max]))?;
                    *left -= n as u64;
                    return Poll::Ready(Ok(n));
                }
                Framing::Head(head) => {
                    if buf.is_empty() {
                        return Poll::Ready(Ok(0));
                    }
                    // Take bytes up to the end of the head (CRLF CRLF).
                    let before = head.len();
                    let mut taken = 0;
                    let mut complete = false;
                    for &b in buf {
                        head.push(b);
                        taken += 1;
                        if head.ends_with(b"\r\n\r\n") {
                            complete = true;
                            break;
                        }
                    }
                    if complete {
                        let (out, body) = complete_head(head);
                        this.pending = out;
                        this.framing = match body {
                            Some(n) => Framing::Body(n),
                            None => Framing::PassThrough,
                        };
                    } else if head.len() > MAX_HEAD {
                        this.pending = std::mem::take(head);
                        this.framing = Framing::PassThrough;
                    }
                    // Accepted into our buffer; written on the next call
                    // or flush (started right away when possible).
                    if let Poll::Ready(Err(e)) = this.poll_pending(cx) {
                        return Poll::Ready(Err(e));
                    }
                    let _ = before;
                    return Poll::Ready(Ok(taken));
                }
            }
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for SecureHeaders<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    /// Writes `chunks` through the wrapper into a buffer.
    fn through(chunks: &[&[u8]]) -> String {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut out = SecureHeaders::new(Vec::new());
            for c in chunks {
                out.write_all(c).await.unwrap();
            }
            out.flush().await.unwrap();
            String::from_utf8(out.inner).unwrap()
        })
    }

    #[test]
    fn hyper_error_heads_get_the_headers_and_complete_heads_are_unchanged() {
        let error = "HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n";
        let out = through(&[error.as_bytes()]);
        assert!(out.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
        for (name, value) in SECURITY_HEADERS {
            assert!(out.contains(&format!("\r\n{name}: {value}\r\n")), "{out}");
        }
        assert!(out.ends_with("\r\n\r\n"));

        let mut ours = String::from("HTTP/1.1 200 OK\r\ncontent-length: 17\r\n");
        for (name, value) in SECURITY_HEADERS {
            ours.push_str(&format!("{name}: {value}\r\n"));
        }
        ours.push_str("\r\nHTTP/1.1 400 fake");
        // The body that looks like a head is passed as it is; the next
        // head, split over writes, is completed.
        let (a, b) = error.split_at(20);
        let out = through(&[ours.as_bytes(), a.as_bytes(), b.as_bytes()]);
        assert!(out.starts_with(&ours));
        let rest = &out[ours.len()..];
        assert!(rest.starts_with("HTTP/1.1 431"));
        assert!(rest.contains("x-content-type-options: nosniff"));
    }

    #[test]
    fn bodyless_statuses_and_unknown_framing() {
        let out = through(&[
            b"HTTP/1.1 100 Continue\r\n\r\n",
            b"HTTP/1.1 204 No Content\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n",
        ]);
        assert_eq!(out.matches("cache-control: no-store").count(), 3, "{out}");
        let out = through(&[
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n",
            b"HTTP/1.1 400 x\r\n\r\n",
        ]);
        assert!(!out.contains("cache-control"), "{out}");
    }
}
