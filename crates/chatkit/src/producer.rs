//! A stream driven by an async "producer" future that pushes items into a channel.
//!
//! Both the responder helper and the server pipeline are written as straight-line async
//! code; this turns such code into a `Stream` without spawning a task, so dropping the
//! stream drops (cancels) the producer at its current `.await`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use futures::future::BoxFuture;
use tokio::sync::mpsc;

/// The producer's end of the stream.
///
/// Items travel boxed: tokio's channel allocates its slots 32 at a time, whatever the
/// capacity, and a `ThreadStreamEvent` is a few hundred bytes, so every chat response held
/// ~9 KB of slots per stream (two streams each) for the one item in flight.
#[derive(Debug)]
pub(crate) struct Sender<T>(mpsc::Sender<Box<T>>);

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

/// The stream's consumer is gone.
pub(crate) struct Closed;

impl<T> Sender<T> {
    /// Sends one item, waiting until the consumer has taken the previous one.
    pub(crate) async fn send(&self, item: T) -> Result<(), Closed> {
        self.0.send(Box::new(item)).await.map_err(|_| Closed)
    }
}

/// Stream of the items a producer sends, then its error if it failed.
pub(crate) struct ProducerStream<T, E> {
    receiver: mpsc::Receiver<Box<T>>,
    producer: Option<BoxFuture<'static, Result<(), E>>>,
    failure: Option<E>,
    ended: bool,
}

// No field is ever pinned in place (the future is boxed), so moving the struct is fine.
impl<T, E> Unpin for ProducerStream<T, E> {}

/// Runs `produce` with a sender; the returned stream yields what it sends, in order.
/// Capacity 1 keeps the producer at most one item ahead of the consumer.
pub(crate) fn producer_stream<T, E, F, Fut>(produce: F) -> ProducerStream<T, E>
where
    F: FnOnce(Sender<T>) -> Fut,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
{
    let (sender, receiver) = mpsc::channel(1);
    ProducerStream {
        receiver,
        producer: Some(Box::pin(produce(Sender(sender)))),
        failure: None,
        ended: false,
    }
}

impl<T, E> Stream for ProducerStream<T, E> {
    type Item = Result<T, E>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if this.ended {
                return Poll::Ready(None);
            }
            if let Poll::Ready(Some(item)) = this.receiver.poll_recv(cx) {
                return Poll::Ready(Some(Ok(*item)));
            }
            match this.producer.as_mut() {
                Some(producer) => match producer.as_mut().poll(cx) {
                    Poll::Ready(result) => {
                        this.producer = None;
                        this.failure = result.err();
                        // Loop once more to drain what it sent before finishing.
                    }
                    Poll::Pending => return Poll::Pending,
                },
                None => {
                    // The producer is done and the channel is drained. Items sent later by
                    // a sender that escaped the producer are dropped.
                    this.ended = true;
                    return Poll::Ready(this.failure.take().map(Err));
                }
            }
        }
    }
}
