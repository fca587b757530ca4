//! Account forms, validated with `validator` at the edge; the password policy and the
//! uniqueness of e-mails are checked by the service.

use serde::Deserialize;
use validator::Validate;

/// Phone numbers as people type them: digits with spaces, dashes, dots, brackets, a leading +.
pub fn valid_phone(phone: &str) -> Result<(), validator::ValidationError> {
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    let allowed = phone
        .chars()
        .enumerate()
        .all(|(i, c)| c.is_ascii_digit() || " -.()".contains(c) || (c == '+' && i == 0));
    if allowed && (7..=15).contains(&digits) {
        Ok(())
    } else {
        Err(validator::ValidationError::new("phone")
            .with_message("Enter a phone number of 7 to 15 digits, e.g. +1 555 123 4567.".into()))
    }
}

#[derive(Debug, Default, Deserialize, Validate)]
pub struct RegisterForm {
    #[validate(
        email(message = "Enter a valid e-mail address."),
        length(max = 254, message = "That address is too long.")
    )]
    pub email: String,
    pub password: String,
    pub password_confirm: String,
    #[validate(custom(function = "valid_phone"))]
    pub phone: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub next: Option<String>,
}

#[derive(Debug, Default, Deserialize, Validate)]
pub struct EmailForm {
    #[serde(default)]
    #[validate(email(message = "Enter a valid e-mail address."))]
    pub email: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct NewPasswordForm {
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub password_confirm: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct ChangePasswordForm {
    #[serde(default)]
    pub old_password: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub password_confirm: String,
}

/// Normalises an e-mail for storage and lookup: trimmed and lower-cased.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// `None` for an empty phone field.
pub fn optional(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

/// Only local paths are followed after login (no open redirects).
pub fn safe_next(next: Option<&str>) -> String {
    next.and_then(crate::web::redirect::local_path)
        .unwrap_or_else(|| "/dashboard".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones() {
        for ok in ["+1 555 123 4567", "8 (912) 345-67-89", "5551234"] {
            assert!(valid_phone(ok).is_ok(), "{ok}");
        }
        for bad in ["12345", "phone", "+1 555 123 4567 8901 23", "1+5551234"] {
            assert!(valid_phone(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn next_urls_stay_on_the_site() {
        assert_eq!(safe_next(Some("/mailings?p=2")), "/mailings?p=2");
        for bad in [
            None,
            Some("https://evil.example"),
            Some("//evil.example"),
            Some("/\\evil"),
        ] {
            assert_eq!(safe_next(bad), "/dashboard");
        }
    }
}
