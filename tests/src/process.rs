//! The server as its own process, for tests that kill it (SIGKILL) or run several on one database.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};

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
        Node::start_with(binary, url, secret, &[])
    }

    /// Like [`start`](Self::start), with the server's log written to the file `log`, for a test that
    /// reads it afterwards: a panic leaves its message there.
    pub fn start_logged(binary: &str, url: &str, secret: &str, log: &std::path::Path) -> Node {
        let file = std::fs::File::create(log).unwrap_or_else(|e| panic!("cannot create {}: {e}", log.display()));
        Node::spawn(Command::new(binary), url, secret, &[], Stdio::from(file))
    }

    /// Like [`start`](Self::start) with more environment, such as `KONSORTIUM_KEK` for a server
    /// restarted over the same participants.
    pub fn start_with(binary: &str, url: &str, secret: &str, env: &[(&str, &str)]) -> Node {
        Node::spawn(Command::new(binary), url, secret, env, Stdio::inherit())
    }

    /// Like [`start_with`](Self::start_with), with SIGXFSZ ignored, so that a write beyond the
    /// file size limit (`prlimit --fsize`, a full disk's stand-in) fails as a write to a full disk
    /// does instead of killing the server. An ignored signal stays ignored across `exec`.
    pub fn start_ignoring_file_size_limit(binary: &str, url: &str, secret: &str, env: &[(&str, &str)]) -> Node {
        let mut command = Command::new("sh");
        command.args(["-c", "trap '' XFSZ; exec \"$0\"", binary]);
        Node::spawn(command, url, secret, env, Stdio::inherit())
    }

    fn spawn(mut command: Command, url: &str, secret: &str, env: &[(&str, &str)], log: Stdio) -> Node {
        let mut child = command
            .env("DATABASE_URL", url)
            .env("KONSORTIUM_JWT_SECRET", secret)
            .envs(env.iter().copied())
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

impl Node {
    /// SIGTERM, as an operator, systemd or a container runtime stops a server.
    pub fn terminate(&self) {
        let sent = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        assert!(sent.as_ref().is_ok_and(|s| s.success()), "cannot send SIGTERM: {sent:?}");
    }

    /// Waits for the process to end and says how it did.
    pub fn wait(&mut self) -> ExitStatus {
        self.child.wait().unwrap_or_else(|e| panic!("cannot wait for the server: {e}"))
    }

    /// Whether the process is still there.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The process id, for tools that act on the running server.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}
