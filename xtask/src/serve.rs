//! A small static file server for `www/`: correct MIME types (`application/wasm`), brotli or
//! gzip per `Accept-Encoding` (pre-compressed siblings when fresh, otherwise compressed once
//! and cached), GET and HEAD only, nothing outside the root.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use crate::build::{compress_brotli, compress_gzip, with_ext};

type Cache = Arc<Mutex<HashMap<(PathBuf, &'static str), (SystemTime, Arc<Vec<u8>>)>>>;

/// A bound server.
pub struct Server {
    listener: TcpListener,
    root: PathBuf,
    cache: Cache,
}

/// Keeps a spawned server's thread; the process exit stops it.
pub struct Handle {
    _thread: std::thread::JoinHandle<()>,
}

impl Server {
    /// Binds 127.0.0.1:`port` (0 picks a free port).
    pub fn bind(root: &Path, port: u16) -> Result<Server, String> {
        if !root.join("index.html").exists() {
            return Err(format!("{} has no index.html", root.display()));
        }
        let listener = TcpListener::bind(("127.0.0.1", port))
            .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
        Ok(Server {
            listener,
            root: root.to_path_buf(),
            cache: Cache::default(),
        })
    }

    /// The port bound.
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Serves until the process ends.
    pub fn run_forever(self) {
        for stream in self.listener.incoming().flatten() {
            let root = self.root.clone();
            let cache = self.cache.clone();
            std::thread::spawn(move || {
                let _ = handle(stream, &root, &cache);
            });
        }
    }

    /// Serves on a background thread.
    pub fn spawn(self) -> Handle {
        Handle {
            _thread: std::thread::spawn(move || self.run_forever()),
        }
    }
}

/// MIME type by extension.
pub fn mime(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" | "md" => "text/plain; charset=utf-8",
        "ts" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn compressible(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("html" | "js" | "mjs" | "wasm" | "css" | "json" | "map" | "svg" | "txt" | "ts" | "md")
    )
}

/// Maps a URL path to a file under `root`, refusing anything that climbs out.
pub fn resolve(root: &Path, url_path: &str) -> Option<PathBuf> {
    let path = url_path.split(['?', '#']).next().unwrap_or("/");
    let decoded = percent_decode(path)?;
    let mut out = root.to_path_buf();
    for c in Path::new(decoded.trim_start_matches('/')).components() {
        match c {
            Component::Normal(s) => out.push(s),
            Component::CurDir => {}
            _ => return None,
        }
    }
    if out.is_dir() {
        out.push("index.html");
    }
    out.is_file().then_some(out)
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let h = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(h, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Picks `br` or `gzip` from an `Accept-Encoding` header (`q=0` refuses).
pub fn pick_encoding(accept: &str) -> Option<&'static str> {
    let mut br = false;
    let mut gz = false;
    for part in accept.split(',') {
        let mut it = part.trim().split(';');
        let name = it.next().unwrap_or("").trim().to_ascii_lowercase();
        let refused = it.any(|p| {
            let p = p.trim().replace(' ', "");
            p == "q=0" || p == "q=0.0" || p == "q=0.00" || p == "q=0.000"
        });
        if refused {
            continue;
        }
        match name.as_str() {
            "br" => br = true,
            "gzip" | "*" => gz = true,
            _ => {}
        }
    }
    if br {
        Some("br")
    } else if gz {
        Some("gzip")
    } else {
        None
    }
}

fn body_for(
    path: &Path,
    enc: Option<&'static str>,
    cache: &Cache,
) -> std::io::Result<Arc<Vec<u8>>> {
    let Some(enc) = enc.filter(|_| compressible(path)) else {
        return std::fs::read(path).map(Arc::new);
    };
    let mtime = std::fs::metadata(path)?.modified()?;
    let sibling = with_ext(path, if enc == "br" { "br" } else { "gz" });
    if let Ok(m) = std::fs::metadata(&sibling)
        && m.modified()? >= mtime
    {
        return std::fs::read(&sibling).map(Arc::new);
    }
    let key = (path.to_path_buf(), enc);
    if let Ok(c) = cache.lock()
        && let Some((t, data)) = c.get(&key)
        && *t == mtime
    {
        return Ok(data.clone());
    }
    let raw = std::fs::read(path)?;
    let data = Arc::new(if enc == "br" {
        compress_brotli(&raw, 5).map_err(std::io::Error::other)?
    } else {
        compress_gzip(&raw, 6)
    });
    if let Ok(mut c) = cache.lock() {
        c.insert(key, (mtime, data.clone()));
    }
    Ok(data)
}

fn handle(stream: TcpStream, root: &Path, cache: &Cache) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let target = parts.next().unwrap_or("/").to_string();
        let version = parts.next().unwrap_or("HTTP/1.0").to_string();
        let mut accept = String::new();
        let mut keep_alive = version == "HTTP/1.1";
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h)? == 0 || h.trim().is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                let k = k.trim().to_ascii_lowercase();
                let v = v.trim();
                if k == "accept-encoding" {
                    accept = v.to_string();
                } else if k == "connection" {
                    keep_alive = !v.eq_ignore_ascii_case("close");
                }
            }
        }
        let conn = if keep_alive { "keep-alive" } else { "close" };
        if method != "GET" && method != "HEAD" {
            write!(
                out,
                "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD\r\nContent-Length: 0\r\nConnection: {conn}\r\n\r\n"
            )?;
        } else if let Some(path) = resolve(root, &target) {
            let enc = pick_encoding(&accept).filter(|_| compressible(&path));
            let body = body_for(&path, enc, cache)?;
            let mut head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-cache\r\nVary: Accept-Encoding\r\nX-Content-Type-Options: nosniff\r\nConnection: {conn}\r\n",
                mime(&path),
                body.len()
            );
            if let Some(e) = enc {
                head.push_str(&format!("Content-Encoding: {e}\r\n"));
            }
            head.push_str("\r\n");
            out.write_all(head.as_bytes())?;
            if method == "GET" {
                out.write_all(&body)?;
            }
        } else {
            let msg = b"not found\n";
            write!(
                out,
                "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: {conn}\r\n\r\n",
                msg.len()
            )?;
            if method == "GET" {
                out.write_all(msg)?;
            }
        }
        out.flush()?;
        if !keep_alive {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn encodings_and_mime() {
        assert_eq!(pick_encoding("gzip, deflate, br, zstd"), Some("br"));
        assert_eq!(pick_encoding("gzip"), Some("gzip"));
        assert_eq!(pick_encoding("br;q=0, gzip"), Some("gzip"));
        assert_eq!(pick_encoding("identity"), None);
        assert_eq!(pick_encoding(""), None);
        assert_eq!(mime(Path::new("a/b.wasm")), "application/wasm");
        assert!(mime(Path::new("x.js")).starts_with("text/javascript"));
    }

    #[test]
    fn serves_files_compressed_and_refuses_escapes() {
        let dir = std::env::temp_dir().join(format!("vs-serve-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("pkg")).expect("tmp dir");
        std::fs::write(dir.join("index.html"), "<!doctype html>hello".repeat(50)).expect("write");
        std::fs::write(dir.join("pkg/m.wasm"), b"\0asm\x01\0\0\0").expect("write");
        assert!(resolve(&dir, "/../etc/passwd").is_none());
        assert!(resolve(&dir, "/%2e%2e/x").is_none());
        assert_eq!(resolve(&dir, "/"), Some(dir.join("index.html")));
        assert_eq!(
            resolve(&dir, "/pkg/m.wasm?x=1"),
            Some(dir.join("pkg/m.wasm"))
        );

        let server = Server::bind(&dir, 0).expect("bind");
        let port = server.port();
        let _h = server.spawn();
        let get = |path: &str, enc: &str| {
            let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
            write!(
                s,
                "GET {path} HTTP/1.1\r\nHost: x\r\nAccept-Encoding: {enc}\r\nConnection: close\r\n\r\n"
            )
            .expect("send");
            let mut buf = Vec::new();
            s.read_to_end(&mut buf).expect("read");
            buf
        };
        let r = get("/pkg/m.wasm", "identity");
        let text = String::from_utf8_lossy(&r);
        assert!(text.starts_with("HTTP/1.1 200"), "{text}");
        assert!(text.contains("Content-Type: application/wasm"));
        assert!(!text.contains("Content-Encoding"));
        let r = String::from_utf8_lossy(&get("/", "gzip, br")).to_string();
        assert!(r.contains("Content-Encoding: br"), "{r}");
        assert!(r.contains("text/html"));
        let r = String::from_utf8_lossy(&get("/", "gzip")).to_string();
        assert!(r.contains("Content-Encoding: gzip"));
        let r = String::from_utf8_lossy(&get("/nope.js", "")).to_string();
        assert!(r.starts_with("HTTP/1.1 404"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
