//! A SoftHSM2 token of its own for a test: a token directory and
//! configuration file in a temp directory, initialised with
//! `softhsm2-util`. The module is `OPENCCM_TEST_PKCS11_MODULE` (set by
//! `scripts/test`, which installs SoftHSM2), or Debian's path. A missing
//! module is a test failure, never a skip.
//!
//! SoftHSM2 finds its configuration through the `SOFTHSM2_CONF` environment
//! variable, read when the module is loaded: a test process sets it (see
//! [`SoftHsm::env`]) before it or a child process loads the module.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The user PIN of every test token.
pub const PIN: &str = "1234-test-pin";

/// A freshly initialised SoftHSM2 token.
#[derive(Debug)]
pub struct SoftHsm {
    /// The PKCS#11 module.
    pub module: PathBuf,
    /// The token's label.
    pub label: String,
    /// The configuration file (`SOFTHSM2_CONF`).
    pub conf: PathBuf,
    /// A file holding the user PIN.
    pub pin_file: PathBuf,
}

/// The SoftHSM2 module to load.
///
/// # Panics
/// When the module is missing: run the suite with `scripts/test`, which
/// installs SoftHSM2.
pub fn module() -> PathBuf {
    let module = std::env::var("OPENCCM_TEST_PKCS11_MODULE").map_or_else(
        |_| PathBuf::from("/usr/lib/softhsm/libsofthsm2.so"),
        PathBuf::from,
    );
    assert!(
        module.exists(),
        "the SoftHSM2 module {} is missing: run the suite with scripts/test, which installs SoftHSM2",
        module.display()
    );
    module
}

impl SoftHsm {
    /// Initialises a token labelled `label` under `dir`.
    ///
    /// # Panics
    /// When `softhsm2-util` fails.
    pub fn new(dir: &Path, label: &str) -> Self {
        let tokens = dir.join("softhsm-tokens");
        std::fs::create_dir_all(&tokens).expect("token directory");
        let conf = dir.join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .expect("softhsm2.conf");
        let out = Command::new("softhsm2-util")
            .env("SOFTHSM2_CONF", &conf)
            .args([
                "--init-token",
                "--free",
                "--label",
                label,
                "--pin",
                PIN,
                "--so-pin",
                "5678-test-so-pin",
            ])
            .output()
            .expect("softhsm2-util (installed by scripts/test)");
        assert!(
            out.status.success(),
            "softhsm2-util --init-token failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let pin_file = dir.join("pkcs11.pin");
        std::fs::write(&pin_file, format!("{PIN}\n")).expect("pin file");
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&pin_file, std::fs::Permissions::from_mode(0o600))
                .expect("pin file mode");
        }
        Self {
            module: module(),
            label: label.to_owned(),
            conf,
            pin_file,
        }
    }

    /// The environment a process that loads the module needs.
    pub fn env(&self) -> (&'static str, &Path) {
        ("SOFTHSM2_CONF", &self.conf)
    }
}
