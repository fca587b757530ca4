//! DKIM (RFC 6376): the keys `mailer dkim generate` makes, and the signer every outgoing
//! e-mail goes through when `MAILER_DKIM__SELECTOR`, `MAILER_DKIM__DOMAIN` and
//! `MAILER_DKIM__KEY_FILE` are set.
//!
//! Signs ed25519-sha256 (RFC 8463) or rsa-sha256, relaxed/relaxed, the e-mail's bytes as
//! they go out ([`Signer::sign`]): the message is formatted once, and the signature is
//! computed on exactly what the server receives (lettre's own signer formats the body once
//! more to hash it, and the whole e-mail again to send it). The key file is a PKCS#8 PEM
//! private key (Ed25519 or RSA; a PKCS#1 `RSA PRIVATE KEY` is taken too), read once at
//! start-up; the algorithm comes from the key. The signature covers [`SIGNED`] that the
//! message has: a header named in `h=` but absent would be signed as absent, and a relay
//! that adds a missing `Message-ID` or `Reply-To` would then break the signature.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _};
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::pkcs8::{EncodePublicKey as _, LineEnding};
use rsa::traits::PublicKeyParts as _;
use secrecy::{ExposeSecret as _, SecretString};
use serde::Serialize;
use sha2::{Digest as _, Sha256};

/// The headers a signature covers, each when the message has it, in this order in `h=`.
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
}

/// A private key as read from (or written to) a key file.
pub struct Key {
    pub algorithm: Algorithm,
    /// The PKCS#8 PEM text of the private key.
    pub pem: SecretString,
    /// The key itself, to sign with.
    private: Private,
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
            private: Private::Ed25519(Box::new(key.clone())),
            public: BASE64.encode(key.verifying_key().to_bytes()),
        })
    }

    fn from_rsa(key: &rsa::RsaPrivateKey) -> anyhow::Result<Key> {
        use rsa::pkcs8::EncodePrivateKey as _;
        Ok(Key {
            algorithm: Algorithm::Rsa,
            pem: SecretString::from(key.to_pkcs8_pem(LineEnding::LF)?.as_str()),
            private: Private::Rsa(Box::new(key.clone())),
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

/// A private key, parsed once.
enum Private {
    Ed25519(Box<ed25519_dalek::SigningKey>),
    Rsa(Box<rsa::RsaPrivateKey>),
}

/// The ASN.1 DigestInfo prefix of a SHA-256 hash in an RSA PKCS#1 v1.5 signature
/// (RFC 8017, 9.2), what `rsa::Pkcs1v15Sign::new::<Sha256>()` builds.
const SHA256_DIGEST_INFO: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// Signs e-mails with the configured key. Shared by every sender of a process.
pub struct Signer {
    selector: String,
    domain: String,
    key: Key,
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
        };
        let probe =
            b"From: probe@example.com\r\nTo: probe@example.com\r\nSubject: probe\r\n\r\nprobe\r\n";
        signer.sign(probe.to_vec())?;
        Ok(signer)
    }

    /// Whether one signature takes long enough to hold up every other task of an async
    /// thread: RSA-2048 takes ~1.6 ms of CPU (a group of 50 e-mails ~80 ms), ed25519 ~25 µs.
    pub fn is_slow(&self) -> bool {
        self.key.algorithm == Algorithm::Rsa
    }

    pub fn info(&self) -> SigningInfo {
        SigningInfo {
            selector: self.selector.clone(),
            domain: self.domain.clone(),
            algorithm: self.key.algorithm.signature(),
        }
    }

    /// `message` — an e-mail as it goes out (lettre's `Message::formatted`: the header
    /// fields, an empty line, the body; CRLF line ends) — with a `DKIM-Signature` header
    /// field at its top, signed now.
    pub fn sign(&self, message: Vec<u8>) -> Result<Vec<u8>, SignError> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.sign_at(message, now)
    }

    /// [`sign`](Self::sign) with the signing time `t=` given (seconds since 1970).
    fn sign_at(&self, mut message: Vec<u8>, timestamp: u64) -> Result<Vec<u8>, SignError> {
        let (head, body) = split_message(&message);
        let fields = header_fields(head);
        // The header hash: each signed header the message has, its bottom-most instance
        // (RFC 6376, 5.4.2), then this signature's own field with `b=` empty.
        let mut names = String::with_capacity(128);
        let mut canonical = Vec::with_capacity(head.len() + 512);
        for name in SIGNED {
            let Some(field) = fields
                .iter()
                .rev()
                .find(|(field_name, _)| field_name.eq_ignore_ascii_case(name.as_bytes()))
            else {
                continue;
            };
            if !names.is_empty() {
                names.push(':');
            }
            let lower = name.to_ascii_lowercase();
            names.push_str(&lower);
            relaxed_header(&lower, field.1, &mut canonical);
        }
        let tags = format!(
            "v=1; a={algorithm}; d={domain}; s={selector}; c=relaxed/relaxed; q=dns/txt; \
             t={timestamp}; h={names}; bh={body_hash}; b=",
            algorithm = self.key.algorithm.signature(),
            domain = self.domain,
            selector = self.selector,
            body_hash = BASE64.encode(relaxed_body_hash(body)),
        );
        canonical.extend_from_slice(b"dkim-signature:");
        canonical.extend_from_slice(tags.as_bytes());
        let hash = Sha256::digest(&canonical);
        let signature = match &self.key.private {
            // RFC 8463: PureEdDSA over the SHA-256 hash.
            Private::Ed25519(key) => ed25519_dalek::Signer::sign(&**key, hash.as_slice())
                .to_bytes()
                .to_vec(),
            // Blinded (the random factor hides the key from timing).
            Private::Rsa(key) => key
                .sign_with_rng(
                    &mut rsa::rand_core::OsRng,
                    rsa::Pkcs1v15Sign {
                        hash_len: Some(32),
                        prefix: Box::new(SHA256_DIGEST_INFO),
                    },
                    hash.as_slice(),
                )
                .map_err(|e| SignError(e.to_string()))?,
        };
        let signature = BASE64.encode(signature);
        let mut field = Vec::with_capacity(tags.len() + signature.len() + 40);
        field.extend_from_slice(b"DKIM-Signature:");
        fold(&tags, &signature, &mut field);
        field.extend_from_slice(b"\r\n");
        message.splice(0..0, field);
        Ok(message)
    }
}

