//! The bounded hand-off from the audio callback to the capture thread.
//!
//! The callback runs on the audio system's thread and must never wait: if it blocks, the
//! device overruns and the audio system may kill the stream. So the producer side only ever
//! `try`s: a chunk that does not fit (the consumer is stalled) is dropped and counted, and the
//! count is reported to the user instead of growing memory without bound. The bound is in
//! samples, not chunks, because callback sizes differ between devices; `queue_ms` of audio is
//! what the consumer may fall behind by.
//!
//! Spent buffers travel back to the producer through a second channel, so in steady state the
//! callback reuses memory instead of allocating.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::Duration;

/// Chunks the channel itself can hold; the sample budget is what really bounds the queue.
const MAX_CHUNKS: usize = 1024;
/// Spare buffers kept for the producer to reuse.
const POOL: usize = 64;

#[derive(Debug, Default)]
struct Counters {
    queued_samples: AtomicUsize,
    dropped_chunks: AtomicU64,
    dropped_samples: AtomicU64,
}

/// A queue holding at most `max_samples` samples in flight.
pub(crate) fn bounded(max_samples: usize) -> (QueueSender, QueueReceiver) {
    let (tx, rx) = mpsc::sync_channel(MAX_CHUNKS);
    let (pool_tx, pool_rx) = mpsc::sync_channel(POOL);
    let counters = Arc::new(Counters::default());
    let sender = QueueSender {
        tx,
        pool: pool_rx,
        counters: Arc::clone(&counters),
        max_samples: max_samples.max(1),
    };
    (
        sender,
        QueueReceiver {
            rx,
            pool: pool_tx,
            counters,
        },
    )
}

/// The callback's end: never blocks.
#[derive(Debug)]
pub(crate) struct QueueSender {
    tx: SyncSender<Vec<f32>>,
    pool: Receiver<Vec<f32>>,
    counters: Arc<Counters>,
    max_samples: usize,
}

impl QueueSender {
    /// An empty buffer, recycled if one is available.
    pub(crate) fn buffer(&self) -> Vec<f32> {
        let mut buffer = self.pool.try_recv().unwrap_or_default();
        buffer.clear();
        buffer
    }

    /// Queues `chunk` if it fits; otherwise drops it, counts it and returns `false`.
    pub(crate) fn try_push(&self, chunk: Vec<f32>) -> bool {
        let len = chunk.len();
        let queued = self.counters.queued_samples.load(Ordering::Acquire);
        if queued + len > self.max_samples {
            self.count_drop(len);
            return false;
        }
        // Only this thread adds, so the budget checked above still holds; the consumer can
        // only have made more room since.
        self.counters
            .queued_samples
            .fetch_add(len, Ordering::AcqRel);
        match self.tx.try_send(chunk) {
            Ok(()) => true,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.counters
                    .queued_samples
                    .fetch_sub(len, Ordering::AcqRel);
                self.count_drop(len);
                false
            }
        }
    }

    fn count_drop(&self, samples: usize) {
        self.counters.dropped_chunks.fetch_add(1, Ordering::Relaxed);
        self.counters
            .dropped_samples
            .fetch_add(samples as u64, Ordering::Relaxed);
    }
}

/// The capture thread's end.
#[derive(Debug)]
pub(crate) struct QueueReceiver {
    rx: Receiver<Vec<f32>>,
    pool: SyncSender<Vec<f32>>,
    counters: Arc<Counters>,
}

/// What waiting on the queue gave.
#[derive(Debug, PartialEq)]
pub(crate) enum Received {
    Chunk(Vec<f32>),
    Timeout,
    /// The producer is gone (the stream was dropped).
    Closed,
}

impl QueueReceiver {
    pub(crate) fn recv_timeout(&self, timeout: Duration) -> Received {
        match self.rx.recv_timeout(timeout) {
            Ok(chunk) => {
                self.counters
                    .queued_samples
                    .fetch_sub(chunk.len(), Ordering::AcqRel);
                Received::Chunk(chunk)
            }
            Err(RecvTimeoutError::Timeout) => Received::Timeout,
            Err(RecvTimeoutError::Disconnected) => Received::Closed,
        }
    }

    /// Hands a spent buffer back to the producer (dropped if the pool is full).
    pub(crate) fn recycle(&self, buffer: Vec<f32>) {
        let _ = self.pool.try_send(buffer);
    }

    /// Chunks dropped so far because the queue was full.
    pub(crate) fn dropped_chunks(&self) -> u64 {
        self.counters.dropped_chunks.load(Ordering::Relaxed)
    }

    /// Samples dropped so far because the queue was full.
    pub(crate) fn dropped_samples(&self) -> u64 {
        self.counters.dropped_samples.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    #[test]
    fn a_stalled_consumer_never_blocks_the_producer_and_drops_are_counted() {
        let (sender, receiver) = bounded(4_800);
        // The consumer "stalls": nobody receives while the producer pushes 10 s of 10 ms
        // chunks, far more than the 100 ms budget.
        let producer = std::thread::spawn(move || {
            let started = Instant::now();
            let mut accepted = 0u32;
            for i in 0..1_000u32 {
                let mut chunk = sender.buffer();
                chunk.resize(480, i as f32);
                if sender.try_push(chunk) {
                    accepted += 1;
                }
            }
            (accepted, started.elapsed(), sender)
        });
        let (accepted, elapsed, sender) = producer.join().expect("producer thread");
        assert!(
            elapsed < Duration::from_millis(500),
            "producer was held up for {elapsed:?}"
        );
        assert_eq!(
            accepted, 10,
            "a 4800-sample budget holds ten 480-sample chunks"
        );
        assert_eq!(receiver.dropped_chunks(), 990);
        assert_eq!(receiver.dropped_samples(), 990 * 480);

        // What was accepted arrives intact and in order: the first ten chunks.
        for i in 0..10u32 {
            match receiver.recv_timeout(Duration::from_millis(100)) {
                Received::Chunk(chunk) => {
                    assert_eq!(chunk.len(), 480);
                    assert!(
                        chunk.iter().all(|&s| s == i as f32),
                        "chunk {i} out of order"
                    );
                    receiver.recycle(chunk);
                }
                other => panic!("expected chunk {i}, got {other:?}"),
            }
        }
        assert_eq!(
            receiver.recv_timeout(Duration::from_millis(10)),
            Received::Timeout
        );

        // Once the consumer catches up there is room again, and recycled buffers are reused.
        let buffer = sender.buffer();
        assert!(
            buffer.capacity() >= 480,
            "a recycled buffer should come back"
        );
        let mut chunk = buffer;
        chunk.resize(480, 7.0);
        assert!(sender.try_push(chunk));
        assert_eq!(
            receiver.dropped_chunks(),
            990,
            "no new drops once there is room"
        );
        drop(sender);
        assert!(matches!(
            receiver.recv_timeout(Duration::from_millis(10)),
            Received::Chunk(_)
        ));
        assert_eq!(
            receiver.recv_timeout(Duration::from_millis(10)),
            Received::Closed
        );
    }

    #[test]
    fn a_chunk_larger_than_the_whole_budget_is_dropped_not_wedged() {
        let (sender, receiver) = bounded(100);
        assert!(!sender.try_push(vec![0.0; 101]));
        assert!(sender.try_push(vec![0.0; 100]));
        assert_eq!(receiver.dropped_chunks(), 1);
    }

    #[test]
    fn a_gone_consumer_counts_as_drops() {
        let (sender, receiver) = bounded(1_000);
        drop(receiver);
        assert!(!sender.try_push(vec![0.0; 10]));
    }
}
