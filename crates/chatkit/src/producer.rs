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

/// Stream of the items a producer sends, then its error if it failed.
pub(crate) struct ProducerStream<T, E> {
    receiver: mpsc::Receiver<T>,
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
    F: FnOnce(mpsc::Sender<T>) -> Fut,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
{
    let (sender, receiver) = mpsc::channel(1);
    ProducerStream {
        receiver,
        producer: Some(Box::pin(produce(sender))),
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
                return Poll::Ready(Some(Ok(item)));
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
