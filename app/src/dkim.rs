//! DKIM (RFC 6376): the keys `mailer dkim generate` makes, and the signer every outgoing
//! e-mail goes through when `MAILER_DKIM__SELECTOR`, `MAILER_DKIM__DOMAIN` and
//! `MAILER_DKIM__KEY_FILE` are set.
//!
//! lettre signs (ed25519-sha256 per RFC 8463, rsa-sha256), relaxed/relaxed. The key file is
//! a PKCS#8 PEM private key (Ed25519 or RSA; a PKCS#1 `RSA PRIVATE KEY` is taken too), read
//! once at start-up; the algorithm comes from the key. The signature covers [`SIGNED`] that
//! the message has: a header named in `h=` but absent would be signed as absent, and a relay
//! that adds a missing `Message-ID` or `Reply-To` would then break the signature.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _};
use lettre::Message;
use lettre::message::dkim::{
    DkimCanonicalization, DkimCanonicalizationType, DkimConfig, DkimSigningAlgorithm,
    DkimSigningKey,
};
use lettre::message::header::HeaderName;
use rsa::pkcs1::{DecodeRsaPrivateKey as _, EncodeRsaPrivateKey as _};
use rsa::pkcs8::{EncodePublicKey as _, LineEnding};
use rsa::traits::PublicKeyParts as _;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

/// The headers a signature covers, each when the message has it. (lettre writes the
/// `Content-Type` of a `singlepart`/`multipart` body with the body, where it cannot sign
/// it: only a `Content-Type` set with `.header()`, as mailings do, is signed.)
pub const SIGNED: [&str; 10] = [
    "From",
    "Reply-To",
    "To",
    "Cc",
    "Subject",
    "Date",
    "Message-ID",
    "Content-Type",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
];

/// Bits of a key `mailer dkim generate --algorithm rsa` makes (RFC 8301 asks for 2048).
pub const RSA_BITS: usize = 2048;
/// Smaller RSA keys are refused: RFC 8301 forbids verifiers to accept them.
const RSA_MIN_BITS: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    Ed25519,
    Rsa,
}

impl Algorithm {
    /// The key type in the DNS record (`k=`).
    pub fn key_type(self) -> &'static str {
        match self {
            Algorithm::Ed25519 => "ed25519",
            Algorithm::Rsa => "rsa",
        }
    }

    /// The signature algorithm (`a=`).
    pub fn signature(self) -> &'static str {
        match self {
            Algorithm::Ed25519 => "ed25519-sha256",
            Algorithm::Rsa => "rsa-sha256",
        }
    }

    fn lettre(self) -> DkimSigningAlgorithm {
        match self {
            Algorithm::Ed25519 => DkimSigningAlgorithm::Ed25519,
            Algorithm::Rsa => DkimSigningAlgorithm::Rsa,
        }
    }
}

/// A private key as read from (or written to) a key file.
pub struct Key {
    pub algorithm: Algorithm,
    /// The PKCS#8 PEM text of the private key.
    pub pem: SecretString,
    /// The key as lettre reads it: base64 of the Ed25519 seed, or a PKCS#1 PEM.
    lettre: SecretString,
    /// Base64 of the public key, the DNS record's `p=` (the raw 32 bytes for Ed25519,
    /// RFC 8463; the DER SubjectPublicKeyInfo for RSA).
    pub public: String,
}

impl Key {
    /// A new random key.
    pub fn generate(algorithm: Algorithm) -> anyhow::Result<Key> {
        let mut rng = rsa::rand_core::OsRng;
        match algorithm {
            Algorithm::Ed25519 => {
                let key = ed25519_dalek::SigningKey::generate(&mut rng);
                Self::from_ed25519(&key)
            }
            Algorithm::Rsa => {
                let key = rsa::RsaPrivateKey::new(&mut rng, RSA_BITS)?;
                Self::from_rsa(&key)
            }
        }
    }

    /// Reads a PEM private key: PKCS#8 Ed25519 or RSA, or PKCS#1 RSA.
    pub fn from_pem(pem: &str) -> anyhow::Result<Key> {
        if let Ok(key) = ed25519_dalek::SigningKey::from_pkcs8_pem(pem) {
            return Self::from_ed25519(&key);
        }
        let rsa = rsa::RsaPrivateKey::from_pkcs8_pem(pem)
            .or_else(|_| rsa::RsaPrivateKey::from_pkcs1_pem(pem))
            .map_err(|_| {
                anyhow::anyhow!(
                    "not a PEM Ed25519 or RSA private key (make one with `mailer dkim generate`)"
                )
            })?;
        let bits = rsa.size() * 8;
        anyhow::ensure!(
            bits >= RSA_MIN_BITS,
            "the RSA key has {bits} bits; receivers refuse DKIM keys under {RSA_MIN_BITS} (use {RSA_BITS})"
        );
        Self::from_rsa(&rsa)
    }

