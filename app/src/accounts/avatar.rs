//! User avatars: uploaded images are checked by content, size-limited, and stored as
//! square PNGs of [`SIZE`] pixels.

use std::io::Cursor;
use std::path::Path;

use image::imageops::FilterType;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits};

/// Largest accepted upload, in bytes.
pub const MAX_UPLOAD_BYTES: usize = 5 * 1024 * 1024;
/// Width and height of stored avatars, in pixels.
pub const SIZE: u32 = 256;

/// Largest accepted width or height (a 12-megapixel phone photo, 4032×3024, fits), read
/// from the file's header before anything is decoded.
pub const MAX_DIMENSION: u32 = 4096;
/// Most memory one decode may allocate: a full-size 8-bit RGBA image (64 MiB).
const MAX_ALLOC: u64 = MAX_DIMENSION as u64 * MAX_DIMENSION as u64 * 4;

/// Image work of the whole process runs one at a time: with [`MAX_ALLOC`] this bounds what
/// any number of concurrent uploads can take (about three full-size images' worth).
static IMAGE_WORK: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

/// Why an avatar was refused or could not be saved; the message is shown to the user.
#[derive(Debug, thiserror::Error)]
pub enum AvatarError {
    /// The upload is bigger than [`MAX_UPLOAD_BYTES`].
    #[error("The image is larger than 5 MB.")]
    TooLarge,
    /// The upload has no bytes.
    #[error("The file is empty.")]
    Empty,
    /// The content is not one of the accepted formats.
    #[error("This file is not a PNG, JPEG, GIF or WebP image.")]
    NotAnImage,
    /// The image is wider or taller than [`MAX_DIMENSION`], or would need too much memory.
    #[error("The image is too big; it may be at most 4096 × 4096 pixels, 8 bits per channel.")]
    TooManyPixels,
    /// The content claims an accepted format but cannot be decoded.
    #[error("The image is damaged and could not be read.")]
    Corrupt,
    /// Writing or deleting the file failed.
    #[error("Could not save the image.")]
    Io(#[from] std::io::Error),
}

/// Runs CPU-bound image `work` off the async threads, one at a time in the process (the
/// turn is held until the work ends, even if the request that asked is gone). `None` when
/// the work panicked.
pub async fn run_image_work<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let turn = IMAGE_WORK.acquire().await.ok()?;
    tokio::task::spawn_blocking(move || {
        let _turn = turn;
        work()
    })
    .await
    .ok()
}

/// Checks an upload and turns it into a `SIZE`×`SIZE` PNG (center-cropped, EXIF rotation applied).
///
/// This is CPU-bound (up to seconds for big images): call it through [`run_image_work`],
/// never directly on an async task.
pub fn process(bytes: &[u8]) -> Result<Vec<u8>, AvatarError> {
    let square = decode_shrunk(bytes, |image| {
        image.resize_to_fill(SIZE, SIZE, FilterType::CatmullRom)
    })?;
    let square = if square.color().has_alpha() {
        DynamicImage::from(square.to_rgba8())
    } else {
        DynamicImage::from(square.to_rgb8())
    };
    let mut png = Cursor::new(Vec::new());
    square
        .write_to(&mut png, ImageFormat::Png)
        .map_err(|_| AvatarError::Corrupt)?;
    Ok(png.into_inner())
}

/// The cheap checks of an upload, from its bytes and the image header alone (nothing is
/// decoded): size, format by content, and width and height at most [`MAX_DIMENSION`].
pub fn inspect(bytes: &[u8]) -> Result<ImageFormat, AvatarError> {
    if bytes.is_empty() {
        return Err(AvatarError::Empty);
    }
    if bytes.len() > MAX_UPLOAD_BYTES {
        return Err(AvatarError::TooLarge);
    }
    let format = image::guess_format(bytes).map_err(|_| AvatarError::NotAnImage)?;
    if !matches!(
        format,
        ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::Gif | ImageFormat::WebP
    ) {
        return Err(AvatarError::NotAnImage);
    }
    let (width, height) = reader(bytes, format)
        .into_dimensions()
        .map_err(decode_error)?;
    if width > MAX_DIMENSION || height > MAX_DIMENSION {
        return Err(AvatarError::TooManyPixels);
    }
    Ok(format)
}

