//! A scripted HTTP/1.1 server on 127.0.0.1 for the download tests.
//!
//! Raw HTTP over tokio's `TcpListener`, so a test decides every byte: the status, the headers,
//! how much of the body is sent, and whether the connection is then closed or left hanging.
//! Every response carries `Connection: close`, so each request arrives on its own connection
//! and a cut connection only ever affects the request it was meant for.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// `Range: bytes=N-` -> `N`.
    pub fn range_start(&self) -> Option<u64> {
        self.header("range")?
            .trim()
            .strip_prefix("bytes=")?
            .strip_suffix('-')?
            .parse()
            .ok()
    }
}

/// What to answer one request with.
#[derive(Debug, Clone)]
pub struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// How many bytes of `body` actually go out (`Content-Length` always announces all).
    send: usize,
    /// Keep the connection open and silent after sending, instead of closing it.
    hang: bool,
}

impl Reply {
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Reply {
        let body = body.into();
        Reply {
            status,
            headers: Vec::new(),
            send: body.len(),
            body,
            hang: false,
        }
    }

    pub fn ok(body: &[u8]) -> Reply {
        Reply::new(200, body)
    }

    pub fn not_found() -> Reply {
        Reply::new(404, "no such file")
    }

    pub fn json(value: &serde_json::Value) -> Reply {
        Reply::new(200, value.to_string())
            .header("content-type", "application/vnd.pypi.simple.v1+json")
    }

    /// Serves `body` the way a well-behaved file server does: 206 with the tail for
    /// `Range: bytes=N-`, 416 when N is past the end, 200 with everything otherwise.
    pub fn ranged(request: &Request, body: &[u8]) -> Reply {
        match request.range_start() {
            Some(start) if (start as usize) < body.len() => Reply::partial(body, start as usize),
            Some(_) => {
                Reply::new(416, "").header("content-range", format!("bytes */{}", body.len()))
            }
            None => Reply::ok(body),
        }
    }

    /// A 206 with `body[start..]` and a matching `Content-Range`.
    pub fn partial(body: &[u8], start: usize) -> Reply {
        Reply::new(206, &body[start..]).header(
            "content-range",
            format!("bytes {start}-{}/{}", body.len() - 1, body.len()),
        )
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sends only the first `n` bytes of the body, then closes the connection.
    pub fn cut_after(mut self, n: usize) -> Reply {
        self.send = n.min(self.body.len());
        self
    }

    /// Sends the headers and the first `n` bytes of the body, then goes silent with the
    /// connection left open.
    pub fn stall_after(mut self, n: usize) -> Reply {
        self.send = n.min(self.body.len());
        self.hang = true;
        self
    }
}

type Handler = dyn Fn(&Request, usize) -> Reply + Send + Sync;

/// A running server. It lives as long as the test's runtime.
#[derive(Debug, Clone)]
pub struct Server {
    pub base: String,
    log: Arc<Mutex<Vec<Request>>>,
}

impl Server {
    /// Starts a server that answers each request with `handler(request, n)`, where `n` counts
    /// the earlier requests for the same path (0 for the first).
    pub async fn start(
        handler: impl Fn(&Request, usize) -> Reply + Send + Sync + 'static,
    ) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let base = format!("http://{}", listener.local_addr().expect("local address"));
        let log = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let accept_log = Arc::clone(&log);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, Arc::clone(&handler), Arc::clone(&accept_log)));
            }
        });
        Server { base, log }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().unwrap().clone()
    }

    pub fn requests_to(&self, path: &str) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }

    /// The `Range` start of each request for `path`, in order (`None`: no Range header).
    pub fn ranges(&self, path: &str) -> Vec<Option<u64>> {
        self.requests_to(path)
            .iter()
            .map(Request::range_start)
            .collect()
    }
}

async fn serve(mut stream: TcpStream, handler: Arc<Handler>, log: Arc<Mutex<Vec<Request>>>) {
    let Some(request) = read_request(&mut stream).await else {
        return;
    };
    let nth = {
        let mut log = log.lock().unwrap();
        let nth = log.iter().filter(|r| r.path == request.path).count();
        log.push(request.clone());
        nth
    };
    let reply = handler(&request, nth);
    let mut head = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status));
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        reply.body.len()
    ));
    let mut out = head.into_bytes();
    out.extend_from_slice(&reply.body[..reply.send]);
    if stream.write_all(&out).await.is_err() || stream.flush().await.is_err() {
        return;
    }
    if reply.hang {
        // Silent until the client gives up and closes (or a minute passes).
        let mut sink = [0u8; 1024];
        let _ = tokio::time::timeout(Duration::from_secs(60), async {
            while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
        })
        .await;
    } else {
        let _ = stream.shutdown().await;
    }
}

/// Reads one request head (GET requests carry no body).
async fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        if buffer.len() > 64 * 1024 {
            return None;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_string();
    let path = request_line.next()?.to_string();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
        .collect();
    Some(Request {
        method,
        path,
        headers,
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        206 => "Partial Content",
        404 => "Not Found",
        416 => "Range Not Satisfiable",
        500 => "Internal Server Error",
        _ => "Whatever",
    }
}
