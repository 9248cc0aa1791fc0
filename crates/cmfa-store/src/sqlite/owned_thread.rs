//! A named thread fed through a channel, which its handle stops and waits for when dropped.
//!
//! The writer and the checkpoint thread are both this: dropping the sender ends the thread's
//! receive loop (after the messages already sent), and joining it means the database is quiet by
//! the time the store lets go of its data dir.

use std::sync::mpsc;
use std::thread::JoinHandle;

pub(super) struct OwnedThread<T> {
    tx: Option<mpsc::Sender<T>>,
    thread: Option<JoinHandle<()>>,
}

impl<T: Send + 'static> OwnedThread<T> {
    /// Starts thread `name` running `body` on the receiving end of a new channel.
    pub(super) fn spawn<F>(name: &str, body: F) -> std::io::Result<Self>
    where
        F: FnOnce(mpsc::Receiver<T>) + Send + 'static,
    {
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new().name(name.into()).spawn(move || body(rx))?;
        Ok(OwnedThread {
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    /// Hands `msg` to the thread; false if it has stopped.
    pub(super) fn send(&self, msg: T) -> bool {
        self.tx.as_ref().is_some_and(|tx| tx.send(msg).is_ok())
    }
}

impl<T> Drop for OwnedThread<T> {
    fn drop(&mut self) {
        drop(self.tx.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