    fn from_ed25519(key: &ed25519_dalek::SigningKey) -> anyhow::Result<Key> {
        Ok(Key {
            algorithm: Algorithm::Ed25519,
            // Without the public key (PKCS#8 v1, what `openssl genpkey` writes and reads).
            pem: SecretString::from(
                ed25519_dalek::pkcs8::KeypairBytes {
                    secret_key: key.to_bytes(),
                    public_key: None,
                }
                .to_pkcs8_pem(LineEnding::LF)?
                .as_str(),
            ),
            lettre: SecretString::from(BASE64.encode(key.to_bytes())),
            public: BASE64.encode(key.verifying_key().to_bytes()),
        })
    }

    fn from_rsa(key: &rsa::RsaPrivateKey) -> anyhow::Result<Key> {
        use rsa::pkcs8::EncodePrivateKey as _;
        Ok(Key {
            algorithm: Algorithm::Rsa,
            pem: SecretString::from(key.to_pkcs8_pem(LineEnding::LF)?.as_str()),
            lettre: SecretString::from(key.to_pkcs1_pem(LineEnding::LF)?.as_str()),
            public: BASE64.encode(key.to_public_key().to_public_key_der()?.as_bytes()),
        })
    }

    /// Writes the PKCS#8 PEM to `path`, readable by its owner only. An existing file is
    /// left alone unless `force`.
    pub fn write(&self, path: &Path, force: bool) -> anyhow::Result<()> {
        use std::io::Write as _;
        let mut options = std::fs::OpenOptions::new();
        options.write(true);
        if force {
            options.create(true).truncate(true);
        } else {
            options.create_new(true);
        }
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => anyhow::anyhow!(
                "{} exists; use --force to replace it (mail signed with the old key stops \
                 verifying once its DNS record is gone)",
                path.display()
            ),
            _ => anyhow::anyhow!("cannot write {}: {e}", path.display()),
        })?;
        // `mode` applies only to a new file: an overwritten one is made private too.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        file.write_all(self.pem.expose_secret().as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))
    }

    /// The DNS TXT record that publishes this key: its name, and its value split into
    /// strings of at most 255 characters (the most one DNS string holds).
    pub fn dns_record(&self, selector: &str, domain: &str) -> (String, Vec<String>) {
        let name = format!("{selector}._domainkey.{domain}");
        let value = format!(
            "v=DKIM1; k={}; p={}",
            self.algorithm.key_type(),
            self.public
        );
        let strings = value
            .as_bytes()
            .chunks(255)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        (name, strings)
    }
}

/// What `/healthz` and the account page show of the signer (never the key).
#[derive(Debug, Clone, Serialize)]
pub struct SigningInfo {
    pub selector: String,
    pub domain: String,
    /// `ed25519-sha256` or `rsa-sha256`.
    pub algorithm: &'static str,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot DKIM-sign the e-mail: {0}")]
pub struct SignError(String);

/// Signs e-mails with the configured key. Shared by every sender of a process.
pub struct Signer {
    selector: String,
    domain: String,
    key: Key,
    /// lettre's configuration for each set of [`SIGNED`] headers met so far (a bit per
    /// header), each with the key already parsed.
    configs: Mutex<HashMap<u16, Arc<DkimConfig>>>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("selector", &self.selector)
            .field("domain", &self.domain)
            .field("algorithm", &self.key.algorithm)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// Reads the key file and checks that it signs. Errors say what is wrong, not which
    /// setting (the caller names it).
    pub fn load(selector: &str, domain: &str, key_file: &Path) -> anyhow::Result<Signer> {
        let pem = std::fs::read_to_string(key_file)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", key_file.display()))?;
        let key =
            Key::from_pem(&pem).map_err(|e| anyhow::anyhow!("{}: {e}", key_file.display()))?;
        let signer = Signer {
            selector: selector.to_owned(),
            domain: domain.to_owned(),
            key,
            configs: Mutex::new(HashMap::new()),
        };
        let mut probe = Message::builder()
            .from("probe@example.com".parse()?)
            .to("probe@example.com".parse()?)
            .subject("probe")
            .body(String::from("probe\r\n"))?;
        signer.sign(&mut probe)?;
        Ok(signer)
    }

    pub fn info(&self) -> SigningInfo {
        SigningInfo {
            selector: self.selector.clone(),
            domain: self.domain.clone(),
            algorithm: self.key.algorithm.signature(),
        }
    }

    /// Adds a `DKIM-Signature` header to `message`. Never panics: whatever goes wrong is
    /// an error for this one message.
    pub fn sign(&self, message: &mut Message) -> Result<(), SignError> {
        let config = self.config_for(message)?;
        std::panic::catch_unwind(AssertUnwindSafe(|| message.sign(&config)))
            .map_err(|panic| SignError(crate::delivery::panic_message(panic.as_ref())))
    }