/// The header section (each field with its CRLF) and the body of an e-mail. An e-mail
/// without the empty line is all header.
fn split_message(message: &[u8]) -> (&[u8], &[u8]) {
    if message.starts_with(b"\r\n") {
        return (&[], &message[2..]);
    }
    match find(message, b"\r\n\r\n") {
        Some(at) => (&message[..at + 2], &message[at + 4..]),
        None => (message, &[]),
    }
}

/// Where `needle` first occurs in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The header fields of a header section: each one's name (before the colon, without the
/// blanks that may precede it) and the whole field, continuation lines included, without
/// its last CRLF.
fn header_fields(head: &[u8]) -> Vec<(&[u8], &[u8])> {
    let mut fields: Vec<(&[u8], &[u8])> = Vec::with_capacity(16);
    let mut start = 0;
    let mut at = 0;
    let mut push = |start: usize, end: usize| {
        let field = &head[start..end];
        if let Some(colon) = field.iter().position(|&b| b == b':') {
            fields.push((field[..colon].trim_ascii_end(), field));
        }
    };
    while at < head.len() {
        let end = head[at..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(head.len(), |i| at + i + 1);
        // A line that starts with a blank continues the field before it.
        if at > start && !matches!(head.get(at), Some(b' ' | b'\t')) {
            push(start, trim_crlf(head, start, at));
            start = at;
        }
        at = end;
    }
    if at > start {
        push(start, trim_crlf(head, start, at));
    }
    fields
}

/// `end` moved back over the CRLF (or LF) that ends `head[start..end]`.
fn trim_crlf(head: &[u8], start: usize, mut end: usize) -> usize {
    if end > start && head[end - 1] == b'\n' {
        end -= 1;
    }
    if end > start && head[end - 1] == b'\r' {
        end -= 1;
    }
    end
}

/// A header field in the "relaxed" canonical form (RFC 6376, 3.4.2): the name in lower
/// case, then the value unfolded, each run of blanks one space, none at either end.
fn relaxed_header(lower_name: &str, field: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(lower_name.as_bytes());
    out.push(b':');
    let colon = field.iter().position(|&b| b == b':').unwrap_or(field.len());
    let mut blank = false;
    let mut started = false;
    for &b in field.get(colon + 1..).unwrap_or_default() {
        match b {
            b'\r' | b'\n' => {}
            b' ' | b'\t' => blank = true,
            _ => {
                if blank && started {
                    out.push(b' ');
                }
                blank = false;
                started = true;
                out.push(b);
            }
        }
    }
    out.extend_from_slice(b"\r\n");
}

/// SHA-256 of the body in the "relaxed" canonical form (RFC 6376, 3.4.4): blanks at the
/// ends of lines dropped, each other run of blanks one space, the empty lines at the end
/// dropped, and a non-empty body ending with CRLF.
fn relaxed_body_hash(body: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    let mut empty_lines = 0usize;
    let mut scratch = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let (line, next) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) if i > 0 && rest[i - 1] == b'\r' => (&rest[..i - 1], &rest[i + 1..]),
            // A bare LF is not a line end: it stays in the line.
            Some(_) => match find(rest, b"\r\n") {
                Some(i) => (&rest[..i], &rest[i + 2..]),
                None => (rest, &[][..]),
            },
            None => (rest, &[][..]),
        };
        rest = next;
        let line = relaxed_line(line, &mut scratch);
        if line.is_empty() {
            empty_lines += 1;
            continue;
        }
        for _ in 0..empty_lines {
            hasher.update(b"\r\n");
        }
        empty_lines = 0;
        hasher.update(line);
        hasher.update(b"\r\n");
    }
    hasher.finalize().into()
}

