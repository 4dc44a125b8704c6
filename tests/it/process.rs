//! `skypay-local` as a process, as a user runs it: for what only a process shows (its open
//! ports, signals, a file lock, a disk that fills up). Everything on 127.0.0.1.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The command, built by this package (`tests/support/bin/skypay_local.rs`). Only an
/// integration test of the package knows its path, hence this module lives in `tests/it`.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_skypay-local-under-test"))
}

/// A running `skypay-local`.
pub struct Process {
    pub child: Child,
    pub base: String,
    pub port: u16,
}

impl Process {
    /// Starts `skypay-local ARGS --listen 127.0.0.1:0` (through `bash -c PRELUDE; exec ...`
    /// when a prelude is given, for `ulimit`) and waits for its banner.
    pub fn start(args: &[&str], prelude: Option<&str>) -> Result<Process, String> {
        let mut argv: Vec<String> = vec![binary().display().to_string()];
        argv.extend(args.iter().map(|a| (*a).to_owned()));
        argv.extend(["--listen".to_owned(), "127.0.0.1:0".to_owned()]);
        let mut command = match prelude {
            None => {
                let mut c = Command::new(&argv[0]);
                c.args(&argv[1..]);
                c
            }
            Some(prelude) => {
                let quoted: Vec<String> = argv.iter().map(|a| format!("'{a}'")).collect();
                let mut c = Command::new("bash");
                c.arg("-c")
                    .arg(format!("{prelude}; exec {}", quoted.join(" ")));
                c
            }
        };
        // A clean environment: the local defaults, nothing of the caller's AWS setup.
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().map_err(|e| e.to_string())?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let stderr = child.stderr.take().ok_or("no stderr")?;
        let (tx, rx) = mpsc::channel::<Result<String, String>>();
        let out = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("skypay-local listening on ") {
                    let _ = out.send(Ok(rest.trim().to_owned()));
                }
            }
        });
        std::thread::spawn(move || {
            let mut text = String::new();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                text.push_str(&line);
                text.push('\n');
                if line.starts_with("skypay-local: ") {
                    let _ = tx.send(Err(line));
                }
            }
        });
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(Ok(base)) => {
                let port = base
                    .rsplit(':')
                    .next()
                    .and_then(|p| p.parse().ok())
                    .ok_or(format!("no port in {base}"))?;
                Ok(Process { child, base, port })
            }
            Ok(Err(message)) => {
                let _ = child.wait();
                Err(message)
            }
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                Err("skypay-local printed no banner within 60 s".to_owned())
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM, as a process manager does.
    pub fn terminate(&self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
    }

    /// Waits for the process to end, for at most `bound` (a liveness bound, not a speed
    /// measure): its exit status, or `None` if it is still running.
    pub fn wait_at_most(&mut self, bound: Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + bound;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if std::time::Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM, then the exit status (killed if it outlives 60 s).
    pub fn stop(mut self) -> std::process::ExitStatus {
        self.terminate();
        match self.wait_at_most(Duration::from_secs(60)) {
            Some(status) => status,
            None => {
                let _ = self.child.kill();
                self.child.wait().expect("the process ends")
            }
        }
    }

    /// The TCP ports the process listens on (from its socket descriptors and
    /// `/proc/net/tcp{,6}`).
    pub fn listening_ports(&self) -> Vec<u16> {
        let pid = self.pid();
        let inodes: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter_map(|e| std::fs::read_link(e.path()).ok())
                    .filter_map(|link| {
                        let link = link.display().to_string();
                        link.strip_prefix("socket:[")
                            .and_then(|rest| rest.strip_suffix(']'))
                            .map(str::to_owned)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut ports = Vec::new();
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            let Ok(text) = std::fs::read_to_string(table) else {
                continue;
            };
            for line in text.lines().skip(1) {
                let fields: Vec<&str> = line.split_whitespace().collect();
                let (Some(local), Some(state), Some(inode)) =
                    (fields.get(1), fields.get(3), fields.get(9))
                else {
                    continue;
                };
                // 0A: LISTEN.
                if *state == "0A"
                    && inodes.iter().any(|i| i == inode)
                    && let Some(port) = local
                        .rsplit(':')
                        .next()
                        .and_then(|p| u16::from_str_radix(p, 16).ok())
                {
                    ports.push(port);
                }
            }
        }
        ports.sort_unstable();
        ports.dedup();
        ports
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs `skypay-local ARGS` to completion (`backup`, `restore`): exit success and its output.
pub fn run(args: &[&str]) -> (bool, String) {
    let output = Command::new(binary())
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output()
        .expect("skypay-local runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// A scratch folder under the target directory, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "skypay-{name}-{}-{}",
            std::process::id(),
            skypay::ledger::random_token()
        ));
        std::fs::create_dir_all(&dir).expect("a scratch folder");
        Scratch(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The text form of a path, for arguments.
pub fn arg(path: &Path) -> String {
    path.display().to_string()
}