    fn config_for(&self, message: &Message) -> Result<Arc<DkimConfig>, SignError> {
        let headers = message.headers();
        let present = SIGNED
            .iter()
            .enumerate()
            .filter(|(_, name)| headers.get_raw(name).is_some())
            .fold(0u16, |mask, (bit, _)| mask | (1 << bit));
        let mut configs = self
            .configs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(config) = configs.get(&present) {
            return Ok(config.clone());
        }
        let key = DkimSigningKey::new(self.key.lettre.expose_secret(), self.key.algorithm.lettre())
            .map_err(|e| SignError(e.to_string()))?;
        let names = SIGNED
            .iter()
            .enumerate()
            .filter(|(bit, _)| present & (1 << bit) != 0)
            .map(|(_, name)| HeaderName::new_from_ascii_str(name))
            .collect();
        let config = Arc::new(DkimConfig::new(
            self.selector.clone(),
            self.domain.clone(),
            key,
            names,
            DkimCanonicalization {
                header: DkimCanonicalizationType::Relaxed,
                body: DkimCanonicalizationType::Relaxed,
            },
        ));
        configs.insert(present, config.clone());
        Ok(config)
    }
}

/// `MAILER_DKIM__*`: all three settings, or none.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DkimSettings {
    /// The selector: the key's DNS record is `<selector>._domainkey.<domain>`.
    pub selector: Option<String>,
    /// The signing domain (`d=`): the From address's domain or a parent of it, for DMARC.
    pub domain: Option<String>,
    /// The private key (PKCS#8 PEM, from `mailer dkim generate`).
    pub key_file: Option<PathBuf>,
}

impl DkimSettings {
    /// Whether signing is configured; a partial set, or a name that cannot be a DNS
    /// label, is an error naming the setting.
    pub fn check(&self) -> Result<bool, (&'static str, String)> {
        let set = [
            ("MAILER_DKIM__SELECTOR", self.selector.is_some()),
            ("MAILER_DKIM__DOMAIN", self.domain.is_some()),
            ("MAILER_DKIM__KEY_FILE", self.key_file.is_some()),
        ];
        if set.iter().all(|(_, s)| !s) {
            return Ok(false);
        }
        if let Some((missing, _)) = set.iter().find(|(_, s)| !s) {
            return Err((
                missing,
                "is missing: DKIM signing needs MAILER_DKIM__SELECTOR, MAILER_DKIM__DOMAIN and \
                 MAILER_DKIM__KEY_FILE together (or none of them)"
                    .into(),
            ));
        }
        for (setting, value) in [
            ("MAILER_DKIM__SELECTOR", &self.selector),
            ("MAILER_DKIM__DOMAIN", &self.domain),
        ] {
            let value = value.as_deref().unwrap_or_default();
            if !is_dns_name(value) {
                return Err((
                    setting,
                    format!("{value:?} is not a DNS name (letters, digits, '-', '.')"),
                ));
            }
        }
        Ok(true)
    }

    /// The signer, with its key read; `None` when signing is off.
    pub fn signer(&self) -> anyhow::Result<Option<Arc<Signer>>> {
        let (Some(selector), Some(domain), Some(key_file)) =
            (&self.selector, &self.domain, &self.key_file)
        else {
            return Ok(None);
        };
        let signer = Signer::load(selector, domain, key_file)
            .map_err(|e| anyhow::anyhow!("MAILER_DKIM__KEY_FILE: {e:#}"))?;
        Ok(Some(Arc::new(signer)))
    }
}

/// Dot-separated labels of letters, digits, `-` and `_`, none empty or over 63 characters.
pub fn is_dns_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_key_reads_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        for algorithm in [Algorithm::Ed25519, Algorithm::Rsa] {
            let key = Key::generate(algorithm).unwrap();
            let path = dir.path().join(format!("{algorithm:?}.pem"));
            key.write(&path, false).unwrap();
            assert!(key.write(&path, false).is_err(), "refuses to overwrite");
            key.write(&path, true).unwrap();
            let back = Key::from_pem(&std::fs::read_to_string(&path).unwrap()).unwrap();
            assert_eq!(back.algorithm, algorithm);
            assert_eq!(back.public, key.public);
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt as _;
                let mode = std::fs::metadata(&path).unwrap().permissions().mode();
                assert_eq!(mode & 0o777, 0o600);
            }
        }
    }

    #[test]
    fn long_records_are_split_into_dns_strings() {
        let key = Key::generate(Algorithm::Rsa).unwrap();
        let (name, strings) = key.dns_record("s1", "example.com");
        assert_eq!(name, "s1._domainkey.example.com");
        assert!(strings.len() > 1);
        assert!(strings.iter().all(|s| s.len() <= 255));
        assert!(strings.concat().starts_with("v=DKIM1; k=rsa; p=MII"));
    }

    #[test]
    fn partial_settings_name_what_is_missing() {
        let settings = DkimSettings {
            selector: Some("s1".into()),
            domain: Some("example.com".into()),
            key_file: None,
        };
        assert_eq!(settings.check().unwrap_err().0, "MAILER_DKIM__KEY_FILE");
        assert!(!DkimSettings::default().check().unwrap());
        let bad = DkimSettings {
            domain: Some("exa mple.com".into()),
            key_file: Some("k.pem".into()),
            ..settings
        };
        assert_eq!(bad.check().unwrap_err().0, "MAILER_DKIM__DOMAIN");
    }
}