/// A reader of `bytes` as `format`, within the pixel and memory limits.
fn reader(bytes: &[u8], format: ImageFormat) -> ImageReader<Cursor<&[u8]>> {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_DIMENSION);
    limits.max_image_height = Some(MAX_DIMENSION);
    limits.max_alloc = Some(MAX_ALLOC);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits);
    reader
}

/// Checks an upload ([`inspect`]), decodes it within [`MAX_ALLOC`], lets `shrink` make it
/// smaller, and applies the EXIF rotation to the result (not to the full-size image, which
/// would take a second copy of it). `shrink` must fit into a square box, so that rotating
/// after it gives what rotating first would. CPU-bound, like [`process`].
pub fn decode_shrunk(
    bytes: &[u8],
    shrink: impl FnOnce(DynamicImage) -> DynamicImage,
) -> Result<DynamicImage, AvatarError> {
    let format = inspect(bytes)?;
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_ALLOC);
    let mut decoder = reader(bytes, format).into_decoder().map_err(decode_error)?;
    limits
        .reserve(decoder.total_bytes())
        .map_err(decode_error)?;
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let image = DynamicImage::from_decoder(decoder).map_err(decode_error)?;
    let mut image = shrink(image);
    image.apply_orientation(orientation);
    Ok(image)
}

/// Maps a decoding failure to what the user is told.
fn decode_error(error: ImageError) -> AvatarError {
    match error {
        ImageError::Limits(_) => AvatarError::TooManyPixels,
        _ => AvatarError::Corrupt,
    }
}

/// Saves a processed avatar as `<dir>/<user_id>-<16 random hex digits>.png` (atomically, via a
/// temporary file) and returns the file name to keep on the user.
pub async fn store(dir: &Path, user_id: i32, png: &[u8]) -> Result<String, AvatarError> {
    let name = format!("{user_id}-{:016x}.png", rand::random::<u64>());
    write_atomically(dir, &name, png).await?;
    Ok(name)
}

/// Writes `<dir>/<name>` through a temporary file, so a reader never sees half a file.
pub async fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), AvatarError> {
    tokio::fs::create_dir_all(dir).await?;
    let temporary = dir.join(format!(".{name}.tmp"));
    let written = async {
        tokio::fs::write(&temporary, bytes).await?;
        tokio::fs::rename(&temporary, dir.join(name)).await
    }
    .await;
    if written.is_err() {
        let _ = tokio::fs::remove_file(&temporary).await;
    }
    Ok(written?)
}

/// Deletes a stored avatar; a missing file is fine, and a name [`is_valid_name`] refuses is
/// left alone.
pub async fn remove(dir: &Path, name: &str) -> Result<(), AvatarError> {
    if !is_valid_name(name) {
        return Ok(());
    }
    match tokio::fs::remove_file(dir.join(name)).await {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error.into()),
        _ => Ok(()),
    }
}

