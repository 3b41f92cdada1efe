//! The server as its own process, for tests that kill it (SIGKILL) or run several on one database.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A `node` binary serving a database; killed when dropped.
pub struct Node {
    child: Child,
    /// `http://addr` of the running server.
    pub base: String,
}

impl Node {
    /// Starts `binary` (an integration test passes `env!("CARGO_BIN_EXE_node")`) on `url`, signing
    /// tokens with `secret`, and waits until it listens.
    pub fn start(binary: &str, url: &str, secret: &str) -> Node {
        Node::launch(binary, url, secret, Stdio::inherit())
    }

    /// Like [`start`](Self::start), with the server's log written to the file `log`, for a test that
    /// reads it afterwards: a panic leaves its message there.
    pub fn start_logged(binary: &str, url: &str, secret: &str, log: &std::path::Path) -> Node {
        let file = std::fs::File::create(log).unwrap_or_else(|e| panic!("cannot create {}: {e}", log.display()));
        Node::launch(binary, url, secret, Stdio::from(file))
    }

    /// The server's process id, to read its memory from `/proc`.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn launch(binary: &str, url: &str, secret: &str, log: Stdio) -> Node {
        let mut child = Command::new(binary)
            .env("DATABASE_URL", url)
            .env("KONSORTIUM_JWT_SECRET", secret)
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start a server: {e}"));
        let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap_or_else(|e| panic!("{e}"));
        let addr = line.trim().strip_prefix("listening ").unwrap_or_else(|| panic!("unexpected: {line:?}"));
        Node { base: format!("http://{addr}"), child }
    }

    /// SIGKILL: the process gets no chance to finish a transaction, release a lock or close a
    /// connection politely.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}
