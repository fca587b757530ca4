//! Blog post cover images: uploaded through the admin, checked (and decoded one at a time)
//! like avatars, shrunk to fit
//! [`MAX_SIDE`] (aspect kept), stored as JPEG (PNG when transparent) under
//! `<data_dir>/posts/` and served at `/media/posts/<name>`.

use std::io::Cursor;
use std::path::PathBuf;

use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, ImageFormat};
use poem::web::{Data, Path};
use poem::{Response, handler};

use crate::accounts::avatar::{self, AvatarError};
use crate::error::AppError;
use crate::state::AppState;

/// Widest and tallest stored image, in pixels.
pub const MAX_SIDE: u32 = 1600;
const JPEG_QUALITY: u8 = 85;

pub fn dir(state: &AppState) -> PathBuf {
    state.config.data_dir.join("posts")
}

/// Where a stored image is served.
pub fn url(name: &str) -> String {
    format!("/media/posts/{name}")
}

/// Checks an upload and re-encodes it: `(bytes, extension)`. CPU-bound: call it through
/// `avatar::run_image_work`.
pub fn process(bytes: &[u8]) -> Result<(Vec<u8>, &'static str), AvatarError> {
    let image = avatar::decode_shrunk(bytes, |image| {
        if image.width() > MAX_SIDE || image.height() > MAX_SIDE {
            image.resize(MAX_SIDE, MAX_SIDE, FilterType::CatmullRom)
        } else {
            image
        }
    })?;
    let mut out = Cursor::new(Vec::new());
    if image.color().has_alpha() {
        DynamicImage::from(image.to_rgba8())
            .write_to(&mut out, ImageFormat::Png)
            .map_err(|_| AvatarError::Corrupt)?;
        return Ok((out.into_inner(), "png"));
    }
    let rgb = image.to_rgb8();
    JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
        .encode_image(&rgb)
        .map_err(|_| AvatarError::Corrupt)?;
    Ok((out.into_inner(), "jpg"))
}

/// Processes and stores an upload; the error is the message shown beside the field.
pub async fn store(state: &AppState, bytes: Vec<u8>) -> Result<String, String> {
    let processed = avatar::run_image_work(move || process(&bytes))
        .await
        .ok_or_else(|| "The image could not be processed.".to_owned())?;
    let (encoded, extension) = processed.map_err(|e| e.to_string())?;
    let name = format!("{:016x}.{extension}", rand::random::<u64>());
    avatar::write_atomically(&dir(state), &name, &encoded)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "cannot store a post image");
            e.to_string()
        })?;
    Ok(name)
}

/// `<16 hex digits>.jpg|png`: the names [`store`] gives, so serving cannot leave the folder.
pub fn is_valid_name(name: &str) -> bool {
    let Some((stem, extension)) = name.split_once('.') else {
        return false;
    };
    matches!(extension, "jpg" | "png")
        && stem.len() == 16
        && stem.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[handler]
pub async fn serve_post_image(
    Data(state): Data<&AppState>,
    Path(name): Path<String>,
) -> Result<Response, AppError> {
    if !is_valid_name(&name) {
        return Err(AppError::NotFound);
    }
    let bytes = tokio::fs::read(dir(state).join(&name))
        .await
        .map_err(|_| AppError::NotFound)?;
    let content_type = if name.ends_with(".png") {
        "image/png"
    } else {
        "image/jpeg"
    };
    Ok(Response::builder()
        .content_type(content_type)
        .header(
            poem::http::header::CACHE_CONTROL,
            "public, max-age=31536000, immutable",
        )
        .body(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GenericImageView, RgbImage, RgbaImage};

    fn encoded(image: DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        image.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    #[test]
    fn shrinks_big_images_and_keeps_the_aspect() {
        let big = encoded(
            DynamicImage::from(RgbImage::from_pixel(3200, 800, image::Rgb([10, 20, 30]))),
            ImageFormat::Png,
        );
        let (bytes, extension) = process(&big).unwrap();
        assert_eq!(extension, "jpg");
        let decoded = image::load_from_memory(&bytes).unwrap();
        assert_eq!(decoded.dimensions(), (1600, 400));
    }

    #[test]
    fn keeps_transparency_as_png_and_refuses_non_images() {
        let clear = encoded(
            DynamicImage::from(RgbaImage::from_pixel(20, 10, image::Rgba([0, 0, 0, 0]))),
            ImageFormat::Png,
        );
        let (bytes, extension) = process(&clear).unwrap();
        assert_eq!(extension, "png");
        assert_eq!(
            image::load_from_memory(&bytes).unwrap().dimensions(),
            (20, 10)
        );
        assert!(matches!(
            process(b"not an image"),
            Err(AvatarError::NotAnImage)
        ));
    }

    #[test]
    fn valid_names() {
        assert!(is_valid_name("0123456789abcdef.jpg"));
        assert!(is_valid_name("0123456789abcdef.png"));
        for bad in [
            "../x.jpg",
            "0123456789abcdef.gif",
            "0123456789ABCDEF.jpg",
            "x.jpg",
            "",
        ] {
            assert!(!is_valid_name(bad), "{bad:?}");
        }
    }
}
