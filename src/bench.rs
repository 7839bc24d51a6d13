//! `rollcall bench`: embedded pipeline throughput against the raw cost of detection + embedding.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use image::RgbImage;
use image::imageops::FilterType;

use crate::config::Config;
use crate::eval::labelled_photos;
use crate::vision::{FaceEngine, decode_image};

/// Builds `count` 640x480 JPEG frames, each holding one face from `faces`, into `dir`.
pub fn make_frames(faces: &Path, dir: &Path, count: usize) -> anyhow::Result<usize> {
    let photos = labelled_photos(faces)?;
    anyhow::ensure!(!photos.is_empty(), "no photos under {}", faces.display());
    std::fs::create_dir_all(dir)?;
    let mut sources = Vec::new();
    for (_, path) in &photos {
        let image = decode_image(&std::fs::read(path)?, 100_000_000)?;
        // Fit into 640x480 on a grey canvas: what a door camera frame looks like in size.
        let scale = (640.0 / image.width() as f32).min(480.0 / image.height() as f32);
        let (w, h) = (
            (image.width() as f32 * scale) as u32,
            (image.height() as f32 * scale) as u32,
        );
        let small = image::imageops::resize(&image, w.max(1), h.max(1), FilterType::Triangle);
        let mut canvas = RgbImage::from_pixel(640, 480, image::Rgb([96, 96, 96]));
        image::imageops::overlay(&mut canvas, &small, i64::from((640 - w) / 2), i64::from((480 - h) / 2));
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85).encode_image(&canvas)?;
        sources.push(jpeg);
    }
    for i in 0..count {
        std::fs::write(dir.join(format!("frame-{i:05}.jpg")), &sources[i % sources.len()])?;
    }
    Ok(sources.len())
}

pub async fn pipeline_benchmark(config: &Config, faces: &Path, count: usize) -> anyhow::Result<String> {
    let work = tempfile::tempdir()?;
    let camera_dir = work.path().join("cameras/bench-door");
    let distinct = make_frames(faces, &camera_dir, count)?;
    let frames: Vec<Vec<u8>> = crate::stages::ingest::list_frames(&camera_dir)?
        .iter()
        .map(std::fs::read)
        .collect::<Result<_, _>>()?;

    // Raw: one engine, one thread, decode excluded, detection + alignment + embedding.
    let raw_config = config.clone();
    let raw_frames = frames.clone();
    let (raw_secs, decode_secs, faces_found) =
        tokio::task::spawn_blocking(move || -> anyhow::Result<(f64, f64, usize)> {
            let mut engine = FaceEngine::load(&raw_config)?;
            let t = Instant::now();
            let images: Vec<RgbImage> = raw_frames
                .iter()
                .map(|b| decode_image(b, u64::MAX))
                .collect::<Result<_, _>>()?;
            let decode = t.elapsed().as_secs_f64();
            engine.analyze(&images[0])?;
            let t = Instant::now();
            let mut found = 0;
            for image in &images {
                found += engine.analyze(image)?.len();
            }
            Ok((t.elapsed().as_secs_f64(), decode, found))
        })
        .await
        .context("raw benchmark panicked")??;

    let mut lines = vec![
        format!("frames: {count} one-face 640x480 JPEGs made from {distinct} photos; faces found {faces_found}"),
        format!(
            "raw detect+align+embed, 1 thread:  {:.1} frames/s ({:.2} ms/frame; decode alone {:.2} ms/frame)",
            count as f64 / raw_secs,
            raw_secs * 1000.0 / count as f64,
            decode_secs * 1000.0 / count as f64
        ),
    ];
    let raw_fps = count as f64 / raw_secs;
    for workers in [1, 2] {
        let mut c = config.clone();
        c.recognize.workers = workers;
        c.ingest.cameras_dir = work.path().join("cameras");
        c.ingest.cameras.clear();
        c.ingest.fps = 0.0;
        c.store.url = format!(
            "sqlite://{}?mode=rwc",
            work.path().join(format!("bench-{workers}.db")).display()
        );
        let t = Instant::now();
        let summary = crate::pipeline::run_embedded(&c, tokio_util::sync::CancellationToken::new()).await?;
        let secs = t.elapsed().as_secs_f64();
        let fps = summary.ingest.frames as f64 / secs;
        lines.push(format!(
            "embedded pipeline, {workers} worker(s): {fps:.1} frames/s end to end (incl. model loading, decode, store); ratio to raw: {:.2}",
            fps / raw_fps
        ));
    }
    Ok(lines.join("\n"))
}
