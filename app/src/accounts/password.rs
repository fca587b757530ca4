//! Password hashing (argon2id), the password policy and generated passwords.

use std::collections::HashSet;
use std::sync::LazyLock;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use rand::seq::IndexedRandom;

/// Fewest characters a password may have.
pub const MIN_LENGTH: usize = 10;
/// Most characters a password may have (bounds the hashing work per request).
pub const MAX_LENGTH: usize = 128;

/// Length of the passwords made by [`generate`].
const GENERATED_LENGTH: usize = 20;
/// Characters of generated passwords: letters and digits without look-alikes (0/O, 1/l/I).
const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// Django's list of 19,640 common passwords (BSD license), from `django/contrib/auth/common-passwords.txt.gz`.
static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("common-passwords.txt")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect()
});

/// A valid hash of a throw-away password, so that [`verify_dummy`] costs as much as [`verify`].
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    hash("not the password of anyone").unwrap_or_else(|error| {
        tracing::error!(%error, "could not compute the dummy password hash");
        String::new()
    })
});

/// Why a password is refused; the message is shown next to the password field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    /// Fewer than [`MIN_LENGTH`] characters.
    #[error("The password must have at least {MIN_LENGTH} characters.")]
    TooShort,
    /// More than [`MAX_LENGTH`] characters.
    #[error("The password must have at most {MAX_LENGTH} characters.")]
    TooLong,
    /// Equal to, or containing, the e-mail address or its part before the @.
    #[error("The password must not contain your e-mail address.")]
    ContainsEmail,
    /// On the list of commonly used passwords.
    #[error("This password is too common; please choose another one.")]
    Common,
    /// Made of digits only.
    #[error("The password must not be made of digits only.")]
    OnlyDigits,
}

/// Hashes a password with argon2id and a random salt, returning the PHC string to store.
pub fn hash(password: &str) -> anyhow::Result<String> {
    let hash = Argon2::default()
        .hash_password(password.as_bytes())
        .map_err(|error| anyhow::anyhow!("could not hash the password: {error}"))?;
    Ok(hash.to_string())
}

/// Checks a password against a stored PHC string; false on mismatch or a malformed hash.
pub fn verify(password: &str, hash: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

/// Spends the time of a failed [`verify`], so a login with an unknown e-mail is not faster than
/// one with a wrong password (the first call also computes the dummy hash).
pub fn verify_dummy(password: &str) {
    let _ = verify(password, &DUMMY_HASH);
}

/// Checks a new password against the policy for the account with this e-mail address.
pub fn check_policy(password: &str, email: &str) -> Result<(), PasswordProblem> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Err(PasswordProblem::TooShort);
    }
    if length > MAX_LENGTH {
        return Err(PasswordProblem::TooLong);
    }
    let lowered = password.to_lowercase();
    let email = email.trim().to_lowercase();
    let local_part = email.split('@').next().unwrap_or_default();
    if (!email.is_empty() && lowered.contains(&email))
        || (local_part.chars().count() >= 4 && lowered.contains(local_part))
    {
        return Err(PasswordProblem::ContainsEmail);
    }
    if COMMON_PASSWORDS.contains(lowered.as_str()) {
        return Err(PasswordProblem::Common);
    }
    if password.chars().all(|c| c.is_ascii_digit()) {
        return Err(PasswordProblem::OnlyDigits);
    }
    Ok(())
}

/// Makes a strong random password (for "mail me a new password"): 20 unambiguous characters
/// with at least one lowercase letter, one uppercase letter and one digit.
pub fn generate() -> String {
    let mut rng = rand::rng();
    loop {
        let password: String = (0..GENERATED_LENGTH)
            .filter_map(|_| ALPHABET.choose(&mut rng))
            .map(|&byte| char::from(byte))
            .collect();
        if password.chars().any(|c| c.is_ascii_lowercase())
            && password.chars().any(|c| c.is_ascii_uppercase())
            && password.chars().any(|c| c.is_ascii_digit())
            && check_policy(&password, "").is_ok()
        {
            return password;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMAIL: &str = "Alice.Martin@example.org";

    #[test]
    fn hash_and_verify_roundtrip() {
        let started = std::time::Instant::now();
        let stored = hash("correct horse battery").unwrap();
        eprintln!("one argon2 hash took {:?}", started.elapsed());
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", &stored));
        assert!(!verify("correct horse batterY", &stored));
    }

    #[test]
    fn verify_rejects_malformed_hashes() {
        for bad in [
            "",
            "plain text",
            "$argon2id$",
            "$argon2id$v=19$m=19456,t=2,p=1$x$y",
        ] {
            assert!(!verify("whatever password", bad), "{bad:?}");
        }
    }

    #[test]
    fn verify_dummy_does_not_panic() {
        verify_dummy("some password");
        assert!(!DUMMY_HASH.is_empty());
    }

    #[test]
    fn accepts_a_good_password() {
        assert_eq!(check_policy("violet-tuba-meadow-42", EMAIL), Ok(()));
        assert_eq!(check_policy("violet-tuba-meadow-42", ""), Ok(()));
    }

    #[test]
    fn length_is_counted_in_characters() {
        assert_eq!(
            check_policy("Tr0ub4dor", EMAIL),
            Err(PasswordProblem::TooShort)
        );
        // 9 characters but 18 bytes: still too short.
        assert_eq!(
            check_policy("ééééééééé", EMAIL),
            Err(PasswordProblem::TooShort)
        );
        assert_eq!(check_policy("éééééééééé", EMAIL), Ok(()));
        assert_eq!(check_policy(&"x7".repeat(64), EMAIL), Ok(()));
        assert_eq!(
            check_policy(&"x7".repeat(65), EMAIL),
            Err(PasswordProblem::TooLong)
        );
    }

    #[test]
    fn refuses_the_email_and_its_local_part() {
        let contains = Err(PasswordProblem::ContainsEmail);
        assert_eq!(check_policy("alice.martin@example.org", EMAIL), contains);
        assert_eq!(
            check_policy("my ALICE.MARTIN@EXAMPLE.ORG!", EMAIL),
            contains
        );
        assert_eq!(check_policy("xxAlice.Martin2024", EMAIL), contains);
        // A local part shorter than 4 characters is not looked for.
        assert_eq!(
            check_policy("bob-likes-long-walks", "bob@example.org"),
            Ok(())
        );
    }

    #[test]
    fn refuses_common_passwords_case_insensitively() {
        assert_eq!(
            check_policy("password123", EMAIL),
            Err(PasswordProblem::Common)
        );
        assert_eq!(
            check_policy("PassWord123", EMAIL),
            Err(PasswordProblem::Common)
        );
        assert!(COMMON_PASSWORDS.len() > 19_000);
    }

    #[test]
    fn refuses_digits_only() {
        assert_eq!(
            check_policy("8405938271623", EMAIL),
            Err(PasswordProblem::OnlyDigits)
        );
    }

    #[test]
    fn generated_passwords_are_strong_and_unique() {
        let passwords: HashSet<String> = (0..200).map(|_| generate()).collect();
        assert_eq!(passwords.len(), 200);
        for password in &passwords {
            assert_eq!(password.chars().count(), GENERATED_LENGTH);
            assert!(!password.contains(['0', 'O', '1', 'l', 'I']));
            assert_eq!(check_policy(password, EMAIL), Ok(()));
        }
    }
}
