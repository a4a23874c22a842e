//! `FaultProxy`: a TCP proxy on a loopback port in front of one node, for one direction of one
//! link (node A reaching node B). A test can cut it (open connections are shut, new ones are
//! closed at once) and heal it.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

pub struct FaultProxy {
    addr: SocketAddr,
    cut: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<Link>>>,
}

/// An open connection through the proxy: both sockets, and how many of its two copying
/// threads are still running (it is forgotten at zero).
struct Link {
    client: TcpStream,
    server: TcpStream,
    running: Arc<AtomicUsize>,
}

impl FaultProxy {
    /// A proxy on a free loopback port forwarding to `target`.
    pub fn start(target: SocketAddr) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a proxy port");
        listener
            .set_nonblocking(true)
            .expect("nonblocking listener");
        let addr = listener.local_addr().expect("proxy address");
        let cut = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let open: Arc<Mutex<Vec<Link>>> = Arc::new(Mutex::new(Vec::new()));
        let (cut2, stop2, open2) = (cut.clone(), stop.clone(), open.clone());
        thread::spawn(move || {
            while !stop2.load(Ordering::Acquire) {
                match listener.accept() {
                    Ok((client, _)) => {
                        if cut2.load(Ordering::Acquire) {
                            let _ = client.shutdown(Shutdown::Both);
                            continue;
                        }
                        let _ = client.set_nonblocking(false);
                        let Ok(server) =
                            TcpStream::connect_timeout(&target, Duration::from_millis(500))
                        else {
                            let _ = client.shutdown(Shutdown::Both);
                            continue;
                        };
                        let running = Arc::new(AtomicUsize::new(2));
                        {
                            let mut list = open2.lock().unwrap();
                            // Closed connections are forgotten, so their sockets are closed.
                            list.retain(|link| link.running.load(Ordering::Acquire) > 0);
                            if let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) {
                                list.push(Link {
                                    client: c2,
                                    server: s2,
                                    running: running.clone(),
                                });
                            }
                        }
                        pipe(client.try_clone(), server.try_clone(), running.clone());
                        pipe(server.try_clone(), client.try_clone(), running);
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        FaultProxy {
            addr,
            cut,
            stop,
            open,
        }
    }

    /// Where to connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Cuts the link: shuts every open connection and refuses new ones.
    pub fn cut(&self) {
        self.cut.store(true, Ordering::Release);
        for link in self.open.lock().unwrap().drain(..) {
            let _ = link.client.shutdown(Shutdown::Both);
            let _ = link.server.shutdown(Shutdown::Both);
        }
    }

    /// Heals the link.
    pub fn heal(&self) {
        self.cut.store(false, Ordering::Release);
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        self.cut();
    }
}

/// Copies `from` to `to` on a thread until either side closes.
fn pipe(
    from: std::io::Result<TcpStream>,
    to: std::io::Result<TcpStream>,
    running: Arc<AtomicUsize>,
) {
    let (Ok(mut from), Ok(mut to)) = (from, to) else {
        running.fetch_sub(1, Ordering::AcqRel);
        return;
    };
    thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if to.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = to.shutdown(Shutdown::Write);
        let _ = from.shutdown(Shutdown::Read);
        running.fetch_sub(1, Ordering::AcqRel);
    });
}
