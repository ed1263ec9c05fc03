//! The shipped nginx gateway (deploy/proxy/entrypoint.sh + template) run for real on loopback,
//! shared by the proxy tests and the anchors benchmark (which includes this file by path).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

// The test binary's root and the anchors bench (which includes this file) each have one.
use super::free_port;

/// The shipped entrypoint script.
pub fn entrypoint() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/proxy/entrypoint.sh").canonicalize().unwrap()
}

fn nginx_binary() -> String {
    for candidate in ["/usr/sbin/nginx", "/usr/bin/nginx"] {
        if Path::new(candidate).exists() {
            return candidate.into();
        }
    }
    panic!("nginx is not installed (scripts/setup.sh installs Debian's nginx)");
}

/// nginx started through the entrypoint, stopped (SIGTERM to its master, by pid) when dropped.
pub struct Nginx {
    child: std::process::Child,
    dir: PathBuf,
    pub address: String,
}

impl Nginx {
    /// Starts nginx on a free loopback port in front of `127.0.0.1:upstream_port`.
    /// The upstream address (`ua=`) of every request the access log shows whose path contains `part`.
    #[allow(dead_code, reason = "the anchors bench includes this file and has no use for it")]
    pub fn upstreams_of(&self, part: &str) -> Vec<String> {
        let log = std::fs::read_to_string(self.dir.join("output.log")).unwrap_or_default();
        log.lines()
            .filter(|line| line.split('"').nth(1).is_some_and(|request| request.contains(part)))
            .filter_map(|line| line.split(" ua=").nth(1).map(|rest| rest.split_whitespace().next().unwrap_or("").to_string()))
            .collect()
    }

    pub async fn start(upstream_port: u16, user: &str, password: &str, extra: &[(&str, &str)]) -> Nginx {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("pd-nginx-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // nginx's workers run as an unprivileged user and must reach the files below.
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let conf = dir.join("nginx.conf");
        let log = std::fs::File::create(dir.join("output.log")).unwrap();
        let mut command = std::process::Command::new("/bin/sh");
        command
            .arg(entrypoint())
            .args([&nginx_binary(), "-e", "stderr", "-p", dir.to_str().unwrap(), "-c", conf.to_str().unwrap(), "-g", "daemon off;"])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_else(|_| "/usr/sbin:/usr/bin:/sbin:/bin".into()))
            .env("BASIC_AUTH_USER", user)
            .env("BASIC_AUTH_PASS", password)
            .env("NGINX_PORT", port.to_string())
            .env("PROXY_LISTEN_ADDR", "127.0.0.1")
            .env("PROXY_UPSTREAM", format!("127.0.0.1:{upstream_port}"))
            .env("PROXY_RUNTIME_DIR", dir.join("run"))
            .env("PROXY_CONF", &conf)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        for (name, value) in extra {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("run the entrypoint");
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                break;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("nginx exited with {status}: {}", std::fs::read_to_string(dir.join("output.log")).unwrap_or_default());
            }
            assert!(
                Instant::now() < deadline,
                "nginx did not listen: {}",
                std::fs::read_to_string(dir.join("output.log")).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Nginx { child, dir, address: format!("http://127.0.0.1:{port}") }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = std::process::Command::new("kill").args(["-TERM", &pid]).status();
        for _ in 0..40 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
