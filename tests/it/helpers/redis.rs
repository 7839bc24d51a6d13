//! A redis-server of the test's own, started on a free port and stopped with the test.

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use super::free_port;

/// A redis-server of the test's own on a free port.
pub struct TestRedis {
    child: Child,
    pub port: u16,
}

impl TestRedis {
    pub fn start() -> TestRedis {
        let port = free_port();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .args(["--enable-debug-command", "yes"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server must be installed for the cache tests");
        let redis = TestRedis { child, port };
        let start = Instant::now();
        while redis.cli(&["PING"]) != "PONG" {
            assert!(start.elapsed() < Duration::from_secs(10), "redis-server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        redis
    }

    /// Stops the server (Redis down).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn cli(&self, args: &[&str]) -> String {
        let out = Command::new("redis-cli")
            .args(["-p", &self.port.to_string()])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
