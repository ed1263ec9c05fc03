//! A private PostgreSQL and Redis for one test, on free loopback ports, that the test may stop,
//! start and restart without disturbing the shared servers of scripts/services.sh.
//!
//! PostgreSQL: `initdb` into a temp dir (as the `postgres` user via `runuser` when running as root,
//! as scripts/services.sh does), trust auth, its unix socket in the same dir, fsync off.
//! Redis: `redis-server` as a child, append-only like compose.yml, its files in the temp dir.
//! Both are stopped and their files removed on drop.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::Connection;

use crate::helpers::free_port;

fn as_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

fn pg_bindir() -> PathBuf {
    if let Ok(dir) = std::env::var("PD_PG_BIN") {
        return dir.into();
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dir| dir.filter_map(|e| e.ok()).map(|e| e.path().join("bin")).filter(|p| p.join("pg_ctl").exists()).collect())
        .unwrap_or_default();
    versions.sort();
    versions.pop().expect("PostgreSQL server binaries (/usr/lib/postgresql/*/bin); run scripts/setup.sh")
}

/// A PostgreSQL cluster of its own.
pub struct PrivatePostgres {
    dir: PathBuf,
    bin: PathBuf,
    root: bool,
    pub port: u16,
}

impl PrivatePostgres {
    pub async fn start() -> PrivatePostgres {
        let dir = std::env::temp_dir().join(format!("pd-pg-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(dir.join("data")).unwrap();
        let root = as_root();
        let pg = PrivatePostgres { dir, bin: pg_bindir(), root, port: free_port() };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&pg.dir, std::fs::Permissions::from_mode(0o755)).unwrap();
            std::fs::set_permissions(pg.dir.join("data"), std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        if root {
            let status = Command::new("chown").args(["-R", "postgres:"]).arg(&pg.dir).status().unwrap();
            assert!(status.success(), "chown the cluster dir to postgres");
        }
        let data = pg.data();
        pg.run("initdb", &["-D", &data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"]);
        let conf = format!(
            "\nmax_connections = 200\nlisten_addresses = '127.0.0.1'\nport = {}\nunix_socket_directories = '{}'\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\nlog_min_messages = fatal\n",
            pg.port,
            pg.dir.display()
        );
        let path = pg.dir.join("data/postgresql.conf");
        let mut existing = std::fs::read_to_string(&path).unwrap();
        existing.push_str(&conf);
        std::fs::write(&path, existing).unwrap();
        pg.start_again().await;
        pg
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    fn log(&self) -> String {
        self.dir.join("pg.log").display().to_string()
    }

    /// Runs a PostgreSQL server program (as `postgres` when we are root); panics with its output on failure.
    fn run(&self, program: &str, args: &[&str]) {
        let exe = self.bin.join(program);
        let mut command = if self.root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        let output = command.args(args).current_dir("/").stdin(Stdio::null()).output().expect("run a PostgreSQL program");
        assert!(
            output.status.success(),
            "{program} {args:?} failed: {}{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            std::fs::read_to_string(self.dir.join("pg.log")).unwrap_or_default()
        );
    }

    /// The superuser URL of database `postgres`.
    pub fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// A new, migrated database on this cluster. Returns its URL.
    pub async fn fresh_database(&self) -> String {
        let name = format!("pd_faults_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(&self.admin_url()).await.expect("connect to the private Postgres");
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.expect("create database");
        let url = format!("postgres://postgres@127.0.0.1:{}/{name}", self.port);
        let pool = backend::connect_pool(&url, backend::DEFAULT_POOL_SIZE).await.expect("connect to the new database");
        backend::migrate(&pool).await.expect("migrate");
        pool.close().await;
        url
    }

    /// `pg_ctl stop -m fast`: every connection is terminated.
    pub fn stop(&self) {
        self.run("pg_ctl", &["stop", "-D", &self.data(), "-m", "fast", "-w", "-t", "30"]);
    }

    /// Starts the stopped cluster on the same port and waits until it answers.
    pub async fn start_again(&self) {
        let (data, log) = (self.data(), self.log());
        self.run("pg_ctl", &["start", "-D", &data, "-l", &log, "-w", "-t", "30"]);
        let deadline = Instant::now() + Duration::from_secs(30);
        while sqlx::PgConnection::connect(&self.admin_url()).await.is_err() {
            assert!(
                Instant::now() < deadline,
                "the private Postgres did not answer: {}",
                std::fs::read_to_string(self.log()).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let exe = self.bin.join("pg_ctl");
        let data = self.data();
        let args = ["stop", "-D", data.as_str(), "-m", "immediate", "-w", "-t", "10"];
        let _ = if self.root {
            Command::new("runuser").args(["-u", "postgres", "--"]).arg(&exe).args(args).current_dir("/").output()
        } else {
            Command::new(&exe).args(args).output()
        };
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A Redis server of its own.
pub struct PrivateRedis {
    dir: PathBuf,
    child: std::sync::Mutex<Option<std::process::Child>>,
    pub port: u16,
}

impl PrivateRedis {
    pub async fn start() -> PrivateRedis {
        let dir = std::env::temp_dir().join(format!("pd-redis-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let redis = PrivateRedis { dir, child: Default::default(), port: free_port() };
        redis.start_again().await;
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Starts the server again on the same port and data dir (its append-only file survives).
    pub async fn start_again(&self) {
        assert!(self.child.lock().unwrap().is_none(), "redis is running");
        let log = std::fs::File::create(self.dir.join("redis.log")).unwrap();
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--appendonly", "yes", "--save", ""])
            .arg("--dir")
            .arg(&self.dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("redis-server (scripts/setup.sh installs it)");
        *self.child.lock().unwrap() = Some(child);
        let deadline = Instant::now() + Duration::from_secs(15);
        while !ping(self.port).await {
            assert!(Instant::now() < deadline, "the private Redis did not answer: {}", self.log());
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// SIGTERM (Redis flushes its append-only file and exits), then waits for the exit.
    pub fn stop(&self) {
        let Some(mut child) = self.child.lock().unwrap().take() else { return };
        let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !matches!(child.try_wait(), Ok(Some(_))) {
            if Instant::now() > deadline {
                let _ = child.kill();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("redis.log")).unwrap_or_default()
    }
}

async fn ping(port: u16) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(mut stream) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else { return false };
    if stream.write_all(b"PING\r\n").await.is_err() {
        return false;
    }
    let mut buffer = [0u8; 16];
    matches!(tokio::time::timeout(Duration::from_secs(1), stream.read(&mut buffer)).await, Ok(Ok(n)) if buffer[..n].starts_with(b"+PONG"))
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.lock().unwrap().take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Both, for one test.
pub struct PrivateServices {
    pub postgres: PrivatePostgres,
    pub redis: PrivateRedis,
}

impl PrivateServices {
    pub async fn start() -> PrivateServices {
        let (postgres, redis) = tokio::join!(PrivatePostgres::start(), PrivateRedis::start());
        PrivateServices { postgres, redis }
    }
}

/// Where a test's process logs go: kept after the test, named in its failure messages.
pub fn log_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join("pd-faults-logs").join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
