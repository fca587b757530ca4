//! Redirect targets that come from the visitor (`/login?next=…`): only a path of this site
//! is followed, judged the way a browser will read the `Location` header.

use url::Url;

/// A stand-in origin to resolve targets against; it never leaves this module.
const BASE: &str = "http://same.invalid/";

/// `target` as a path of this site (path, query and fragment, as the WHATWG URL parser
/// serialises them), or `None` when a browser could take it anywhere else.
///
/// The URL parser is the browser's: it drops tabs and newlines anywhere, trims spaces and
/// control characters at both ends, and reads `\` as `/` — so `/\t/evil.example` and
/// `/\evil.example` are `//evil.example`, another host. Such a target must resolve to the
/// same origin, and besides it may not start with anything but a single `/`, nor hold a
/// control character or a backslash, plain or percent-encoded (`%09`), nor start with an
/// encoded slash or backslash (`/%2F`, `/%5C`) that a later decoding could turn into `//`.
pub fn local_path(target: &str) -> Option<String> {
    let rest = target.strip_prefix('/')?;
    let encoded = |at: usize| {
        rest.get(at..at + 3)
            .filter(|e| e.starts_with('%'))
            .and_then(|e| u8::from_str_radix(&e[1..], 16).ok())
    };
    if rest.starts_with('/')
        || target.contains(|c: char| c.is_control() || c == '\\')
        || matches!(encoded(0), Some(b'/' | b'\\'))
        || (0..rest.len()).any(|at| encoded(at).is_some_and(|b| b.is_ascii_control()))
    {
        return None;
    }
    let base = Url::parse(BASE).ok()?;
    let resolved = base.join(target).ok()?;
    if resolved.origin() != base.origin() {
        return None;
    }
    let mut local = resolved.path().to_owned();
    if let Some(query) = resolved.query() {
        local.push('?');
        local.push_str(query);
    }
    if let Some(fragment) = resolved.fragment() {
        local.push('#');
        local.push_str(fragment);
    }
    // The serialisation must itself be a plain local path (not `//…` after dot segments).
    (local.starts_with('/') && !local.starts_with("//")).then_some(local)
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn hostile_targets_are_refused() {
        for hostile in [
            "",
            "evil.example",
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "\\/evil.example",
            "/\t/evil.example",
            "/%09/evil.example",
            "/x%0d%0aSet-Cookie:%20a=b",
            "/%7f",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "/%2F%2Fevil.example",
            "/%2f/evil.example",
            "/%5C%5Cevil.example",
            "/%5cevil.example",
            "http://evil.example",
            "https://evil.example/",
            "http:evil.example",
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            " /evil.example",
            "  //evil.example",
            "\t//evil.example",
            "/\u{0}/evil.example",
            "/./..//evil.example",
            "/..//evil.example",
        ] {
            assert_eq!(local_path(hostile), None, "{hostile:?}");
        }
    }

    #[test]
    fn local_paths_are_kept() {
        for (target, kept) in [
            ("/", "/"),
            ("/clients?p=2", "/clients?p=2"),
            ("/mailings/3#x", "/mailings/3#x"),
            ("/account/edit?tab=1", "/account/edit?tab=1"),
            ("/clients?q=a%20b", "/clients?q=a%20b"),
            ("/clients?q=a b", "/clients?q=a%20b"),
            ("/a/../clients", "/clients"),
            ("/blog/caf%C3%A9", "/blog/caf%C3%A9"),
            ("/blog/café", "/blog/caf%C3%A9"),
            ("/%2e/clients", "/clients"),
        ] {
            assert_eq!(local_path(target).as_deref(), Some(kept), "{target:?}");
        }
    }
}