/// Whether a name has the shape [`store`] gives (`^\d+-[0-9a-f]{16}\.png$`), so serving or
/// deleting it cannot escape the avatar directory.
pub fn is_valid_name(name: &str) -> bool {
    let Some((user_id, random)) = name
        .strip_suffix(".png")
        .and_then(|stem| stem.split_once('-'))
    else {
        return false;
    };
    !user_id.is_empty()
        && user_id.bytes().all(|b| b.is_ascii_digit())
        && random.len() == 16
        && random
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GenericImageView, RgbImage};

    /// Encodes a gradient of the given size in the given format.
    fn sample(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
        let image = RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
        });
        let mut bytes = Cursor::new(Vec::new());
        DynamicImage::from(image)
            .write_to(&mut bytes, format)
            .unwrap();
        bytes.into_inner()
    }

    /// Asserts that bytes are a SIZE×SIZE PNG.
    fn assert_avatar(png: &[u8]) {
        assert_eq!(image::guess_format(png).unwrap(), ImageFormat::Png);
        let decoded = image::load_from_memory(png).unwrap();
        assert_eq!(decoded.dimensions(), (SIZE, SIZE));
    }

    #[test]
    fn accepts_png_jpeg_gif_and_webp() {
        for format in [
            ImageFormat::Png,
            ImageFormat::Jpeg,
            ImageFormat::Gif,
            ImageFormat::WebP,
        ] {
            let avatar = process(&sample(40, 30, format)).unwrap();
            assert_avatar(&avatar);
        }
    }

    #[test]
    fn crops_and_shrinks_a_big_image() {
        let started = std::time::Instant::now();
        let avatar = process(&sample(2000, 1000, ImageFormat::Png)).unwrap();
        eprintln!("processing 2000x1000 took {:?}", started.elapsed());
        assert_avatar(&avatar);
    }

    #[test]
    fn rejects_what_is_not_an_image() {
        assert!(matches!(process(b""), Err(AvatarError::Empty)));
        assert!(matches!(process(b"hello"), Err(AvatarError::NotAnImage)));
        let svg = br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>"#;
        assert!(matches!(process(svg), Err(AvatarError::NotAnImage)));
        // BMP is recognised by its magic bytes but not accepted.
        let mut bmp = b"BM".to_vec();
        bmp.resize(64, 0);
        assert!(matches!(process(&bmp), Err(AvatarError::NotAnImage)));
    }

    #[test]
    fn rejects_a_damaged_png() {
        let mut png = sample(40, 30, ImageFormat::Png);
        png.truncate(60);
        assert!(matches!(process(&png), Err(AvatarError::Corrupt)));
    }

    #[test]
    fn rejects_too_many_bytes() {
        let mut big = sample(4, 4, ImageFormat::Png);
        big.resize(MAX_UPLOAD_BYTES + 1, 0);
        assert!(matches!(process(&big), Err(AvatarError::TooLarge)));
    }

    #[test]
    fn rejects_more_pixels_than_the_limit_from_the_header() {
        let wide = sample(MAX_DIMENSION + 1, 2, ImageFormat::Png);
        assert!(matches!(inspect(&wide), Err(AvatarError::TooManyPixels)));
        assert!(matches!(process(&wide), Err(AvatarError::TooManyPixels)));
        let edge = sample(MAX_DIMENSION, 2, ImageFormat::Png);
        assert!(matches!(inspect(&edge), Ok(ImageFormat::Png)));
        assert_avatar(&process(&edge).unwrap());
    }

    #[test]
    fn rotation_is_applied_after_shrinking() {
        // What `shrink` gets is the stored (unrotated) image.
        let tall = sample(30, 60, ImageFormat::Png);
        let shrunk = decode_shrunk(&tall, |image| {
            assert_eq!(image.dimensions(), (30, 60));
            image.thumbnail(15, 15)
        })
        .unwrap();
        assert_eq!(shrunk.dimensions(), (8, 15));
    }

    #[test]
    fn rejects_a_decompression_bomb_header() {
        // A PNG signature and an IHDR claiming 100000×100000 pixels, with a valid CRC.
        let mut chunk = b"IHDR".to_vec();
        chunk.extend(100_000u32.to_be_bytes());
        chunk.extend(100_000u32.to_be_bytes());
        chunk.extend([8, 6, 0, 0, 0]);
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend(13u32.to_be_bytes());
        png.extend(&chunk);
        png.extend(crc32(&chunk).to_be_bytes());
        assert!(matches!(process(&png), Err(AvatarError::TooManyPixels)));
    }

    /// CRC-32 as PNG chunks use it.
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &byte in bytes {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[tokio::test]
    async fn stores_and_removes() {
        let dir = tempfile::tempdir().unwrap();
        let avatars = dir.path().join("avatars");
        let png = process(&sample(10, 10, ImageFormat::Png)).unwrap();
        let first = store(&avatars, 42, &png).await.unwrap();
        let second = store(&avatars, 42, &png).await.unwrap();
        assert!(is_valid_name(&first) && first.starts_with("42-"));
        assert_ne!(first, second);
        assert_eq!(std::fs::read(avatars.join(&first)).unwrap(), png);
        assert_eq!(
            std::fs::read_dir(&avatars).unwrap().count(),
            2,
            "no temporary left"
        );
        remove(&avatars, &first).await.unwrap();
        assert!(!avatars.join(&first).exists());
        remove(&avatars, &first).await.unwrap(); // already gone: fine
        assert!(avatars.join(&second).exists());
    }

    #[test]
    fn valid_names() {
        assert!(is_valid_name("42-0123456789abcdef.png"));
        for bad in [
            "../x.png",
            "../42-0123456789abcdef.png",
            "42-0123456789abcdef.png/..",
            "42-0123456789ABCDEF.png",
            "42-0123456789abcde.png",
            "-0123456789abcdef.png",
            "x-0123456789abcdef.png",
            "42-0123456789abcdef.jpg",
            "42-0123456789abcdef",
            "42-01234567-9abcdef.png",
            "",
        ] {
            assert!(!is_valid_name(bad), "{bad:?}");
        }
    }
}
