//! Emulators of a test's own, started beside the shared stack so that one test
//! can stop, freeze or restart them without disturbing the others. The
//! programs come from the stack's install (`DYNAMODB_LOCAL_DIR`, `MOTO_SERVER`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// One emulator process on a port of its own.
#[derive(Debug)]
pub struct Emulator {
    name: &'static str,
    program: String,
    args: Vec<String>,
    port: u16,
    child: Option<Child>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

fn installed(variable: &str) -> String {
    std::env::var(variable)
        .unwrap_or_else(|_| panic!("{variable} is set by scripts/stack.sh (run the tests with `make test`)"))
}

impl Emulator {
    /// A moto server (SQS and Secrets Manager), in memory.
    pub async fn moto() -> Self {
        let port = free_port();
        let args = vec!["-H".into(), "127.0.0.1".into(), "-p".into(), port.to_string()];
        Self::start("moto", installed("MOTO_SERVER"), args, port).await
    }

    /// DynamoDB Local keeping its data in `data` (it survives a restart).
    pub async fn dynamodb(data: &Path) -> Self {
        std::fs::create_dir_all(data).expect("a data directory");
        let dir = PathBuf::from(installed("DYNAMODB_LOCAL_DIR"));
        let port = free_port();
        let args = vec![
            format!("-Djava.library.path={}", dir.join("DynamoDBLocal_lib").display()),
            "-jar".into(),
            dir.join("DynamoDBLocal.jar").display().to_string(),
            "-port".into(),
            port.to_string(),
            "-disableTelemetry".into(),
            "-dbPath".into(),
            data.display().to_string(),
        ];
        Self::start("DynamoDB Local", "java".into(), args, port).await
    }

    async fn start(name: &'static str, program: String, args: Vec<String>, port: u16) -> Self {
        let mut emulator = Self {
            name,
            program,
            args,
            port,
            child: None,
        };
        emulator.spawn().await;
        emulator
    }

    async fn spawn(&mut self) {
        let child = Command::new(&self.program)
            .args(&self.args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| panic!("starting {}: {err}", self.name));
        self.child = Some(child);
        for _ in 0..300 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{} did not open port {}", self.name, self.port);
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("the emulator runs").id();
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(pid.to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal} {pid}");
    }

    /// Freezes the process: connections open, nothing answers (a service that hangs).
    pub fn freeze(&self) {
        self.signal("STOP");
    }

    pub fn thaw(&self) {
        self.signal("CONT");
    }

    /// Stops the process (its port refuses connections).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, with the same data.
    pub async fn restart(&mut self) {
        self.stop();
        self.spawn().await;
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(child) = &self.child {
            // A frozen process must be thawed to die.
            let _ = Command::new("kill").arg("-CONT").arg(child.id().to_string()).status();
        }
        self.stop();
    }
}
