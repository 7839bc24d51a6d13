//! Video files made with ffmpeg from the shared photos, for the video and RTSP camera tests.

use std::path::Path;

use super::face;

/// A 640x480 Motion JPEG video at 10 frames a second showing each photo for its seconds.
pub fn make_video(path: &Path, stills: &[(&str, u32)]) {
    let mut ffmpeg = std::process::Command::new("ffmpeg");
    ffmpeg.args(["-nostdin", "-loglevel", "error", "-y"]);
    let mut filter = String::new();
    for (i, (photo, seconds)) in stills.iter().enumerate() {
        ffmpeg
            .args(["-loop", "1", "-t", &seconds.to_string(), "-i"])
            .arg(face(photo));
        filter.push_str(&format!("[{i}]scale=640:480,setsar=1[s{i}];"));
    }
    for i in 0..stills.len() {
        filter.push_str(&format!("[s{i}]"));
    }
    filter.push_str(&format!("concat=n={}:v=1[v]", stills.len()));
    let made = ffmpeg
        .args([
            "-filter_complex",
            &filter,
            "-map",
            "[v]",
            "-r",
            "10",
            "-c:v",
            "mjpeg",
            "-q:v",
            "3",
        ])
        .arg(path)
        .output()
        .expect("ffmpeg (Debian's package) must be installed");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
}
