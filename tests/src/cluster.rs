//! A private PostgreSQL cluster for tests that restart the database server under a running
//! Konsortium: started from the distribution's binaries in a temporary directory on a free port, as
//! the `postgres` user when the tests run as root (initdb refuses root), and removed when dropped.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    pub port: u16,
}

/// The newest `/usr/lib/postgresql/*/bin` holding `pg_ctl`.
fn pg_bin() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("pg_ctl").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|out| out.stdout.starts_with(b"0\n"))
}

/// A port nobody listens on now.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("no free port: {e}"));
    listener.local_addr().map(|a| a.port()).unwrap_or_else(|e| panic!("{e}"))
}

impl Cluster {
    /// Creates and starts a cluster; `None` when no PostgreSQL binaries are installed.
    pub fn start() -> Option<Cluster> {
        let bin = pg_bin()?;
        let dir = std::env::temp_dir().join(format!("konsortium-cluster-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        let cluster = Cluster { bin, dir, port: free_port() };
        if is_root() {
            let owned = Command::new("chown").arg("postgres").arg(&cluster.dir).status();
            assert!(owned.is_ok_and(|s| s.success()), "cannot give {} to the postgres user", cluster.dir.display());
        }
        let data = cluster.dir.display().to_string();
        cluster.run("initdb", &["-D", &data, "-U", "postgres", "--auth=trust", "--no-sync"]);
        // A crash of the server processes (the restarts here) keeps the OS page cache, so fsync
        // buys nothing but time in these tests.
        let options = format!("-p {} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off", cluster.port);
        let log = cluster.dir.join("server.log").display().to_string();
        cluster.run("pg_ctl", &["-D", &data, "-l", &log, "-o", &options, "-w", "start"]);
        Some(cluster)
    }

    /// A PostgreSQL tool, run as the postgres user when we are root.
    fn command(&self, tool: &str) -> Command {
        let program = self.bin.join(tool);
        if is_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let out = self
            .command(tool)
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {tool}: {e}"));
        assert!(
            out.status.success(),
            "{tool} {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The URL of database `name` on this cluster.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Stops the server as a crash would (`-m immediate`: no checkpoint, every connection cut) and
    /// starts it again; it recovers from its WAL.
    pub fn restart(&self) {
        let data = self.dir.display().to_string();
        // Without `-l` the new server would write to our pipes and keep them open.
        let log = self.dir.join("server.log").display().to_string();
        self.run("pg_ctl", &["-D", &data, "-l", &log, "-m", "immediate", "-w", "restart"]);
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.dir.display().to_string();
        let _ = self.command("pg_ctl").args(["-D", &data, "-m", "immediate", "stop"]).output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