/// One body line in the relaxed form: borrowed when it already is (most lines).
fn relaxed_line<'a>(line: &'a [u8], scratch: &'a mut Vec<u8>) -> &'a [u8] {
    let blank = |b: &u8| matches!(b, b' ' | b'\t');
    let canonical = !line.last().is_some_and(blank)
        && !line.contains(&b'\t')
        && !line.windows(2).any(|w| w == b"  ");
    if canonical {
        return line;
    }
    scratch.clear();
    let mut pending = false;
    for &b in line {
        if blank(&b) {
            pending = true;
        } else {
            if pending {
                scratch.push(b' ');
            }
            pending = false;
            scratch.push(b);
        }
    }
    scratch
}

/// The signature field's value: `tags` (which end with `b=`) and then `signature`, folded
/// between tags so that lines stay short; `b=` and its value stay on one line (verifiers
/// blank the value out before hashing). Unfolded by the relaxed form, it is `tags` again.
fn fold(tags: &str, signature: &str, out: &mut Vec<u8>) {
    const WIDTH: usize = 78;
    let mut line = "DKIM-Signature:".len();
    let mut items = tags.split("; ").peekable();
    while let Some(item) = items.next() {
        let last = items.peek().is_none();
        let len = item.len() + if last { signature.len() } else { 1 };
        if line + 1 + len > WIDTH && line > "DKIM-Signature:".len() {
            out.extend_from_slice(b"\r\n\t");
            line = 1;
        } else {
            out.push(b' ');
            line += 1;
        }
        out.extend_from_slice(item.as_bytes());
        if last {
            out.extend_from_slice(signature.as_bytes());
        } else {
            out.push(b';');
        }
        line += len;
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

    /// RFC 6376, 3.4.5: the example of relaxed canonicalization.
    #[test]
    fn relaxed_canonicalization_is_the_rfc_example() {
        let message = b"A: X\r\nB : Y\t\r\n\tZ  \r\n\r\n C \r\nD \t E\r\n\r\n\r\n";
        let (head, body) = split_message(message);
        let fields = header_fields(head);
        assert_eq!(fields.len(), 2);
        let mut out = Vec::new();
        relaxed_header("a", fields[0].1, &mut out);
        relaxed_header("b", fields[1].1, &mut out);
        assert_eq!(out, b"a:X\r\nb:Y Z\r\n");
        assert_eq!(fields[1].0, b"B");
        let expected: [u8; 32] = Sha256::digest(b" C\r\nD E\r\n").into();
        assert_eq!(relaxed_body_hash(body), expected);
        // An empty body, or one of empty lines, is empty.
        let empty: [u8; 32] = Sha256::digest(b"").into();
        assert_eq!(relaxed_body_hash(b""), empty);
        assert_eq!(relaxed_body_hash(b"\r\n \r\n"), empty);
        // A last line without CRLF gets one.
        let one: [u8; 32] = Sha256::digest(b"x\r\n").into();
        assert_eq!(relaxed_body_hash(b"x"), one);
    }

    /// What a verifier does, by hand: the signature field as received, unfolded, with its
    /// `b=` emptied, hashed after the headers `h=` names, checks with the public key; and
    /// `bh=` is the body's hash.
    #[test]
    fn a_signature_checks_with_the_public_key() {
        use ed25519_dalek::Verifier as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pem");
        let key = Key::generate(Algorithm::Ed25519).unwrap();
        key.write(&path, false).unwrap();
        let signer = Signer::load("s1", "example.com", &path).unwrap();
        let message = b"From: Ann <ann@example.com>\r\nTo: bob@example.com\r\nSubject: a\r\n \
            long one\r\nX-Other: not signed\r\nMessage-ID: <1@example.com>\r\n\r\nHello  there \
            \r\n\r\n\r\n"
            .to_vec();
        let signed = signer.sign_at(message.clone(), 1_700_000_000).unwrap();
        assert!(signed.ends_with(&message));
        let field = &signed[..signed.len() - message.len()];
        let text = std::str::from_utf8(field).unwrap();
        assert!(text.starts_with("DKIM-Signature: v=1; a=ed25519-sha256; d=example.com;"));
        assert!(text.lines().all(|l| l.len() <= 998));
        let unfolded = text.trim_end().replace("\r\n", "");
        let value = unfolded.split_once(':').unwrap().1;
        let tags: Vec<(&str, String)> = value
            .split(';')
            .map(|t| t.split_once('=').unwrap())
            .map(|(k, v)| (k.trim(), v.split_whitespace().collect()))
            .collect();
        let tag = |name: &str| tags.iter().find(|(k, _)| *k == name).unwrap().1.clone();
        assert_eq!(tag("h"), "from:to:subject:message-id");
        assert_eq!(tag("t"), "1700000000");
        assert_eq!(tag("bh"), BASE64.encode(Sha256::digest(b"Hello there\r\n")));
        let b = tag("b");
        let blank = value.replace(&b, "");
        let mut data = Vec::new();
        data.extend_from_slice(
            b"from:Ann <ann@example.com>\r\nto:bob@example.com\r\nsubject:a long one\r\n\
              message-id:<1@example.com>\r\n",
        );
        data.extend_from_slice(b"dkim-signature:");
        let mut blank = blank.replace('\t', " ");
        while blank.contains("  ") {
            blank = blank.replace("  ", " ");
        }
        data.extend_from_slice(blank.trim().as_bytes());
        let public: [u8; 32] = BASE64.decode(&key.public).unwrap().try_into().unwrap();
        let public = ed25519_dalek::VerifyingKey::from_bytes(&public).unwrap();
        let signature: [u8; 64] = BASE64.decode(&b).unwrap().try_into().unwrap();
        let hash = Sha256::digest(&data);
        public
            .verify(&hash, &ed25519_dalek::Signature::from_bytes(&signature))
            .expect("the signature checks");
    }

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
