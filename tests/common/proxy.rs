//! A TCP proxy in front of a server, for faults the server cannot stage by
//! itself: paused, it keeps every connection open and takes new ones, but
//! forwards nothing — a network path gone silent (no reset, no refusal).

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Forwards connections to `upstream` until dropped.
pub struct Proxy {
    pub addr: SocketAddr,
    paused: Arc<AtomicBool>,
    stopped: Arc<AtomicBool>,
}

impl Proxy {
    /// A proxy on a free local port in front of `upstream` (`host:port`).
    pub fn start(upstream: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let paused = Arc::new(AtomicBool::new(false));
        let stopped = Arc::new(AtomicBool::new(false));
        let upstream = upstream.to_string();
        let (p, s) = (paused.clone(), stopped.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if s.load(Ordering::Relaxed) {
                    return;
                }
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                for (from, to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    let (p, s) = (p.clone(), s.clone());
                    std::thread::spawn(move || pipe(from, to, &p, &s));
                }
            }
        });
        Proxy {
            addr,
            paused,
            stopped,
        }
    }

    /// Stops forwarding: bytes wait, nothing is closed.
    pub fn pause(&self) {
        self.paused.store(true, Ordering::Relaxed);
    }

    /// Forwards again what waited, and what follows.
    pub fn resume(&self) {
        self.paused.store(false, Ordering::Relaxed);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stopped.store(true, Ordering::Relaxed);
        // Wakes the accept loop so that it sees it is stopped.
        let _ = TcpStream::connect(self.addr);
    }
}

/// Copies `from` to `to`, holding the bytes while paused.
fn pipe(mut from: TcpStream, mut to: TcpStream, paused: &AtomicBool, stopped: &AtomicBool) {
    let mut buffer = [0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        while paused.load(Ordering::Relaxed) && !stopped.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(20));
        }
        if stopped.load(Ordering::Relaxed) || to.write_all(&buffer[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Both);
}
