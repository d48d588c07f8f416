//! Rewriting a response body on its way into an AWS SDK client: used to mend
//! what an emulator answers (and, in tests, to play a throttled service).
//! Interceptors run before the body has arrived, so the body is wrapped: it is
//! read whole, and the rewritten JSON is what the client reads.

use std::pin::Pin;
use std::task::{Context, Poll};

use aws_smithy_types::body::SdkBody;
use bytes::Bytes;
use serde_json::Value;

/// Makes `body` read as `rewrite` of its JSON (unchanged when it is not JSON).
pub fn rewrite_json(body: &mut SdkBody, rewrite: fn(&mut Value)) {
    let inner = std::mem::replace(body, SdkBody::taken());
    *body = SdkBody::from_body_1_x(Rewritten {
        inner,
        read: Vec::new(),
        done: false,
        rewrite,
    });
}

struct Rewritten {
    inner: SdkBody,
    read: Vec<u8>,
    done: bool,
    rewrite: fn(&mut Value),
}

impl http_body::Body for Rewritten {
    type Data = Bytes;
    type Error = aws_smithy_types::body::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        loop {
            if self.done {
                return Poll::Ready(None);
            }
            match Pin::new(&mut self.inner).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Err(err))) => return Poll::Ready(Some(Err(err))),
                Poll::Ready(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        self.read.extend_from_slice(&data);
                    }
                }
                Poll::Ready(None) => {
                    self.done = true;
                    let rewritten = match serde_json::from_slice::<Value>(&self.read) {
                        Ok(mut json) => {
                            (self.rewrite)(&mut json);
                            serde_json::to_vec(&json).unwrap_or_else(|_| self.read.clone())
                        }
                        Err(_) => self.read.clone(),
                    };
                    return Poll::Ready(Some(Ok(http_body::Frame::data(Bytes::from(rewritten)))));
                }
            }
        }
    }
}
