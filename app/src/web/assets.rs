//! Static files compiled into the binary (vendored htmx and Pico CSS, our own CSS and JS),
//! served with a content hash in the URL so browsers may keep them for a year.

use std::collections::HashMap;
use std::sync::LazyLock;

use poem::http::{StatusCode, header};
use poem::web::Path;
use poem::{Request, Response, handler};

pub struct Asset {
    pub body: &'static [u8],
    pub content_type: &'static str,
    /// Short content hash: the cache-busting `?v=` of `static_url()`.
    pub version: String,
}

macro_rules! asset {
    ($name:literal, $type:literal) => {
        (
            $name,
            include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/static/", $name)).as_slice(),
            $type,
        )
    };
}

static ASSETS: LazyLock<HashMap<&'static str, Asset>> = LazyLock::new(|| {
    [
        asset!(
            "vendor/htmx-2.0.11.min.js",
            "text/javascript; charset=utf-8"
        ),
        asset!("vendor/pico-2.1.1.min.css", "text/css; charset=utf-8"),
        asset!("app.css", "text/css; charset=utf-8"),
        asset!("app.js", "text/javascript; charset=utf-8"),
        asset!("favicon.svg", "image/svg+xml"),
    ]
    .into_iter()
    .map(|(name, body, content_type)| {
        let version = format!("{:016x}", fnv1a(body));
        (
            name,
            Asset {
                body,
                content_type,
                version,
            },
        )
    })
    .collect()
});

/// FNV-1a: a stable content fingerprint, not a security hash.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// `/static/<name>?v=<hash>` for a template; unknown names are a template bug, shown plainly.
pub fn static_url(name: &str) -> String {
    match ASSETS.get(name) {
        Some(asset) => format!("/static/{name}?v={}", asset.version),
        None => format!("/static/{name}"),
    }
}

#[handler]
pub fn serve_static(Path(name): Path<String>, req: &Request) -> Response {
    let Some(asset) = ASSETS.get(name.as_str()) else {
        return Response::builder()
            .status(StatusCode::NOT_FOUND)
            .content_type("text/plain; charset=utf-8")
            .body("not found");
    };
    let etag = format!("\"{}\"", asset.version);
    let builder = Response::builder()
        .header(header::CACHE_CONTROL, "public, max-age=31536000, immutable")
        .header(header::ETAG, etag.as_str());
    if req
        .header(header::IF_NONE_MATCH)
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
    {
        return builder.status(StatusCode::NOT_MODIFIED).finish();
    }
    builder.content_type(asset.content_type).body(asset.body)
}

/// `/favicon.ico`, which browsers and crawlers ask for whatever the page links: the site's
/// icon (an SVG, which browsers take by its content type), kept for a day.
#[handler]
pub fn serve_favicon() -> Response {
    match ASSETS.get("favicon.svg") {
        Some(asset) => Response::builder()
            .header(header::CACHE_CONTROL, "public, max-age=86400")
            .content_type(asset.content_type)
            .body(asset.body),
        None => Response::builder().status(StatusCode::NOT_FOUND).finish(),
    }
}
